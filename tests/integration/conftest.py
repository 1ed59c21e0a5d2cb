"""Fixtures for tests against local servers that speak real wire protocols."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
