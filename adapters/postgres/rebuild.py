"""Rebuild a projection from position 0 into shadow tables, then swap them in.

Readers keep the old view until the swap, which happens in one transaction
that holds the live projection's lock (so the live projector pauses at a page
boundary), applies the last events to the shadow, renames the tables and
hands the live projection the shadow's position. Interrupted before the swap,
the old view stays and the shadow is dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import psycopg
import structlog

from adapters.postgres.mapper import MsgspecMapper
from adapters.postgres.projector import ProjectionRunner
from adapters.postgres.recorder import LedgerRecorder
from domain.events import TaskQueued
from domain.task import Task
from projections.processor import Processor
from projections.queue import QueueRow, queue_row

__all__ = ["RebuildResult", "rebuild_projection", "rebuild_queue"]

log = structlog.get_logger(__name__)

Progress = Callable[[int, int, float], None]  # events done, events in the ledger, events/s


@dataclass(frozen=True, slots=True)
class RebuildResult:
    name: str
    events: int
    seconds: float
    position: int


def rebuild_projection(
    recorder: LedgerRecorder,
    mapper: MsgspecMapper,
    processor: Processor,
    *,
    page_size: int = 5000,
    progress: Progress | None = None,
) -> RebuildResult:
    suffix = f"__rebuild_{int(time.time() * 1000)}"
    shadows = {t: f"{t}{suffix}" for t in processor.tables}
    tracking = f"{processor.name}@rebuild"
    started = time.monotonic()
    with recorder.pool.connection() as conn:
        topics = processor.topics
        counted = conn.execute(
            "SELECT count(*) FROM synaps_events" + (" WHERE topic = ANY(%s)" if topics else ""),
            (list(topics),) if topics else None,
        ).fetchone()
        total = int(counted[0]) if counted else 0
        with conn.transaction():
            _drop_leftovers(conn, processor)
            for live, shadow in shadows.items():
                conn.execute(f"CREATE TABLE {shadow} (LIKE {live} INCLUDING ALL)".encode())
            conn.execute("DELETE FROM synaps_projections WHERE name = %s", (tracking,))
            conn.execute(
                "INSERT INTO synaps_projections (name, state) VALUES (%s, 'rebuilding')",
                (tracking,),
            )
            conn.execute(
                "INSERT INTO synaps_projections (name) VALUES (%s) ON CONFLICT DO NOTHING",
                (processor.name,),
            )
    runner = ProjectionRunner(
        recorder,
        mapper,
        processor,
        tracking_name=tracking,
        tables=shadows,
        page_size=page_size,
        notify=False,
    )
    done = 0
    try:
        while applied := runner.step():
            done += applied
            if progress:
                progress(done, total, done / max(1e-9, time.monotonic() - started))
        with recorder.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            # Holding the live projection's row lock pauses its projector between pages.
            cur.execute(
                "SELECT position FROM synaps_projections WHERE name = %s FOR UPDATE",
                (processor.name,),
            )
            while applied := runner.step_in(cur):
                done += applied
            position = int(
                cur.execute(
                    "SELECT position FROM synaps_projections WHERE name = %s", (tracking,)
                ).fetchone()[0]  # type: ignore[index]
            )
            for live, shadow in shadows.items():
                retired = f"{live}__retired{suffix[len('__rebuild') :]}"
                cur.execute(f"ALTER TABLE {live} RENAME TO {retired}".encode())
                cur.execute(f"ALTER TABLE {shadow} RENAME TO {live}".encode())
                cur.execute(f"DROP TABLE {retired}".encode())
            cur.execute(
                "UPDATE synaps_projections SET position = %s, events = %s, state = 'running',"
                " error = NULL, error_position = NULL, updated_at = now() WHERE name = %s",
                (position, done, processor.name),
            )
            cur.execute("DELETE FROM synaps_projections WHERE name = %s", (tracking,))
    except BaseException:
        _abandon(recorder, processor, tracking)
        raise
    if progress:
        progress(done, max(total, done), done / max(1e-9, time.monotonic() - started))
    log.info("projection rebuilt", projection=processor.name, events=done)
    return RebuildResult(processor.name, done, time.monotonic() - started, position)


def _drop_leftovers(conn: psycopg.Connection[Any], processor: Processor) -> None:
    for table in processor.tables:
        rows = conn.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND (relname LIKE %s"
            " OR relname LIKE %s)",
            (f"{table}\\_\\_rebuild\\_%", f"{table}\\_\\_retired\\_%"),
        ).fetchall()
        for (name,) in rows:
            conn.execute(f'DROP TABLE IF EXISTS "{name}"'.encode())


def _abandon(recorder: LedgerRecorder, processor: Processor, tracking: str) -> None:
    """An interrupted rebuild leaves the live view as it was."""
    try:
        with recorder.pool.connection() as conn, conn.transaction():
            _drop_leftovers(conn, processor)
            conn.execute("DELETE FROM synaps_projections WHERE name = %s", (tracking,))
    except psycopg.Error as exc:
        log.warning("could not clean up an interrupted rebuild", error=str(exc))


def rebuild_queue(recorder: LedgerRecorder, mapper: MsgspecMapper) -> RebuildResult:
    """Recompute the inline queue table from the ledger, with writers paused."""
    started = time.monotonic()
    with recorder.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
        # EXCLUSIVE: readers go on, writers (who write the queue with their events) wait.
        cur.execute("LOCK TABLE synaps_queue IN EXCLUSIVE MODE")
        rows: list[QueueRow] = []
        events = 0
        task: Any = None
        for stored in cur.execute(
            "SELECT originator_id, originator_version, topic, state FROM synaps_events"
            " WHERE originator_id IN (SELECT originator_id FROM synaps_events"
            "   WHERE originator_version = 1 AND topic = ANY(%s))"
            " ORDER BY originator_id, originator_version",
            (list(TaskQueued.stored_topics()),),
        ):
            events += 1
            event = mapper.decode(stored[2], bytes(stored[3]))
            if stored[1] == 1:
                if isinstance(task, Task) and (row := queue_row(task)) is not None:
                    rows.append(row)
                task = event.mutate(None)
            else:
                event.mutate(task)
        if isinstance(task, Task) and (row := queue_row(task)) is not None:
            rows.append(row)
        cur.execute("DELETE FROM synaps_queue")
        if rows:
            cur.execute(
                "INSERT INTO synaps_queue SELECT * FROM json_populate_recordset("
                "NULL::synaps_queue, %s::json)",
                (_encode_rows(rows),),
            )
        position = int(
            cur.execute("SELECT coalesce(max(notification_id), 0) FROM synaps_events").fetchone()[0]  # type: ignore[index]
        )
    return RebuildResult("queue", events, time.monotonic() - started, position)


def _encode_rows(rows: list[QueueRow]) -> str:
    return msgspec.json.encode(rows).decode()
