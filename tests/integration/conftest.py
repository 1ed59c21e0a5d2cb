"""Fixtures for tests against local servers that speak real wire protocols."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.integration.model_api import ModelApi

API_KEY = "sk-test-wire-key"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def model_api() -> Iterator[ModelApi]:
    api = ModelApi(api_key=API_KEY).start()
    yield api
    api.stop()


@pytest.fixture
def second_model_api() -> Iterator[ModelApi]:
    api = ModelApi(api_key=API_KEY).start()
    yield api
    api.stop()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """An S3 API on 127.0.0.1 (moto's server mode), reached over HTTP like any other."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_environ(moto_endpoint: str) -> dict[str, str]:
    """The environment of a process using a fresh, empty bucket on the moto server."""
    environ = {
        "SYNAPS_ARTIFACTS_URL": f"s3://synaps-{uuid.uuid4().hex[:12]}/runs/artifacts",
        "SYNAPS_S3_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "moto-test",
        "AWS_SECRET_ACCESS_KEY": "moto-test-secret",
        "AWS_REGION": "eu-west-1",
    }
    s3_admin(environ).create_bucket(
        Bucket=bucket_of(environ), CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    return environ


def bucket_of(environ: dict[str, str]) -> str:
    return environ["SYNAPS_ARTIFACTS_URL"].removeprefix("s3://").split("/")[0]


def s3_admin(environ: dict[str, str]) -> Any:
    """A plain boto3 client beside the store, to look at and tamper with the bucket."""
    return boto3.client(
        "s3",
        endpoint_url=environ["SYNAPS_S3_ENDPOINT_URL"],
        aws_access_key_id=environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=environ["AWS_SECRET_ACCESS_KEY"],
        region_name=environ["AWS_REGION"],
    )
