"""Each key type against each endpoint class, through the real middleware and ledger:
allowed or denied as specified, and every refusal an event in the ledger."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar, get, post
from litestar.middleware import DefineMiddleware
from litestar.testing import TestClient

from adapters.http.access import AccessMiddleware
from adapters.http.problems import EXCEPTION_HANDLERS
from synaps.bootstrap import Container
from synaps.wiring import api_app
from tests.integration.identity_fixtures import events_of, issue_key

pytestmark = pytest.mark.integration


@get("/v1/control/prompts", sync_to_thread=False)
def read_control() -> dict[str, str]:
    return {"ok": "read"}


@post("/v1/control/prompts", sync_to_thread=False, status_code=200)
def write_control() -> dict[str, str]:
    return {"ok": "written"}


@pytest.fixture
def client(container: Container) -> Iterator[TestClient[Any]]:
    with TestClient(api_app(container)) as c:
        yield c


@pytest.fixture
def control_client(container: Container) -> Iterator[TestClient[Any]]:
    """Control routes do not exist yet: a stand-in app with the same middleware shows the
    declared rules already govern them."""
    services = api_app(container).state["services"]
    app = Litestar(
        route_handlers=[read_control, write_control],
        middleware=[DefineMiddleware(AccessMiddleware, access=services.access)],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    with TestClient(app) as c:
        yield c


def calls(client: TestClient[Any], control: TestClient[Any], key: str) -> dict[str, int]:
    """One call per endpoint class; the status each got."""
    h = {"X-API-Key": key}
    run_id = uuid.uuid4()
    return {
        "read": client.get(f"/v1/runs/{run_id}", headers=h).status_code,
        "stats": client.get("/v1/queue/stats", headers=h).status_code,
        "write": client.post("/v1/commands/submit", json={"kind": "noop"}, headers=h).status_code,
        "cancel": client.post(f"/v1/runs/{run_id}/cancel", headers=h).status_code,
        "queue": client.post("/v1/queue/claim", json={"worker_id": "w"}, headers=h).status_code,
        "control_read": control.get("/v1/control/prompts", headers=h).status_code,
        "control_write": control.post("/v1/control/prompts", headers=h).status_code,
        "keys": client.get("/v1/keys", headers=h).status_code,
        "keys_create": client.post("/v1/keys", json={"type": "test"}, headers=h).status_code,
        "users": client.get("/v1/users", headers=h).status_code,
        "whoami": client.get("/v1/auth/whoami", headers=h).status_code,
    }


ALLOWED = {"read": 404, "stats": 200, "write": 201, "cancel": 404, "queue": 200}
ALLOWED |= {"control_read": 200, "control_write": 200, "keys": 200, "keys_create": 201}
ALLOWED |= {"users": 200, "whoami": 200}


def expect(denied: set[str]) -> dict[str, int]:
    return {name: 403 if name in denied else status for name, status in ALLOWED.items()}


MANAGEMENT = {"keys", "keys_create", "users"}


@pytest.mark.parametrize(
    ("body", "denied"),
    [
        ({"type": "admin"}, set()),
        ({"type": "live"}, {"queue", *MANAGEMENT}),
        ({"type": "live", "scopes": ["read", "write", "worker"]}, MANAGEMENT),
        (
            {"type": "live", "scopes": ["worker"]},
            {"read", "stats", "write", "cancel", "control_read", "control_write", *MANAGEMENT},
        ),
        ({"type": "test"}, {"write", "cancel", "queue", "control_write", *MANAGEMENT}),
    ],
    ids=["admin", "live", "live+worker", "worker-only", "test"],
)
def test_each_key_type_against_each_endpoint_class(
    client: TestClient[Any],
    control_client: TestClient[Any],
    container: Container,
    admin_key: str,
    database_url: str,
    body: dict[str, Any],
    denied: set[str],
) -> None:
    key = issue_key(container, admin_key, client, **body)
    assert calls(client, control_client, key) == expect(denied)
    refusals = events_of(database_url, "PermissionDenied")
    assert len(refusals) == len(denied)
    for event in refusals:
        assert event["actor"].startswith("key:") and event["ip"] == "testclient"
        assert event["user_agent"] == "testclient" and event["correlation_id"].startswith("req_")


def test_without_valid_credentials_everything_but_health_is_401_and_recorded(
    client: TestClient[Any], container: Container, admin_key: str, database_url: str
) -> None:
    for headers in ({}, {"X-API-Key": "sk_live_" + "x" * 43}, {"Authorization": "Basic abc"}):
        r = client.get(f"/v1/runs/{uuid.uuid4()}", headers=headers)
        assert r.status_code == 401, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"} <= set(r.headers)
    for path in ("/healthz", "/readyz", "/metrics"):
        assert client.get(path).status_code == 200
        assert "ratelimit-limit" not in client.get(path).headers
    assert client.get("/").status_code == 200
    failures = events_of(database_url, "AuthenticationFailed")
    assert [e["reason"] for e in failures] == [
        "missing_credentials",
        "invalid_api_key",
        "missing_credentials",
    ]
    assert failures[1]["credential"] == "sk_live_…xxxx"  # a hint, never the key
    assert all(
        e["ip"] == "testclient" and e["action"].startswith("GET /v1/runs/") for e in failures
    )


def test_revocation_applies_within_a_second_even_with_the_cache(
    database_url: str, admin_key: str
) -> None:
    import time

    from synaps.bootstrap import build
    from tests.conftest import ADMIN_KEY, settings_for_tests

    cached = build(settings_for_tests(database_url, auth_cache_seconds=1.0))
    cached.identity.keys.ensure_bootstrap_key(ADMIN_KEY)
    try:
        with TestClient(api_app(cached)) as c:
            issued = c.post("/v1/keys", json={"type": "live"}, headers={"X-API-Key": ADMIN_KEY})
            key, key_id = issued.json()["key"], issued.json()["key_id"]
            assert c.get("/v1/queue/stats", headers={"X-API-Key": key}).status_code == 200
            revoked = c.post(f"/v1/keys/{key_id}/revoke", headers={"X-API-Key": ADMIN_KEY})
            assert revoked.status_code == 200 and revoked.json()["revoked_at"]
            time.sleep(1.05)
            r = c.get("/v1/queue/stats", headers={"X-API-Key": key})
            assert r.status_code == 401 and r.json()["code"] == "api_key_revoked"
    finally:
        cached.close()


def test_keys_are_shown_once_and_only_as_hints_after(
    client: TestClient[Any], container: Container, admin_key: str, database_url: str
) -> None:
    key = issue_key(container, admin_key, client, type="live", name="ci")
    listed = client.get("/v1/keys", headers={"X-API-Key": admin_key})
    assert key not in listed.text and f"sk_live_…{key[-4:]}" in listed.text
    with __import__("psycopg").connect(database_url) as conn:
        stored = conn.execute(
            "SELECT string_agg(convert_from(state, 'UTF8'), '') FROM synaps_events"
        )
        assert key not in stored.fetchone()[0]


def test_no_one_grants_what_they_lack_nor_reaches_another_tenant(
    client: TestClient[Any], container: Container, admin_key: str, database_url: str
) -> None:
    tenant_admin = issue_key(container, admin_key, client, type="admin", tenant="acme")
    h = {"X-API-Key": tenant_admin}
    assert client.post("/v1/keys", json={"type": "live"}, headers=h).json()["tenant"] == "acme"
    other = client.post("/v1/keys", json={"type": "live", "tenant": "globex"}, headers=h)
    assert other.status_code == 403
    escalate = client.post(
        "/v1/keys", json={"type": "admin", "scopes": ["tenants:manage"]}, headers=h
    )
    assert escalate.status_code == 403
    assert client.get("/v1/keys", params={"tenant": "default"}, headers=h).status_code == 403
    bootstrap_id = client.get("/v1/keys", headers={"X-API-Key": admin_key}).json()["keys"][0]
    gone = client.post(f"/v1/keys/{bootstrap_id['key_id']}/revoke", headers=h)
    assert gone.status_code == 404  # another tenant's key does not exist for acme
    bad = client.post("/v1/keys", json={"type": "test", "scopes": ["root"]}, headers=h)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_request"
    assert len(events_of(database_url, "PermissionDenied")) == 3
