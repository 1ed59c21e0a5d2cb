"""Reads of the effective control registry (the control projection)."""

from __future__ import annotations

from typing import Any

import msgspec
import psycopg
from psycopg_pool import ConnectionPool

from projections.control import Snapshot, read_snapshot

__all__ = ["ControlItemSummary", "PostgresControlReads"]


class ControlItemSummary(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    name: str
    active_version: int | None
    versions: int


class PostgresControlReads:
    def __init__(self, pool: ConnectionPool[psycopg.Connection[Any]]) -> None:
        self._pool = pool

    def snapshot(self, tenant: str) -> Snapshot:
        with self._pool.connection() as conn, conn.cursor() as cur:
            return read_snapshot(cur, tenant)

    def items(self, tenant: str, kind: str | None = None) -> list[ControlItemSummary]:
        sql = (
            "SELECT kind, name, active_version, (SELECT count(*) FROM jsonb_object_keys(versions))"
            " FROM synaps_control_items WHERE tenant = %s"
        )
        params: list[Any] = [tenant]
        if kind:
            sql += " AND kind = %s"
            params.append(kind)
        with self._pool.connection() as conn:
            rows = conn.execute(sql + " ORDER BY kind, name", params).fetchall()
        return [
            ControlItemSummary(kind=k, name=n, active_version=a, versions=int(v))
            for k, n, a, v in rows
        ]
