"""An S3-compatible endpoint on loopback (moto's server) and a lake on it, for every step that runs without Spark.

The server is one per session (it starts in about half a second); each test gets its own bucket and the
settings pointing at the endpoint. Credentials are the AWS variables, as in a pod (runtime.lake_secret).
"""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture(scope="session")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_lake(s3_endpoint, monkeypatch) -> str:
    """``s3a://<fresh bucket>/lake``, with the object store settings and credentials set for this test."""
    import boto3

    from llmops.config import settings

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-only")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-only")
    monkeypatch.setenv("LLMOPS__OBJECT_STORE__ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("LLMOPS__OBJECT_STORE__MAX_ATTEMPTS", "1")
    bucket = f"lake-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    settings.cache_clear()
    yield f"s3a://{bucket}/lake"
    settings.cache_clear()
