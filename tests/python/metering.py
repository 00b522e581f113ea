"""Run Marketplace Metering calls with boto3 and print what it returned.

Calls are read from stdin as a JSON array of {"op", "input"}; usage
timestamps are given as RFC 3339 strings and passed to boto3 as datetime
objects, as applications do. The result is printed on stdout as a JSON
array, one result per call:

    {"op": "MeterUsage", "output": {...}}                        on success
    {"op": "MeterUsage", "error": {"name", "status", "message"}}  on failure

where name is the error code boto3 reports (ClientError's
response["Error"]["Code"]) and status the HTTP status. The endpoint is the
first argument, or, when it is absent, whatever botocore's own
configuration gives (the real host, reached through HTTPS_PROXY and trusting
AWS_CA_BUNDLE). Credentials and region come from the usual AWS_* environment
variables.

    echo '[{"op":"RegisterUsage","input":{"ProductCode":"p","PublicKeyVersion":1}}]' |
        python3 metering.py http://127.0.0.1:8089
"""

import json
import sys
from datetime import datetime

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

METHODS = {
    "MeterUsage": "meter_usage",
    "BatchMeterUsage": "batch_meter_usage",
    "ResolveCustomer": "resolve_customer",
    "RegisterUsage": "register_usage",
}


def with_datetimes(call_input):
    """Return the input with its RFC 3339 usage timestamps as datetimes."""
    out = json.loads(json.dumps(call_input))
    if isinstance(out.get("Timestamp"), str):
        out["Timestamp"] = parse_time(out["Timestamp"])
    for record in out.get("UsageRecords", []):
        if isinstance(record.get("Timestamp"), str):
            record["Timestamp"] = parse_time(record["Timestamp"])
    return out


def parse_time(text):
    # datetime.fromisoformat reads a trailing "Z" only from Python 3.11 on.
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def main():
    endpoint = sys.argv[1] if len(sys.argv) > 1 else None
    # One attempt per call: a replayed throttle is an answer, not a reason
    # to wait and retry.
    client = boto3.client(
        "meteringmarketplace",
        endpoint_url=endpoint,
        config=Config(retries={"total_max_attempts": 1}),
    )
    results = []
    for call in json.load(sys.stdin):
        op = call["op"]
        method = getattr(client, METHODS[op])
        try:
            output = method(**with_datetimes(call["input"]))
            output.pop("ResponseMetadata", None)
            results.append({"op": op, "output": output})
        except ClientError as err:
            results.append({"op": op, "error": {
                "name": err.response["Error"]["Code"],
                "status": err.response["ResponseMetadata"]["HTTPStatusCode"],
                "message": err.response["Error"].get("Message", ""),
            }})
    json.dump(results, sys.stdout, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
