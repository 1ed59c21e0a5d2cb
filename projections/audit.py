"""The audit log (one row per event, with a readable summary) and the audit seal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import psycopg

from domain.envelope import AggregateCreated
from domain.seal import GENESIS, next_seal
from projections.processor import Changes, Entry, RawEntry, Tables

__all__ = ["ENVELOPE_KEYS", "AuditLogProjection", "AuditRow", "AuditSealProjection"]

_encode = msgspec.json.Encoder().encode


class AuditRow(msgspec.Struct, kw_only=True):
    position: int
    time: datetime
    type: str
    aggregate_id: UUID
    aggregate_version: int
    aggregate_type: str
    actor: str
    tenant: str
    correlation_id: str
    causation_id: str
    summary: str


# What readers strip from the stored event for its `data`: keys with their own columns.
ENVELOPE_KEYS = ("type", *AggregateCreated.__struct_fields__)


class AuditLogProjection:
    name = "audit_log"
    tables: tuple[str, ...] = ("synaps_audit_log",)
    topics: tuple[str, ...] | None = None
    decodes = True

    def apply(self, cur: psycopg.Cursor[Any], entries: Sequence[Entry], tables: Tables) -> Changes:
        table = tables["synaps_audit_log"]
        rows = [
            AuditRow(
                position=entry.position,
                time=(event := entry.event).timestamp,
                type=type(event).__name__,
                aggregate_id=event.originator_id,
                aggregate_version=event.originator_version,
                aggregate_type=event.aggregate_type or "unknown",
                actor=event.actor,
                tenant=event.tenant,
                correlation_id=event.correlation_id,
                causation_id=event.causation_id,
                summary=event.summary(),
            )
            for entry in entries
        ]
        cur.execute(
            f"INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, %s::json)"
            " ON CONFLICT (position) DO NOTHING",
            (_encode(rows).decode(),),
        )
        changes = Changes()
        changes.ids["events"] = {row.correlation_id for row in rows}
        return changes


class AuditSealProjection:
    name = "audit_seal"
    tables: tuple[str, ...] = ("synaps_audit_seal",)
    topics: tuple[str, ...] | None = None
    decodes = False

    def apply(
        self, cur: psycopg.Cursor[Any], entries: Sequence[RawEntry], tables: Tables
    ) -> Changes:
        table = tables["synaps_audit_seal"]
        last = cur.execute(
            f"SELECT position, seal FROM {table} ORDER BY position DESC LIMIT 1"
        ).fetchone()
        position, seal = (int(last[0]), bytes(last[1])) if last else (0, GENESIS)
        positions: list[int] = []
        seals: list[bytes] = []
        for e in entries:
            if e.position <= position:
                continue  # sealed before: a re-delivery
            seal = next_seal(
                seal, e.position, e.originator_id, e.originator_version, e.topic, e.state
            )
            position = e.position
            positions.append(position)
            seals.append(seal)
        if positions:
            cur.execute(
                f"INSERT INTO {table} (position, seal)"
                " SELECT * FROM unnest(%s::bigint[], %s::bytea[])",
                (positions, seals),
            )
        return Changes()
