# conftest.py: a boto3 client for the AWS Marketplace Metering API, answered
# by `metervcr replay --strict` from a recorded cassette. The session fails
# when a call had no recording or a recording was never used.
import os
import socket
import subprocess
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config

CASSETTE = os.environ.get("METERVCR_CASSETTE", "testdata/metering.yaml")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def metering():
    address = f"127.0.0.1:{free_port()}"
    url = f"http://{address}"
    proxy = subprocess.Popen(
        ["metervcr", "replay", "--strict", "--cassette", CASSETTE, "--listen", address])
    try:
        wait_until_serving(proxy, url)
        yield boto3.client(
            "meteringmarketplace",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="test",  # replay ignores the signature
            aws_secret_access_key="test",
            # A replayed throttle is an answer: one attempt, no retry.
            config=Config(retries={"total_max_attempts": 1}),
        )
    finally:
        proxy.terminate()
        code = proxy.wait(timeout=10)
    if code != 0:
        pytest.fail(f"metervcr replay --strict exited {code}: a call had no recording, "
                    "or a recording was never used; its summary above says which")


def wait_until_serving(proxy, url):
    # No HTTP_PROXY for the health probe: it must reach 127.0.0.1 directly.
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 10
    while True:
        try:
            direct.open(f"{url}/_metervcr/health", timeout=1).close()
            return
        except OSError:
            if proxy.poll() is not None:
                pytest.fail(f"metervcr replay exited {proxy.returncode} before serving; see its log above")
            if time.monotonic() > deadline:
                pytest.fail(f"metervcr replay did not answer on {url} within 10s")
            time.sleep(0.05)
