"""The identity read models equal what the ledger says, row for row (they are
rebuildable from it), and a lost race writes nothing."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from litestar.testing import TestClient

from domain.api_key import ApiKey
from domain.session import Session
from domain.user import User
from projections.identity import ApiKeyRow, SessionRow, UserRow, identity_row
from synaps.bootstrap import Container
from synaps.wiring import api_app

pytestmark = pytest.mark.integration

TABLES: dict[str, tuple[type[Any], str]] = {
    "synaps_api_keys": (ApiKeyRow, "key_id"),
    "synaps_users": (UserRow, "user_id"),
    "synaps_sessions": (SessionRow, "session_id"),
}


def table_rows(database_url: str, table: str) -> list[Any]:
    row_type, key = TABLES[table]
    fields = row_type.__struct_fields__
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(f"SELECT {', '.join(fields)} FROM {table} ORDER BY {key}").fetchall()
    return [row_type(**dict(zip(fields, r, strict=True))) for r in rows]


def rebuilt(container: Container, database_url: str, table: str) -> list[Any]:
    kind = {"synaps_api_keys": ApiKey, "synaps_users": User, "synaps_sessions": Session}[table]
    with psycopg.connect(database_url) as conn:
        ids = [r[0] for r in conn.execute("SELECT DISTINCT originator_id FROM synaps_events")]
    aggregates = container.ledger.get_many(ids).values()
    rows = [identity_row(a) for a in aggregates if isinstance(a, kind)]
    return sorted(rows, key=lambda r: str(getattr(r, TABLES[table][1])))


def test_identity_tables_equal_their_rebuild_from_the_ledger(
    container: Container, admin_key: str, database_url: str
) -> None:
    with TestClient(api_app(container), base_url="https://testserver.local") as c:
        admin = {"X-API-Key": admin_key}
        for key_type in ("live", "test", "admin"):
            key_id = c.post("/v1/keys", json={"type": key_type}, headers=admin).json()["key_id"]
        c.post(f"/v1/keys/{key_id}/revoke", headers=admin)
        body = {"email": "ann@example.com", "password": "a long enough password"}
        c.post("/v1/users", json={**body, "roles": ["operator"]}, headers=admin)
        c.post("/v1/users", json={"email": "bob@example.com", "roles": ["viewer"]}, headers=admin)
        first = c.post("/v1/auth/login", json=body).json()
        c.post("/v1/auth/login", json=body)
        c.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        c.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})  # reuse
        again = c.post("/v1/users", json={**body, "roles": ["viewer"]}, headers=admin)
        assert again.status_code == 409 and again.json()["code"] == "already_exists"
    for table in TABLES:
        live = table_rows(database_url, table)
        assert live, table
        assert sorted(live, key=lambda r: str(getattr(r, TABLES[table][1]))) == rebuilt(
            container, database_url, table
        ), table
    sessions = table_rows(database_url, "synaps_sessions")
    assert sorted(s.revoked_reason or "" for s in sessions) == ["", "refresh_token_reused"]
