"""Wakeups: a hint that a queue has work, so idle workers claim without waiting.

A hint only: workers also poll, so a lost wakeup costs latency, never work.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Protocol

__all__ = ["LocalWakeups", "Wakeups"]


class Wakeups(Protocol):
    def notify(self, queue: str) -> None: ...

    def wait(self, queues: Iterable[str], timeout: float) -> bool:
        """Block until a queue is notified or ``timeout``; True when notified."""
        ...


class LocalWakeups:
    """In-process wakeups (an API and a worker pool in one process)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation: dict[str, int] = {}

    def notify(self, queue: str) -> None:
        with self._cond:
            self._generation[queue] = self._generation.get(queue, 0) + 1
            self._cond.notify_all()

    def wait(self, queues: Iterable[str], timeout: float) -> bool:
        names = list(queues)
        with self._cond:
            seen = [self._generation.get(q, 0) for q in names]
            return self._cond.wait_for(
                lambda: [self._generation.get(q, 0) for q in names] != seen, timeout
            )
