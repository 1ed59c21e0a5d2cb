"""The queue read model: claimable tasks by queue, priority and time.

An inline projection: rows are written in the same transaction as the task
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

from domain.errors import ConcurrencyConflict
from domain.task import Task

__all__ = ["QueueDepth", "QueueProjection", "QueueRow", "queue_row"]


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


class QueueDepth(msgspec.Struct, frozen=True, kw_only=True):
    queue: str
    ready: int
    scheduled: int
    in_flight: int
    oldest_ready_age_seconds: float


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


_INSERT = """
INSERT INTO synaps_queue (task_id, run_id, tenant, queue, kind, priority, status, claimable_at,
    attempt, max_attempts, worker_id, lease_expires_at, queued_at, version)
SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::text[], %s::text[], %s::text[], %s::int[],
    %s::text[], %s::timestamptz[], %s::int[], %s::int[], %s::text[], %s::timestamptz[],
    %s::timestamptz[], %s::bigint[])
"""

_UPDATE = """
UPDATE synaps_queue q SET status = u.status, claimable_at = u.claimable_at,
    attempt = u.attempt, worker_id = u.worker_id, lease_expires_at = u.lease_expires_at,
    priority = u.priority, version = u.version
FROM unnest(%s::uuid[], %s::bigint[], %s::text[], %s::timestamptz[], %s::int[], %s::text[],
    %s::timestamptz[], %s::int[], %s::bigint[])
    AS u(task_id, version_before, status, claimable_at, attempt, worker_id, lease_expires_at,
         priority, version)
WHERE q.task_id = u.task_id AND q.version = u.version_before
"""

_DELETE = """
DELETE FROM synaps_queue q USING unnest(%s::uuid[], %s::bigint[]) AS d(task_id, version_before)
WHERE q.task_id = d.task_id AND q.version = d.version_before
"""

_LOCK_CLAIMABLE = """
SELECT task_id, claimable_at FROM synaps_queue
WHERE queue = ANY(%s) AND claimable_at <= %s
ORDER BY priority DESC, claimable_at, task_id
LIMIT %s
FOR UPDATE SKIP LOCKED
"""

_LOCK_EXPIRED = """
SELECT task_id FROM synaps_queue
WHERE status = 'running' AND claimable_at <= %s
ORDER BY claimable_at
LIMIT %s
FOR UPDATE SKIP LOCKED
"""

_DEPTH = """
SELECT queue,
       count(*) FILTER (WHERE status = 'queued' AND claimable_at <= %(now)s),
       count(*) FILTER (WHERE status = 'queued' AND claimable_at > %(now)s),
       count(*) FILTER (WHERE status = 'running'),
       coalesce(extract(epoch FROM %(now)s - min(claimable_at)
                FILTER (WHERE status = 'queued' AND claimable_at <= %(now)s)), 0)
FROM synaps_queue GROUP BY queue ORDER BY queue
"""


class QueueProjection:
    """Keeps ``synaps_queue`` equal to the non-terminal tasks of the ledger."""

    def apply(self, cur: psycopg.Cursor[Any], changed: Sequence[Any]) -> None:
        inserts: list[QueueRow] = []
        updates: list[tuple[int, QueueRow]] = []
        deletes: list[tuple[UUID, int]] = []
        for item in changed:
            task = item.aggregate
            if not isinstance(task, Task):
                continue
            row = queue_row(task)
            if item.version_before == 0:
                if row is not None:
                    inserts.append(row)
            elif row is not None:
                updates.append((item.version_before, row))
            else:
                deletes.append((task.id, item.version_before))
        if inserts:
            cur.execute(_INSERT, _columns(inserts), prepare=True)
        if updates:
            updates.sort(key=lambda u: u[1].task_id)
            rows = [r for _, r in updates]
            cur.execute(
                _UPDATE,
                (
                    [r.task_id for r in rows],
                    [v for v, _ in updates],
                    [r.status for r in rows],
                    [r.claimable_at for r in rows],
                    [r.attempt for r in rows],
                    [r.worker_id for r in rows],
                    [r.lease_expires_at for r in rows],
                    [r.priority for r in rows],
                    [r.version for r in rows],
                ),
                prepare=True,
            )
            if cur.rowcount != len(updates):
                raise ConcurrencyConflict("a task changed since it was loaded")
        if deletes:
            deletes.sort()
            cur.execute(_DELETE, ([d[0] for d in deletes], [d[1] for d in deletes]), prepare=True)
            if cur.rowcount != len(deletes):
                raise ConcurrencyConflict("a task changed since it was loaded")

    # -- reads used by the queue service -------------------------------------

    @staticmethod
    def lock_claimable(
        cur: psycopg.Cursor[Any], queues: Sequence[str], limit: int, now: datetime
    ) -> list[tuple[UUID, datetime]]:
        """Lock up to ``limit`` claimable tasks, best first; skip ones others hold."""
        rows = cur.execute(_LOCK_CLAIMABLE, (list(queues), now, limit), prepare=True).fetchall()
        return [(r[0], r[1]) for r in rows]

    @staticmethod
    def lock_expired(cur: psycopg.Cursor[Any], limit: int, now: datetime) -> list[UUID]:
        rows = cur.execute(_LOCK_EXPIRED, (now, limit), prepare=True).fetchall()
        return [r[0] for r in rows]

    @staticmethod
    def depth(cur: psycopg.Cursor[Any], now: datetime) -> list[QueueDepth]:
        return [
            QueueDepth(
                queue=r[0],
                ready=r[1],
                scheduled=r[2],
                in_flight=r[3],
                oldest_ready_age_seconds=float(r[4]),
            )
            for r in cur.execute(_DEPTH, {"now": now}).fetchall()
        ]

    @staticmethod
    def rows(cur: psycopg.Cursor[Any]) -> list[QueueRow]:
        """Every row, for comparing with a rebuild from the ledger."""
        fields = QueueRow.__struct_fields__
        result = cur.execute(
            f"SELECT {', '.join(fields)} FROM synaps_queue ORDER BY task_id"
        ).fetchall()
        return [QueueRow(**dict(zip(fields, r, strict=True))) for r in result]


def _columns(rows: list[QueueRow]) -> tuple[list[Any], ...]:
    return tuple([getattr(r, f) for r in rows] for f in QueueRow.__struct_fields__)
