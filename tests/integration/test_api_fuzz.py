"""The whole REST API fuzzed from its own OpenAPI schema (schemathesis), with valid
credentials: no 5xx, and every response (status, content type, body) matches the
schema. Bounded: a few examples per operation, well under a minute in all."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from synaps.bootstrap import Container, build
from synaps.wiring import api_app
from tests.conftest import ADMIN_KEY, settings_for_tests

pytestmark = pytest.mark.integration

_CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
)


@pytest.fixture
def fuzzed_container(database_url: str) -> Iterator[Container]:
    container = build(
        settings_for_tests(
            database_url,
            bootstrap_admin_key=ADMIN_KEY,
            rate_limits_by_role="admin=1000000/minute,1000000/hour",
            ask_wait_seconds=0.2,  # no worker answers here: POST /api/ask waits, bounded
        )
    )
    yield container
    container.close()


def test_every_operation_answers_as_its_schema_says(fuzzed_container: Container) -> None:
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", api_app(fuzzed_container))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def answers_as_documented(case: Any) -> None:
            response = case.call(headers={"X-API-Key": ADMIN_KEY})
            case.validate_response(response, checks=_CHECKS)

        answers_as_documented()
