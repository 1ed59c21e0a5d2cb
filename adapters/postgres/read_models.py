"""Queries over the projected read models (runs, tasks, audit log)."""

from __future__ import annotations

import functools
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from eventsourcing.utils import TopicError, resolve_topic
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

import domain.catalog  # noqa: F401 - every event type resolves
from domain.envelope import AggregateEvent
from projections.audit import ENVELOPE_KEYS
from projections.runs import RunRow, TaskRow
from schemas.views import (
    ArtifactView,
    AttemptView,
    EventView,
    RunSummary,
    RunView,
    TaskCounts,
    TaskView,
    redacted,
)

__all__ = ["PostgresRunReads"]

_ENVELOPE = "ARRAY[" + ", ".join(f"'{k}'" for k in ENVELOPE_KEYS) + "]::text[]"

_SUMMARY_COLUMNS = (
    "run_id, kind, status, tenant, created_at, started_at, finished_at, error,"
    " tasks_total, tasks_queued, tasks_running, tasks_succeeded, tasks_dead, tasks_cancelled,"
    " created_position"
)


class PostgresRunReads:
    def __init__(self, pool: ConnectionPool[psycopg.Connection[Any]]) -> None:
        self._pool = pool

    def get(self, run_id: UUID, tenant: str) -> RunView | None:
        with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            raw = cur.execute(
                "SELECT * FROM synaps_runs WHERE run_id = %s AND tenant = %s", (run_id, tenant)
            ).fetchone()
            if raw is None:
                return None
            run = msgspec.convert(raw, RunRow)
            task_rows = {
                r["task_id"]: msgspec.convert(r, TaskRow)
                for r in cur.execute(
                    "SELECT * FROM synaps_tasks WHERE run_id = %s", (run_id,)
                ).fetchall()
            }
            # The run's events come from the ledger itself, by aggregate (primary key),
            # up to the position the run view reflects: a consistent timeline.
            aggregates = [run.command_id, run.thread_id, run.run_id, *run.task_ids]
            events = cur.execute(
                f"SELECT j->>'type' AS type, e.notification_id AS position,"
                " (j->>'timestamp')::timestamptz AS time, j->>'actor' AS actor,"
                " e.originator_id AS aggregate_id, e.originator_version AS aggregate_version,"
                " j->>'tenant' AS tenant, j->>'correlation_id' AS correlation_id,"
                f" j->>'causation_id' AS causation_id, j - {_ENVELOPE} AS data"
                " FROM synaps_events e"
                " CROSS JOIN LATERAL (SELECT convert_from(e.state, 'UTF8')::jsonb AS j) x"
                " WHERE e.originator_id = ANY(%s) AND e.notification_id <= %s"
                "   AND j->>'correlation_id' = %s"
                " ORDER BY e.notification_id",
                (aggregates, run.position, str(run_id)),
            ).fetchall()
            artifacts = [
                ArtifactView(**a, url=f"/v1/artifacts/{a['artifact_id']}?version={a['version']}")
                for a in cur.execute(
                    "SELECT artifact_id, name, version, digest, size, content_type, task_id,"
                    " created_at FROM synaps_artifacts WHERE run_id = %s AND tenant = %s"
                    " ORDER BY position",
                    (run_id, tenant),
                ).fetchall()
            ]
        tasks = [_task_view(task_rows[t]) for t in run.task_ids if t in task_rows]
        return RunView(
            run_id=run.run_id,
            command_id=run.command_id,
            thread_id=run.thread_id,
            kind=run.kind,
            tenant=run.tenant,
            status=run.status,
            input=run.input,
            output=run.output,
            error=run.error,
            created_at=run.created_at,
            finished_at=run.finished_at,
            tasks=tasks,
            events=[
                msgspec.convert(
                    {**e, "data": redacted(_event_type(e["type"]), e["data"])}, EventView
                )
                for e in events
            ],
            position=run.position,
            artifacts=artifacts,
        )

    def list_runs(
        self, tenant: str, *, status: str | None, kind: str | None, limit: int, after: int | None
    ) -> tuple[list[RunSummary], int | None]:
        """Newest first; ``after`` is the cursor (creation position) of the last seen run."""
        where = ["tenant = %(tenant)s"]
        if status:
            where.append("status = %(status)s")
        if kind:
            where.append("kind = %(kind)s")
        if after is not None:
            where.append("created_position < %(after)s")
        sql = (
            f"SELECT {_SUMMARY_COLUMNS} FROM synaps_runs WHERE {' AND '.join(where)}"
            " ORDER BY created_position DESC LIMIT %(limit)s"
        )
        params = {
            "tenant": tenant,
            "status": status,
            "kind": kind,
            "after": after,
            "limit": limit + 1,
        }
        with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(sql, params).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        summaries = [_summary(r) for r in rows]
        return summaries, (int(rows[-1]["created_position"]) if more and rows else None)

    def lag(self, projections: list[str], position: int) -> int:
        """Events at or below ``position`` that some of ``projections`` have not applied."""
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT count(*) FROM synaps_events WHERE notification_id <= %s"
                " AND notification_id > (SELECT coalesce(min(position), 0)"
                "   FROM synaps_projections WHERE name = ANY(%s))",
                (position, projections),
            ).fetchone()
        return 0 if row is None else int(row[0])


@functools.cache
def _event_type(name: str) -> type[AggregateEvent] | None:
    """The event class of a stored type name (every version's topic resolves to it)."""
    try:
        cls = resolve_topic(f"{name}.v1")
    except TopicError:
        return None
    return cls if isinstance(cls, type) and issubclass(cls, AggregateEvent) else None


def _task_view(row: TaskRow) -> TaskView:
    return TaskView(
        task_id=row.task_id,
        kind=row.kind,
        queue=row.queue,
        priority=row.priority,
        status=row.status,
        attempt=row.attempt,
        max_attempts=row.max_attempts,
        created_at=row.created_at,
        available_at=row.available_at if row.status == "queued" else None,
        claimed_at=row.claimed_at,
        finished_at=row.finished_at,
        lease_expires_at=row.lease_expires_at,
        worker_id=row.worker_id,
        output=row.output,
        error=row.error,
        attempts=[
            AttemptView(**{f: getattr(a, f) for f in a.__struct_fields__}) for a in row.attempts
        ],
        control_hash=row.control_hash,
    )


def _summary(row: dict[str, Any]) -> RunSummary:
    finished, created = row["finished_at"], row["created_at"]
    return RunSummary(
        run_id=row["run_id"],
        kind=row["kind"],
        status=row["status"],
        tenant=row["tenant"],
        created_at=created,
        started_at=row["started_at"],
        finished_at=finished,
        duration_seconds=(finished - created).total_seconds() if finished else None,
        error=row["error"],
        tasks=TaskCounts(
            total=row["tasks_total"],
            queued=row["tasks_queued"],
            running=row["tasks_running"],
            succeeded=row["tasks_succeeded"],
            dead=row["tasks_dead"],
            cancelled=row["tasks_cancelled"],
        ),
    )
