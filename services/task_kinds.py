"""Task kinds a worker knows how to run, and the built-in ones (noop, sleep)."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from schemas.commands import NextTask, ProducedArtifact
from schemas.views import ClaimedTask

__all__ = ["Handler", "TaskContext", "TaskError", "TaskKinds", "builtin_kinds"]


class TaskError(Exception):
    """A task failure the handler understands; ``retryable=False`` dead-letters at once."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class TaskContext:
    """What a running handler can see: whether it should stop early."""

    def __init__(self, task: ClaimedTask, control: Any = None) -> None:
        self.task = task
        self.cancelled = threading.Event()  # lease lost or worker stopping
        # the effective control snapshot of the task's tenant when it was claimed
        self.control = control
        self.usage: dict[str, Any] | None = None  # set by handlers that call models
        # outputs stored in the artifact store, recorded with the completion
        self.artifacts: list[ProducedArtifact] = []
        # the run's next steps, queued atomically with this task's completion
        self.next: list[NextTask] = []

    def sleep(self, seconds: float) -> bool:
        """Sleep, waking early when cancelled; True if the full time passed."""
        return not self.cancelled.wait(seconds)


Handler = Callable[[ClaimedTask, TaskContext], Any | Awaitable[Any]]


class TaskKinds:
    def __init__(self, handlers: dict[str, Handler] | None = None) -> None:
        self._handlers: dict[str, Handler] = dict(handlers or {})

    def register(self, kind: str, handler: Handler) -> None:
        self._handlers[kind] = handler

    def get(self, kind: str) -> Handler | None:
        return self._handlers.get(kind)

    def kinds(self) -> list[str]:
        return sorted(self._handlers)


class SleepInput(msgspec.Struct, kw_only=True):
    seconds: float = 1.0


def run_noop(task: ClaimedTask, ctx: TaskContext) -> Any:
    """Succeeds with its input as output."""
    return task.input


def run_sleep(task: ClaimedTask, ctx: TaskContext) -> Any:
    """Sleeps ``{"seconds": N}``; the pool renews the lease meanwhile."""
    try:
        params = msgspec.convert(task.input or {}, SleepInput)
    except msgspec.ValidationError as exc:
        raise TaskError(f"invalid sleep input: {exc}", retryable=False) from None
    if params.seconds < 0 or params.seconds > 86400:
        raise TaskError("seconds must be between 0 and 86400", retryable=False)
    if not ctx.sleep(params.seconds):
        raise TaskError("interrupted")
    return {"slept": params.seconds}


def builtin_kinds() -> TaskKinds:
    return TaskKinds({"noop": run_noop, "sleep": run_sleep})
