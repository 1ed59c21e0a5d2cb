"""The effective control snapshot a worker runs tasks with, per tenant.

Reloaded when a control change is announced (NATS ``synaps.ctrl.*``) and,
as a backstop, when the control projection's position moves (checked twice a
second), so a change is in effect for newly claimed tasks within a second
even without NATS.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import structlog

__all__ = ["ControlCache"]

log = structlog.get_logger(__name__)


class ControlCache:
    def __init__(
        self,
        read_snapshot: Callable[[str], Any],
        projection_position: Callable[[], int],
        *,
        check_seconds: float = 0.5,
    ) -> None:
        self._read = read_snapshot
        self._position = projection_position
        self._check = check_seconds
        self._lock = threading.Lock()
        self._snapshots: dict[str, Any] = {}
        self._seen_position = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reloads = 0

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._watch, name="synaps-control-cache", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def get(self, tenant: str) -> Any:
        with self._lock:
            snapshot = self._snapshots.get(tenant)
        if snapshot is None:
            snapshot = self._read(tenant)
            with self._lock:
                self._snapshots[tenant] = snapshot
                self.reloads += 1
        return snapshot

    def invalidate(self, tenant: str | None = None) -> None:
        with self._lock:
            if tenant is None:
                self._snapshots.clear()
            else:
                self._snapshots.pop(tenant, None)

    def _watch(self) -> None:
        while not self._stop.wait(self._check):
            try:
                position = self._position()
            except Exception as exc:  # noqa: BLE001 - try again next time
                log.warning("reading the control position failed", error=str(exc))
                continue
            if position != self._seen_position:
                self._seen_position = position
                self.invalidate()
