"""Inputs the fuzzer found: accepted or refused with a 4xx, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from synaps.bootstrap import Container
from synaps.wiring import api_app

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        # UTC offsets beyond PostgreSQL's ±15:59 are made UTC
        (
            "POST",
            "/v1/commands/submit",
            {"kind": "noop", "not_before": "2030-01-01T23:28:46-17:20"},
            201,
        ),
        ("POST", "/v1/keys", {"type": "live", "expires_at": "7262-10-09T05:00:42+21:09"}, 201),
        (
            "POST",
            "/v1/commands/submit",
            {"kind": "noop", "not_before": "9999-12-31T23:59:59-17:00"},
            422,
        ),
        # NUL and other control characters never reach a read model
        ("POST", "/v1/users", {"email": "a\u0000b@example.com"}, 422),
        ("POST", "/v1/keys", {"type": "test", "name": "ci\u0000"}, 422),
        ("GET", "/v1/users?tenant=%00x", None, 422),
    ],
)
def test_odd_input_is_a_4xx_or_accepted(
    container: Container, admin_key: str, method: str, path: str, body: Any, status: int
) -> None:
    with TestClient(api_app(container)) as client:
        r = client.request(method, path, json=body, headers={"X-API-Key": admin_key})
        assert r.status_code == status, r.text
        unauthenticated = client.get("/v1/runs/%00")
        assert unauthenticated.status_code in (401, 404)
