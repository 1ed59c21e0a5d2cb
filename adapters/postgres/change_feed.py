"""Change notices from projections, heard once per process and fanned out.

One LISTEN connection per process follows ``synaps_changes``; waiters (read
requests waiting for a position, long polls waiting for a run, and later
subscriptions) wait on it instead of each polling the database. Projection
positions are also re-read periodically, so a missed notice (a reconnect)
costs at most one poll interval.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
import psycopg
import structlog

from adapters.postgres.projector import CHANGES_CHANNEL, ChangeNotice

__all__ = ["ChangeFeed"]

log = structlog.get_logger(__name__)

_decode = msgspec.json.Decoder(ChangeNotice).decode


class ChangeFeed:
    def __init__(self, conninfo: str, *, poll_seconds: float = 1.0) -> None:
        self._conninfo = conninfo
        self._poll = poll_seconds
        self._cond = threading.Condition()
        self._positions: dict[str, int] = {}
        self._generation = 0
        self._recent: list[ChangeNotice] = []
        self._listeners: list[Callable[[ChangeNotice], None]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection[Any] | None = None

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        self._refresh_positions()
        self._thread = threading.Thread(target=self._run, name="synaps-change-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.cancel_safe()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def subscribe(self, listener: Callable[[ChangeNotice], None]) -> Callable[[], None]:
        """Call ``listener`` (on the feed's thread) for every notice; returns an unsubscribe."""
        with self._cond:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._cond:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    # -- waiting --------------------------------------------------------------

    def position(self, projection: str) -> int:
        with self._cond:
            return self._positions.get(projection, 0)

    def wait_for_position(self, projections: Iterable[str], position: int, timeout: float) -> bool:
        """Block until every projection has reached ``position`` (True) or timeout (False)."""
        names = list(projections)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if all(self._positions.get(n, 0) >= position for n in names):
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)

    def wait_for_change(self, model: str, ident: str, since: int, timeout: float) -> int:
        """Block until a notice after generation ``since`` names ``ident`` of ``model``.

        Returns the generation to pass next time (unchanged on timeout)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if self._generation > since and self._mentions(model, ident, since):
                    return self._generation
                left = deadline - time.monotonic()
                if left <= 0:
                    return since
                self._cond.wait(left)

    @property
    def generation(self) -> int:
        with self._cond:
            return self._generation

    def _mentions(self, model: str, ident: str, since: int) -> bool:
        # _recent holds the last notices with their generation numbers implied
        # by position in the list: the newest is self._generation.
        newer = self._generation - since
        for notice in self._recent[-newer:] if newer <= len(self._recent) else self._recent:
            ids = notice.changes.get(model, ())
            if model in notice.changes and (ids is None or ident in ids):
                return True
        return newer > len(self._recent)  # fell out of the window: assume it changed

    # -- the listener thread ---------------------------------------------------

    def _run(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    self._conn = conn
                    conn.execute(f"LISTEN {CHANGES_CHANNEL}")
                    self._refresh_positions(conn)
                    backoff = 0.1
                    while not self._stop.is_set():
                        for notify in conn.notifies(timeout=self._poll):
                            self._deliver(_decode(notify.payload))
                        self._refresh_positions(conn)
            except Exception as exc:  # noqa: BLE001 - reconnect; waiters time out meanwhile
                if self._stop.is_set():
                    return
                log.warning("change feed lost its connection", error=str(exc))
                self._stop.wait(backoff)
                backoff = min(5.0, backoff * 2)
            finally:
                self._conn = None

    def _deliver(self, notice: ChangeNotice) -> None:
        with self._cond:
            if notice.position > self._positions.get(notice.projection, 0):
                self._positions[notice.projection] = notice.position
            self._generation += 1
            self._recent.append(notice)
            del self._recent[:-256]
            listeners = list(self._listeners)
            self._cond.notify_all()
        for listener in listeners:
            try:
                listener(notice)
            except Exception as exc:  # noqa: BLE001 - one listener must not stop the feed
                log.warning("change listener failed", error=str(exc))

    def _refresh_positions(self, conn: psycopg.Connection[Any] | None = None) -> None:
        try:
            if conn is None:
                with psycopg.connect(self._conninfo, autocommit=True) as own:
                    rows = own.execute("SELECT name, position FROM synaps_projections").fetchall()
            else:
                rows = conn.execute("SELECT name, position FROM synaps_projections").fetchall()
        except psycopg.Error as exc:
            log.warning("reading projection positions failed", error=str(exc))
            return
        with self._cond:
            changed = False
            for name, position in rows:
                if position > self._positions.get(name, 0):
                    self._positions[name] = int(position)
                    changed = True
            if changed:
                self._cond.notify_all()
