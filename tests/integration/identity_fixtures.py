"""Helpers for tests that go through the access middleware."""

from __future__ import annotations

from typing import Any

import psycopg

from synaps.bootstrap import Container


def issue_key(container: Container, admin_key: str, client: Any, **body: Any) -> str:
    response = client.post("/v1/keys", json=body, headers={"X-API-Key": admin_key})
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


def events_of(database_url: str, *types: str) -> list[dict[str, Any]]:
    """The ledger's events of these types, decoded, in log order."""
    import json

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT state FROM synaps_events WHERE topic = ANY(%s) ORDER BY notification_id",
            ([f"{t}.v1" for t in types],),
        ).fetchall()
    return [json.loads(bytes(r[0])) for r in rows]
