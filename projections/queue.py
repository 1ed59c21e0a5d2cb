"""The queue read model: claimable tasks by queue, priority and time.

An inline projection: rows are written by the same statement as the task
events that change them, so a claim always sees the ledger's truth. A row
exists while its task is not terminal; its ``version`` is the task's
aggregate version, checked by every writer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import psycopg

from domain.task import Task

__all__ = ["InlineWrite", "QueueDepth", "QueueProjection", "QueueRow", "queue_row"]

_encode = msgspec.json.Encoder().encode


class QueueRow(msgspec.Struct, frozen=True, kw_only=True):
    task_id: UUID
    run_id: UUID
    tenant: str
    queue: str
    kind: str
    priority: int
    status: str
    claimable_at: datetime
    attempt: int
    max_attempts: int
    worker_id: str | None
    lease_expires_at: datetime | None
    queued_at: datetime
    version: int


class _Update(QueueRow, frozen=True, kw_only=True):
    version_before: int


class _Delete(msgspec.Struct, frozen=True):
    task_id: UUID
    version_before: int


class QueueDepth(msgspec.Struct, frozen=True, kw_only=True):
    queue: str
    ready: int
    scheduled: int
    in_flight: int
    oldest_ready_age_seconds: float


class InlineWrite(msgspec.Struct, frozen=True):
    """Parameters for the inline projection's part of a write statement."""

    params: dict[str, Any]


def queue_row(task: Task) -> QueueRow | None:
    """The row a task has in the queue, or None once it is terminal."""
    claimable_at = task.claimable_at()
    if claimable_at is None:
        return None
    return QueueRow(
        task_id=task.id,
        run_id=task.run_id,
        tenant=task.tenant,
        queue=task.queue,
        kind=task.kind,
        priority=task.priority,
        status=task.status,
        claimable_at=claimable_at,
        attempt=task.attempt,
        max_attempts=task.max_attempts,
        worker_id=task.worker_id,
        lease_expires_at=task.lease_expires_at,
        queued_at=task.created_on,
        version=task.version,
    )


_LOCK_CLAIMABLE = """
WITH locked AS (
    SELECT task_id, claimable_at FROM synaps_queue
    WHERE queue = ANY(%s) AND claimable_at <= %s AND (%s::text IS NULL OR tenant = %s)
    ORDER BY priority DESC, claimable_at, task_id
    LIMIT %s
    FOR UPDATE SKIP LOCKED
)
SELECT e.originator_id, e.originator_version, e.topic, e.state, l.claimable_at
FROM locked l JOIN synaps_events e ON e.originator_id = l.task_id
ORDER BY e.originator_id, e.originator_version
"""

_LOCK_EXPIRED = """
WITH locked AS (
    SELECT task_id, claimable_at FROM synaps_queue
    WHERE status = 'running' AND claimable_at <= %s
    ORDER BY claimable_at
    LIMIT %s
    FOR UPDATE SKIP LOCKED
)
SELECT e.originator_id, e.originator_version, e.topic, e.state, l.claimable_at
FROM locked l JOIN synaps_events e ON e.originator_id = l.task_id
ORDER BY e.originator_id, e.originator_version
"""

_DEPTH = """
SELECT queue,
       count(*) FILTER (WHERE status = 'queued' AND claimable_at <= %(now)s),
       count(*) FILTER (WHERE status = 'queued' AND claimable_at > %(now)s),
       count(*) FILTER (WHERE status = 'running'),
       coalesce(extract(epoch FROM %(now)s - min(claimable_at)
                FILTER (WHERE status = 'queued' AND claimable_at <= %(now)s)), 0)
FROM synaps_queue WHERE %(tenant)s::text IS NULL OR tenant = %(tenant)s
GROUP BY queue ORDER BY queue
"""


