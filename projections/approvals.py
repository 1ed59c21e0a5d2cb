"""The approvals read model: pending decisions first, and the record of each decision."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from psycopg.rows import dict_row

from domain.approval import ApprovalDenied, ApprovalGranted, ApprovalRequested
from projections.processor import Changes, Entry, Tables

__all__ = ["ApprovalRow", "ApprovalsProjection"]

_encode = msgspec.json.Encoder().encode
_EVENTS = (ApprovalRequested, ApprovalGranted, ApprovalDenied)


class ApprovalRow(msgspec.Struct, kw_only=True):
    approval_id: UUID
    tenant: str
    run_id: UUID
    task_id: UUID
    status: str
    tool_calls: list[dict[str, Any]]
    summary: str
    evidence: list[str]
    requested_by: str
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    position: int


class ApprovalsProjection:
    name = "approvals"
    tables: tuple[str, ...] = ("synaps_approvals",)
    topics: tuple[str, ...] | None = tuple(t for c in _EVENTS for t in c.stored_topics())
    decodes = True

    def apply(self, cur: psycopg.Cursor[Any], entries: Sequence[Entry], tables: Tables) -> Changes:
        table = tables["synaps_approvals"]
        ids = list({e.event.originator_id for e in entries})
        with cur.connection.cursor(row_factory=dict_row) as dcur:
            rows = {
                r["approval_id"]: msgspec.convert(r, ApprovalRow)
                for r in dcur.execute(f"SELECT * FROM {table} WHERE approval_id = ANY(%s)", (ids,))
            }
        changed: set[UUID] = set()
        changes = Changes()
        for entry in entries:
            event = entry.event
            row = rows.get(event.originator_id)
            if isinstance(event, ApprovalRequested):
                if row is not None:
                    continue
                row = rows[event.originator_id] = ApprovalRow(
                    approval_id=event.originator_id,
                    tenant=event.tenant,
                    run_id=event.run_id,
                    task_id=event.task_id,
                    status="pending",
                    tool_calls=event.tool_calls,
                    summary=event.summary_text,
                    evidence=event.evidence,
                    requested_by=event.actor,
                    requested_at=event.timestamp,
                    position=entry.position,
                )
            elif row is None or row.position >= entry.position:
                if row is None:
                    raise LookupError(f"approval {event.originator_id} not requested")
                continue
            elif isinstance(event, ApprovalGranted | ApprovalDenied):
                row.status = "granted" if isinstance(event, ApprovalGranted) else "denied"
                row.decided_by, row.decided_at = event.actor, event.timestamp
                row.reason, row.position = event.reason, entry.position
            changed.add(row.approval_id)
            changes.add("approvals", row.approval_id)
            changes.add("runs", row.run_id)
        if changed:
            columns = ApprovalRow.__struct_fields__
            assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != "approval_id")
            cur.execute(
                f"INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table},"
                f" %s::json) ON CONFLICT (approval_id) DO UPDATE SET {assignments}",
                (_encode([rows[i] for i in changed]).decode(),),
            )
        return changes
