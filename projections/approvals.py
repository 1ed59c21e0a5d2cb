"""The approvals read model: pending decisions first, and the record of each decision."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import psycopg

from domain.approval import ApprovalDenied, ApprovalGranted, ApprovalRequested
from projections.processor import Changes, Entry, Tables
from projections.rows import load_rows, upsert_rows

__all__ = ["ApprovalRow", "ApprovalsProjection"]

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
        ids = {e.event.originator_id for e in entries}
        rows = load_rows(cur, table, "approval_id", ids, ApprovalRow)
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
        upsert_rows(cur, table, "approval_id", ApprovalRow, [rows[i] for i in changed])
        return changes
