"""The incidents read model: one row per remembered incident, with its embedding.

A row counts the incident's occurrences (one per run, the aggregate sees to
that) and keeps the latest occurrence's confidence and evidence; ``verified``
and ``executed`` stay true once any occurrence was.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec
import psycopg

from domain.incident import IncidentRecorded, IncidentRecurred
from projections.processor import Changes, Entry, Tables
from projections.rows import load_rows, upsert_rows
from schemas.incident_memory import IncidentView

__all__ = ["IncidentRow", "IncidentsProjection"]

_EVENTS = (IncidentRecorded, IncidentRecurred)


class IncidentRow(IncidentView, frozen=True, kw_only=True):
    embedding: list[float]


def _recorded(event: IncidentRecorded, position: int) -> IncidentRow:
    return IncidentRow(
        incident_id=event.originator_id,
        tenant=event.tenant,
        namespace=event.namespace,
        workload=event.workload,
        target=event.target,
        root_cause=event.root_cause,
        summary=event.summary_text,
        remediation=event.remediation,
        evidence=event.evidence,
        confidence=event.confidence,
        detection_method=event.detection_method,
        verified=event.verified,
        executed=event.remediation_executed,
        occurrences=1,
        first_seen=event.timestamp,
        last_seen=event.timestamp,
        first_run_id=event.run_id,
        last_run_id=event.run_id,
        embedder=event.embedder,
        embedding=event.embedding,
        position=position,
    )


def _recurred(row: IncidentRow, event: IncidentRecurred, position: int) -> IncidentRow:
    return msgspec.structs.replace(
        row,
        occurrences=row.occurrences + 1,
        last_seen=max(row.last_seen, event.timestamp),
        last_run_id=event.run_id,
        confidence=event.confidence,
        evidence=event.evidence,
        verified=row.verified or event.verified,
        executed=row.executed or event.remediation_executed,
        position=position,
    )


class IncidentsProjection:
    name = "incidents"
    tables: tuple[str, ...] = ("synaps_incidents",)
    topics: tuple[str, ...] | None = tuple(t for c in _EVENTS for t in c.stored_topics())
    decodes = True

    def apply(self, cur: psycopg.Cursor[Any], entries: Sequence[Entry], tables: Tables) -> Changes:
        table = tables["synaps_incidents"]
        ids = {e.event.originator_id for e in entries}
        rows = load_rows(cur, table, "incident_id", ids, IncidentRow)
        changed: set[UUID] = set()
        changes = Changes()
        for entry in entries:
            event = entry.event
            row = rows.get(event.originator_id)
            if row is not None and row.position >= entry.position:
                continue  # re-delivered
            if isinstance(event, IncidentRecorded):
                row = _recorded(event, entry.position)
            elif isinstance(event, IncidentRecurred):
                if row is None:
                    raise LookupError(f"incident {event.originator_id} was never recorded")
                row = _recurred(row, event, entry.position)
            else:
                continue
            rows[row.incident_id] = row
            changed.add(row.incident_id)
            changes.add("incidents", row.incident_id)
        upsert_rows(cur, table, "incident_id", IncidentRow, [rows[i] for i in changed])
        return changes
