"""In-memory stand-ins for tests."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta


class FakeClock:
    """A clock the test moves by hand (thread-safe)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now


class SequentialIds:
    """uuid4 stand-in giving 1, 2, 3, ... so runs replay identically."""

    def __init__(self) -> None:
        self._next = 0
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._next = 0

    def __call__(self) -> uuid.UUID:
        with self._lock:
            self._next += 1
            return uuid.UUID(int=self._next)
