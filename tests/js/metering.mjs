// metering.mjs runs Marketplace Metering calls with the AWS SDK for
// JavaScript v3 and prints what the SDK returned, as a JSON array on stdout,
// one result per call:
//
//	{"op": "MeterUsage", "output": {...}}                      on success
//	{"op": "MeterUsage", "error": {"name", "status", "message"}} on failure
//
// Calls are read from stdin as a JSON array of {"op", "input"}; usage
// timestamps are given as RFC 3339 strings and passed to the SDK as Date
// objects, as applications do. The endpoint is the first argument, or, when
// it is absent, whatever the SDK's own configuration gives (for example
// AWS_ENDPOINT_URL_MARKETPLACE_METERING). Credentials and region come from
// the usual AWS_* environment variables.
//
//	echo '[{"op":"RegisterUsage","input":{"ProductCode":"p","PublicKeyVersion":1}}]' |
//	    node metering.mjs http://127.0.0.1:8089
import {
  BatchMeterUsageCommand,
  MarketplaceMeteringClient,
  MeterUsageCommand,
  RegisterUsageCommand,
  ResolveCustomerCommand,
} from "@aws-sdk/client-marketplace-metering";

const commands = {
  MeterUsage: MeterUsageCommand,
  BatchMeterUsage: BatchMeterUsageCommand,
  ResolveCustomer: ResolveCustomerCommand,
  RegisterUsage: RegisterUsageCommand,
};

// withDates turns the RFC 3339 usage timestamps of an input into Dates.
function withDates(input) {
  const out = structuredClone(input);
  if (typeof out.Timestamp === "string") {
    out.Timestamp = new Date(out.Timestamp);
  }
  for (const record of out.UsageRecords ?? []) {
    if (typeof record.Timestamp === "string") {
      record.Timestamp = new Date(record.Timestamp);
    }
  }
  return out;
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

const endpoint = process.argv[2];
const client = new MarketplaceMeteringClient({
  ...(endpoint ? { endpoint } : {}),
  // One attempt per call: a replayed throttle is an answer, not a reason to
  // wait and retry.
  maxAttempts: 1,
});

const calls = JSON.parse(await readStdin());
const results = [];
for (const { op, input } of calls) {
  const Command = commands[op];
  if (!Command) {
    throw new Error(`unknown operation ${op}`);
  }
  try {
    const { $metadata, ...output } = await client.send(new Command(withDates(input)));
    results.push({ op, output });
  } catch (err) {
    results.push({
      op,
      error: { name: err.name, status: err.$metadata?.httpStatusCode ?? 0, message: err.message },
    });
  }
}
client.destroy();
process.stdout.write(JSON.stringify(results) + "\n");