class QueueProjection:
    """Keeps ``synaps_queue`` equal to the non-terminal tasks of the ledger."""

    # Common table expressions joined into the recorder's single write statement.
    # Rows that no longer match the version a writer loaded are a conflict.
    CTES = """
q_new AS (
    INSERT INTO synaps_queue
    SELECT * FROM json_populate_recordset(NULL::synaps_queue, %(q_new)s::json)
),
q_upd AS (
    UPDATE synaps_queue q SET status = u.status, claimable_at = u.claimable_at,
        attempt = u.attempt, worker_id = u.worker_id, lease_expires_at = u.lease_expires_at,
        priority = u.priority, version = u.version
    FROM json_to_recordset(%(q_upd)s::json) AS u(task_id uuid, version_before bigint,
        status text, claimable_at timestamptz, attempt int, worker_id text,
        lease_expires_at timestamptz, priority int, version bigint)
    WHERE q.task_id = u.task_id AND q.version = u.version_before
    RETURNING 1
),
q_del AS (
    DELETE FROM synaps_queue q
    USING json_to_recordset(%(q_del)s::json) AS d(task_id uuid, version_before bigint)
    WHERE q.task_id = d.task_id AND q.version = d.version_before
    RETURNING 1
)"""
    CHECK = (
        "(SELECT count(*) FROM q_upd) = %(q_upd_n)s AND (SELECT count(*) FROM q_del) = %(q_del_n)s"
    )

    def concerns(self, changed: Sequence[Any]) -> bool:
        return any(isinstance(item.aggregate, Task) for item in changed)

    def write(self, changed: Sequence[Any]) -> InlineWrite:
        inserts: list[QueueRow] = []
        updates: list[_Update] = []
        deletes: list[_Delete] = []
        for item in changed:
            task = item.aggregate
            if not isinstance(task, Task):
                continue
            row = queue_row(task)
            if item.version_before == 0:
                if row is not None:
                    inserts.append(row)
            elif row is not None:
                fields = {f: getattr(row, f) for f in QueueRow.__struct_fields__}
                updates.append(_Update(**fields, version_before=item.version_before))
            else:
                deletes.append(_Delete(task.id, item.version_before))
        return InlineWrite(
            {
                "q_new": _encode(inserts).decode(),
                "q_upd": _encode(updates).decode(),
                "q_del": _encode(deletes).decode(),
                "q_upd_n": len(updates),
                "q_del_n": len(deletes),
            }
        )

    # -- reads used by the queue service -------------------------------------

    @staticmethod
    def lock_claimable(
        cur: psycopg.Cursor[Any],
        queues: Sequence[str],
        limit: int,
        now: datetime,
        tenant: str | None = None,
    ) -> list[tuple[Any, ...]]:
        """Lock up to ``limit`` claimable tasks (skipping ones others hold; of
        ``tenant`` only unless None); their events."""
        return cur.execute(
            _LOCK_CLAIMABLE, (list(queues), now, tenant, tenant, limit), prepare=True
        ).fetchall()

    @staticmethod
    def lock_expired(cur: psycopg.Cursor[Any], limit: int, now: datetime) -> list[tuple[Any, ...]]:
        return cur.execute(_LOCK_EXPIRED, (now, limit), prepare=True).fetchall()

    @staticmethod
    def depth(
        cur: psycopg.Cursor[Any], now: datetime, tenant: str | None = None
    ) -> list[QueueDepth]:
        """Per queue (of one tenant's tasks, unless ``tenant`` is None)."""
        return [
            QueueDepth(
                queue=r[0],
                ready=r[1],
                scheduled=r[2],
                in_flight=r[3],
                oldest_ready_age_seconds=float(r[4]),
            )
            for r in cur.execute(_DEPTH, {"now": now, "tenant": tenant}).fetchall()
        ]

    @staticmethod
    def rows(cur: psycopg.Cursor[Any]) -> list[QueueRow]:
        """Every row, for comparing with a rebuild from the ledger."""
        fields = QueueRow.__struct_fields__
        result = cur.execute(
            f"SELECT {', '.join(fields)} FROM synaps_queue ORDER BY task_id"
        ).fetchall()
        return [QueueRow(**dict(zip(fields, r, strict=True))) for r in result]
