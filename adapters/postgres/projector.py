"""Runs projection processors over the notification log.

Each runner follows the log from its tracking position and applies a page of
events in ONE transaction that also moves its position: exactly once, and
resumable after a crash at any point. A failing page is retried event by event
with backoff, so the poison event is named in the projection's status and
nothing after it is skipped. After each committed page the runner publishes a
change notice (``NOTIFY synaps_changes``) in the same transaction.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

import msgspec
import psycopg
import structlog

from adapters.postgres.mapper import MsgspecMapper
from adapters.postgres.recorder import LedgerRecorder
from projections.processor import Changes, Entry, Processor, RawEntry

__all__ = ["CHANGES_CHANNEL", "ChangeNotice", "ProjectionRunner"]

log = structlog.get_logger(__name__)

CHANGES_CHANNEL = "synaps_changes"
_NOTICE_LIMIT = 7900  # PostgreSQL's NOTIFY payload limit is 8000 bytes


class ChangeNotice(msgspec.Struct, frozen=True, kw_only=True):
    """What one committed batch of a projection changed."""

    projection: str
    position: int
    # read model -> changed ids; None when there were too many to list
    changes: dict[str, list[str] | None]


_encode = msgspec.json.Encoder().encode


def _notice(name: str, position: int, changes: Changes) -> str:
    full = ChangeNotice(
        projection=name,
        position=position,
        changes={model: sorted(ids) for model, ids in changes.ids.items()},
    )
    text = _encode(full).decode()
    if len(text) <= _NOTICE_LIMIT:
        return text
    brief = ChangeNotice(projection=name, position=position, changes=dict.fromkeys(changes.ids))
    return _encode(brief).decode()


class ProjectionRunner:
    def __init__(
        self,
        recorder: LedgerRecorder,
        mapper: MsgspecMapper,
        processor: Processor,
        *,
        tracking_name: str | None = None,
        tables: Mapping[str, str] | None = None,
        page_size: int = 1000,
        notify: bool = True,
    ) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self.processor = processor
        self.name = tracking_name or processor.name
        self.tables = dict(tables or {t: t for t in processor.tables})
        self.page_size = page_size
        self.notify = notify
        self._batch = page_size
        self._applied: deque[tuple[float, int]] = deque()
        self._last_heartbeat = 0.0
        self.failures = 0

    # -- one page -----------------------------------------------------------

    def ensure_tracking(self) -> None:
        with self.recorder.pool.connection() as conn:
            conn.execute(
                "INSERT INTO synaps_projections (name) VALUES (%s) ON CONFLICT DO NOTHING",
                (self.name,),
            )

    def position(self) -> int:
        with self.recorder.pool.connection() as conn:
            row = conn.execute(
                "SELECT position FROM synaps_projections WHERE name = %s", (self.name,)
            ).fetchone()
        return 0 if row is None else int(row[0])

    def step(self) -> int:
        """Apply the next page; return how many events it held (0: caught up)."""
        with self.recorder.pool.connection() as conn, conn.cursor() as cur:
            row = cur.execute(
                "SELECT position FROM synaps_projections WHERE name = %s", (self.name,)
            ).fetchone()
            if row is None:
                raise LookupError(f"projection {self.name} has no tracking row")
            position = int(row[0])
            rows, upto = self.recorder.select_page(
                position, self._batch, self.processor.topics, cur=cur
            )
            if upto == position:
                self._heartbeat(cur)
                return 0
            with conn.transaction():
                locked = cur.execute(
                    "SELECT position FROM synaps_projections WHERE name = %s FOR UPDATE",
                    (self.name,),
                ).fetchone()
                if locked is None or int(locked[0]) != position:
                    return 0  # another runner applied this page first
                return self._apply_page(cur, rows, upto)

    def step_in(self, cur: psycopg.Cursor[Any]) -> int:
        """Apply the next page inside the caller's transaction (which holds the lock)."""
        row = cur.execute(
            "SELECT position FROM synaps_projections WHERE name = %s FOR UPDATE", (self.name,)
        ).fetchone()
        if row is None:
            raise LookupError(f"projection {self.name} has no tracking row")
        position = int(row[0])
        rows, upto = self.recorder.select_page(
            position, self._batch, self.processor.topics, cur=cur
        )
        if upto == position:
            return 0
        return self._apply_page(cur, rows, upto) or 1

    def _apply_page(self, cur: psycopg.Cursor[Any], rows: list[tuple[Any, ...]], upto: int) -> int:
        entries = self._entries(rows)
        changes = self.processor.apply(cur, entries, self.tables) if entries else Changes()
        self._record_progress(len(entries))
        cur.execute(
            "UPDATE synaps_projections SET position = %s, events = events + %s,"
            " state = 'running', error = NULL, error_position = NULL, rate = %s,"
            " heartbeat_at = now(), updated_at = now() WHERE name = %s",
            (upto, len(entries), self.rate(), self.name),
        )
        if self.notify and entries:
            cur.execute(
                "SELECT pg_notify(%s, %s)", (CHANGES_CHANNEL, _notice(self.name, upto, changes))
            )
        return len(entries)

    def _entries(self, rows: list[tuple[Any, ...]]) -> list[Any]:
        if self.processor.decodes:
            decode = self.mapper.decode
            return [Entry(r[0], decode(r[3], state := bytes(r[4])), state) for r in rows]
        return [RawEntry(r[0], r[1], r[2], r[3], bytes(r[4])) for r in rows]

    # -- running ------------------------------------------------------------

    def run(self, stop: threading.Event, idle_max_seconds: float = 0.05) -> None:
        """Follow the log until ``stop``; a failing page is retried with backoff."""
        self.ensure_tracking()
        idle = 0.0
        while not stop.is_set():
            try:
                applied = self.step()
            except Exception as exc:  # noqa: BLE001 - reported in status, retried
                self._failed(exc)
                stop.wait(min(30.0, 0.2 * 2 ** min(self.failures, 8)) * (0.5 + random.random()))
                continue
            if self.failures:
                log.info("projection recovered", projection=self.name)
                self.failures = 0
                self._batch = self.page_size
            if applied:
                idle = 0.0
                continue
            idle = min(idle_max_seconds, max(0.002, idle * 2))
            stop.wait(idle)

    def catch_up(self) -> int:
        """Apply pages until there is nothing more below the horizon; count events."""
        self.ensure_tracking()
        total = 0
        while applied := self.step():
            total += applied
        return total

    def _failed(self, exc: Exception) -> None:
        self.failures += 1
        # Retry one event at a time, so the good events before the poison one
        # commit and the status names the event that fails.
        self._batch = 1
        message = f"{type(exc).__name__}: {exc}"[:2000]
        log.warning(
            "projection failed", projection=self.name, error=message, failures=self.failures
        )
        try:
            with self.recorder.pool.connection() as conn:
                conn.execute(
                    "UPDATE synaps_projections SET state = 'failing', error = %s,"
                    " error_position = (SELECT min(notification_id) FROM synaps_events"
                    "   WHERE notification_id > synaps_projections.position),"
                    " heartbeat_at = now(), updated_at = now() WHERE name = %s",
                    (message, self.name),
                )
        except psycopg.Error as db_exc:
            log.warning("could not record the failure", error=str(db_exc))

    def _record_progress(self, count: int) -> None:
        now = time.monotonic()
        self._applied.append((now, count))
        while self._applied and now - self._applied[0][0] > 10:
            self._applied.popleft()

    def rate(self) -> float:
        if not self._applied:
            return 0.0
        span = max(1.0, time.monotonic() - self._applied[0][0])
        return round(sum(c for _, c in self._applied) / span, 1)

    def _heartbeat(self, cur: psycopg.Cursor[Any]) -> None:
        now = time.monotonic()
        if now - self._last_heartbeat < 5:
            return
        self._last_heartbeat = now
        cur.execute(
            "UPDATE synaps_projections SET heartbeat_at = now(), rate = %s WHERE name = %s",
            (self.rate(), self.name),
        )


class Projector:
    """Every projection processor, each in its own thread (one failing stops none)."""

    def __init__(
        self,
        recorder: LedgerRecorder,
        mapper: MsgspecMapper,
        processors: list[Processor],
        *,
        page_size: int = 1000,
        idle_max_seconds: float = 0.05,
    ) -> None:
        self.runners = [
            ProjectionRunner(recorder, mapper, p, page_size=page_size) for p in processors
        ]
        self._idle_max = idle_max_seconds
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for runner in self.runners:
            runner.ensure_tracking()
            thread = threading.Thread(
                target=runner.run,
                args=(self._stop, self._idle_max),
                name=f"synaps-projection-{runner.name}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        log.info("projector started", projections=[r.name for r in self.runners])

    @property
    def alive(self) -> bool:
        return bool(self._threads) and all(t.is_alive() for t in self._threads)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()
