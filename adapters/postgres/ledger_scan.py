"""Streams the stored ledger (and the seal table) for audits, with server-side cursors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import psycopg

from adapters.postgres.mapper import MsgspecMapper
from domain.envelope import AggregateEvent
from services.audit import StoredEntry

__all__ = ["PostgresLedgerScan"]


class PostgresLedgerScan:
    def __init__(self, conninfo: str, mapper: MsgspecMapper | None = None) -> None:
        self._conninfo = conninfo
        self._mapper = mapper or MsgspecMapper()

    def entries(
        self, from_position: int | None, until_position: int | None, aggregate_id: UUID | None
    ) -> Iterator[StoredEntry]:
        where: list[str] = ["true"]
        params: list[Any] = []
        if from_position is not None:
            where.append("notification_id >= %s")
            params.append(from_position)
        if until_position is not None:
            where.append("notification_id <= %s")
            params.append(until_position)
        if aggregate_id is not None:
            where.append("originator_id = %s")
            params.append(aggregate_id)
        sql = (
            "SELECT notification_id, originator_id, originator_version, topic, state"
            f" FROM synaps_events WHERE {' AND '.join(where)} ORDER BY notification_id"
        )
        for row in self._stream(sql, params):
            yield StoredEntry(row[0], row[1], row[2], row[3], bytes(row[4]))

    def decode(self, entry: StoredEntry) -> AggregateEvent:
        return self._mapper.decode(entry.topic, entry.state)

    def seals(self, from_position: int | None) -> Iterator[tuple[int, bytes]]:
        sql = "SELECT position, seal FROM synaps_audit_seal"
        params: list[Any] = []
        if from_position is not None:
            sql += " WHERE position >= %s"
            params.append(from_position)
        for row in self._stream(sql + " ORDER BY position", params):
            yield int(row[0]), bytes(row[1])

    def seal_before(self, position: int) -> tuple[int, bytes] | None:
        with psycopg.connect(self._conninfo) as conn:
            row = conn.execute(
                "SELECT position, seal FROM synaps_audit_seal WHERE position < %s"
                " ORDER BY position DESC LIMIT 1",
                (position,),
            ).fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def _stream(self, sql: str, params: list[Any]) -> Iterator[tuple[Any, ...]]:
        with (
            psycopg.connect(self._conninfo) as conn,
            conn.transaction(),
            conn.cursor(name="synaps_audit_scan") as cur,
        ):
            cur.itersize = 2000
            cur.execute(sql.encode(), params)
            yield from cur
