"""Security decisions land in the audit log like every other event: standard envelope,
ip and user agent in the payload, a readable summary, no secrets."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from eventsourcing.utils import resolve_topic
from litestar.testing import TestClient

from adapters.postgres.mapper import MsgspecMapper
from projections.audit import AuditLogProjection
from projections.processor import Entry
from schemas.views import redacted
from synaps.bootstrap import Container
from synaps.wiring import api_app

pytestmark = pytest.mark.integration


def audit_rows(database_url: str) -> list[tuple[Any, ...]]:
    mapper = MsgspecMapper()
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        stored = cur.execute(
            "SELECT notification_id, topic, state FROM synaps_events ORDER BY notification_id"
        ).fetchall()
        entries = [Entry(r[0], mapper.decode(r[1], bytes(r[2]))) for r in stored]
        AuditLogProjection().apply(cur, entries, {"synaps_audit_log": "synaps_audit_log"})
        rows = cur.execute(
            "SELECT a.type, a.aggregate_type, a.actor, a.tenant, a.correlation_id,"
            " a.causation_id, a.summary, convert_from(e.state, 'UTF8')::jsonb"
            " FROM synaps_audit_log a JOIN synaps_events e ON e.notification_id = a.position"
            " ORDER BY a.position"
        ).fetchall()
        # the event data callers see: stored JSON with secret fields hidden
        return [(*r[:7], redacted(resolve_topic(f"{r[0]}.v1"), r[7])) for r in rows]


def test_every_security_decision_is_a_readable_audit_row(
    container: Container, admin_key: str, database_url: str
) -> None:
    with TestClient(api_app(container), base_url="https://testserver.local") as c:
        admin = {"X-API-Key": admin_key, "X-Request-Id": "req-audit-1", "User-Agent": "cli/1"}
        key = c.post("/v1/keys", json={"type": "test", "name": "ro"}, headers=admin).json()
        c.post("/v1/commands/submit", json={"kind": "noop"}, headers={"X-API-Key": key["key"]})
        c.post(f"/v1/keys/{key['key_id']}/revoke", json={"reason": "rotated"}, headers=admin)
        c.get("/v1/queue/stats", headers={"X-API-Key": key["key"]})
        body = {"email": "ann@example.com", "password": "a long enough password"}
        c.post("/v1/users", json={**body, "roles": ["viewer"]}, headers=admin)
        pair = c.post("/v1/auth/login", json=body).json()
        c.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        c.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    rows = audit_rows(database_url)
    by_type = {r[0]: r for r in rows}
    assert [r[0] for r in rows] == [
        "ApiKeyIssued",  # the bootstrap key
        "ApiKeyIssued",
        "PermissionDenied",
        "ApiKeyRevoked",
        "AuthenticationFailed",
        "UserRegistered",
        "SessionStarted",
        "RefreshTokenRotated",
        "RefreshTokenReused",
        "SessionRevoked",
    ]
    issued = rows[1]
    assert issued[1:6] == (
        "ApiKey", f"key:{rows[0][4]}", "default", key["key_id"], "req-audit-1",
    )  # fmt: skip
    assert issued[6] == f"test key {key['hint']} (ro) issued for tenant default"
    assert issued[7]["ip"] == "testclient" and issued[7]["user_agent"] == "cli/1"
    assert by_type["PermissionDenied"][6].endswith("lacks runs:write from testclient")
    assert by_type["AuthenticationFailed"][6] == (
        f"authentication failed (api_key_revoked) for {key['hint']} on GET /v1/queue/stats"
        " from testclient"
    )
    assert by_type["UserRegistered"][7]["password_hash"] == "[redacted]"
    assert by_type["SessionStarted"][6] == "user ann@example.com logged in from testclient"
    assert "presented again" in by_type["RefreshTokenReused"][6]
    assert all(r[3] and r[4] and r[5] for r in rows if r[0] != "AuthenticationFailed")
