"""The worker pool: claim tasks, run their handlers, record the outcomes.

Threads: one claim loop, ``concurrency`` handler threads, one completer that
batches outcomes into few transactions, and one housekeeper that renews the
leases of running tasks and reaps expired leases of crashed workers.
"""

from __future__ import annotations

import asyncio
import inspect
import queue
import threading
import time
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
import structlog

from domain.errors import DomainError, LeaseLost
from schemas.commands import (
    ClaimTasks,
    CompleteTask,
    FailTask,
    NextTask,
    ProducedArtifact,
    RenewLease,
)
from schemas.views import ClaimedTask
from services.control_cache import ControlCache
from services.ports import Caller, Clock
from services.queue import QueueService
from services.task_kinds import TaskContext, TaskError, TaskKinds
from services.wakeups import Wakeups

__all__ = ["WorkerOptions", "WorkerPool"]

_COALESCE_SECONDS = 0.002

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    worker_id: str
    queues: tuple[str, ...] = ("default",)
    concurrency: int = 8
    lease_seconds: float = 30.0
    claim_batch: int = 32
    idle_poll_max_seconds: float = 1.0
    reap_interval_seconds: float = 1.0
    shutdown_grace_seconds: float = 30.0
    complete_batch: int = 1000  # outcomes recorded per transaction (1: one by one)


@dataclass(slots=True)
class _Running:
    task: ClaimedTask
    ctx: TaskContext
    lease_expires_at: datetime
    released: bool = False


@dataclass(frozen=True, slots=True)
class _Outcome:
    task: ClaimedTask
    output: Any = None
    error: str | None = None
    retryable: bool = True
    control_hash: str | None = None
    usage: dict[str, Any] | None = None
    artifacts: tuple[ProducedArtifact, ...] = ()
    next: tuple[NextTask, ...] = ()


@dataclass(slots=True)
class _Counters:
    claimed: int = 0
    succeeded: int = 0
    failed: int = 0
    lost: int = 0
    errors: list[str] = field(default_factory=list)


class WorkerPool:
    def __init__(
        self,
        queue_service: QueueService,
        kinds: TaskKinds,
        options: WorkerOptions,
        clock: Clock,
        wakeups: Wakeups | None = None,
        control: ControlCache | None = None,
    ) -> None:
        self._control = control
        self._queue = queue_service
        self._kinds = kinds
        self.options = options
        self._clock = clock
        self._wakeups = wakeups
        # The pool runs inside synaps and serves every tenant's tasks.
        self._caller = Caller(actor=f"worker:{options.worker_id}", request_id="", all_tenants=True)
        self._lock = threading.Condition()
        self._running: dict[uuid.UUID, _Running] = {}
        self._uncommitted = 0
        self._outcomes: queue.SimpleQueue[_Outcome | None] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._executor = ThreadPoolExecutor(
            max_workers=options.concurrency, thread_name_prefix="synaps-task"
        )
        self._threads: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._batch_target = max(1, min(options.claim_batch, options.concurrency) // 2)
        self.counters = _Counters()

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        for target, name in (
            (self._claim_loop, "synaps-claim"),
            (self._complete_loop, "synaps-complete"),
            (self._housekeeping_loop, "synaps-housekeeping"),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info(
            "worker pool started",
            worker_id=self.options.worker_id,
            queues=list(self.options.queues),
            concurrency=self.options.concurrency,
        )

    @property
    def alive(self) -> bool:
        return bool(self._threads) and all(t.is_alive() for t in self._threads)

    def stop(self, grace_seconds: float | None = None) -> None:
        """Stop claiming; let running tasks finish within the grace, release the rest."""
        if self._stopped.is_set():
            return
        grace = self.options.shutdown_grace_seconds if grace_seconds is None else grace_seconds
        self._stopping.set()
        deadline = time.monotonic() + grace
        with self._lock:
            self._lock.notify_all()
            while self._running and time.monotonic() < deadline:
                self._lock.wait(min(0.1, max(0.0, deadline - time.monotonic())))
            leftovers = [r for r in self._running.values() if not r.released]
            for running in leftovers:
                running.released = True
                running.ctx.cancelled.set()
        for running in leftovers:
            self._release(running)
        self._outcomes.put(None)
        for thread in self._threads:
            thread.join(timeout=10)
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._loop is not None and self._loop_thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop_thread.join(timeout=10)
            self._loop.close()
        self._stopped.set()
        log.info("worker pool stopped", worker_id=self.options.worker_id, released=len(leftovers))

    # -- claiming -------------------------------------------------------------

    def _claim_loop(self) -> None:
        options = self.options
        idle = 0.0
        while not self._stopping.is_set():
            with self._lock:
                # Outcomes still being committed do not hold a slot, so the next
                # claim overlaps their commit; but no more than one pool's worth.
                while not self._stopping.is_set() and (
                    len(self._running) >= options.concurrency
                    or self._uncommitted >= 2 * options.concurrency
                ):
                    self._lock.wait(0.5)
                # Slots free up one by one; wait a moment for more, so that one
                # claim transaction takes a batch instead of a task at a time.
                deadline = time.monotonic() + _COALESCE_SECONDS
                while (
                    self._running
                    and options.concurrency - len(self._running) < self._batch_target
                    and not self._stopping.is_set()
                    and (left := deadline - time.monotonic()) > 0
                ):
                    self._lock.wait(left)
                free = options.concurrency - len(self._running)
            if self._stopping.is_set():
                return
            try:
                tasks = self._queue.claim(
                    ClaimTasks(
                        worker_id=options.worker_id,
                        queues=list(options.queues),
                        max_tasks=min(free, options.claim_batch),
                        lease_seconds=options.lease_seconds,
                    ),
                    self._call("claim"),
                )
            except Exception as exc:  # noqa: BLE001 - the database may come back
                log.warning("claim failed", error=str(exc))
                self._stopping.wait(min(1.0, options.idle_poll_max_seconds))
                continue
            if not tasks:
                idle = min(options.idle_poll_max_seconds, max(0.001, idle * 2))
                if self._wakeups is not None:
                    self._wakeups.wait(options.queues, idle)
                else:
                    self._stopping.wait(idle)
                continue
            idle = 0.0
            contexts = {t.task_id: TaskContext(t, self._snapshot_for(t)) for t in tasks}
            with self._lock:
                self.counters.claimed += len(tasks)
                for task in tasks:
                    self._running[task.task_id] = _Running(
                        task, contexts[task.task_id], task.lease_expires_at
                    )
            for task in tasks:
                self._executor.submit(self._execute, task)

    def _snapshot_for(self, task: ClaimedTask) -> Any:
        if self._control is None:
            return None
        try:
            return self._control.get(task.tenant)
        except Exception as exc:  # noqa: BLE001 - run without; the outcome says so (no hash)
            log.warning("control snapshot unavailable", tenant=task.tenant, error=str(exc))
            return None

    # -- running --------------------------------------------------------------

    def _execute(self, task: ClaimedTask) -> None:
        with self._lock:
            running = self._running.get(task.task_id)
        if running is None:
            return
        handler = self._kinds.get(task.kind)
        try:
            if handler is None:
                raise TaskError(f"no handler for task kind {task.kind!r}", retryable=False)
            result = handler(task, running.ctx)
            if inspect.isawaitable(result):
                result = self._await(result)
            outcome = _Outcome(
                task,
                output=result,
                control_hash=_hash(running.ctx),
                usage=running.ctx.usage,
                artifacts=tuple(running.ctx.artifacts),
                next=tuple(running.ctx.next),
            )
        except TaskError as exc:
            outcome = _Outcome(
                task, error=str(exc), retryable=exc.retryable, control_hash=_hash(running.ctx)
            )
        except Exception as exc:  # noqa: BLE001 - a failing handler fails its task
            outcome = _Outcome(
                task, error=f"{type(exc).__name__}: {exc}", control_hash=_hash(running.ctx)
            )
        with self._lock:
            self._running.pop(task.task_id, None)
            if running.released:
                self._lock.notify_all()
                return
            self._uncommitted += 1
            self._lock.notify_all()
        self._outcomes.put(outcome)

    def _await(self, awaitable: Any) -> Any:
        if self._loop is None:
            with self._lock:
                if self._loop is None:
                    loop = asyncio.new_event_loop()
                    thread = threading.Thread(
                        target=loop.run_forever, name="synaps-async", daemon=True
                    )
                    thread.start()
                    self._loop, self._loop_thread = loop, thread

        async def wrap() -> Any:
            return await awaitable

        coro: Coroutine[Any, Any, Any] = wrap()
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    # -- recording outcomes ---------------------------------------------------

    def _complete_loop(self) -> None:
        done = False
        while not done:
            first = self._outcomes.get()
            batch: list[_Outcome] = []
            if first is None:
                done = True
            else:
                batch.append(first)
            while len(batch) < self.options.complete_batch:
                try:
                    more = self._outcomes.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    done = True
                else:
                    batch.append(more)
            if batch:
                self._record(batch)

    def _record(self, batch: list[_Outcome]) -> None:
        successes = [o for o in batch if o.error is None]
        failures = [o for o in batch if o.error is not None]
        try:
            if successes:
                results = self._queue.complete_many(
                    [
                        CompleteTask(
                            task_id=o.task.task_id,
                            attempt=o.task.attempt,
                            output=o.output,
                            control_hash=o.control_hash,
                            usage=o.usage,
                            artifacts=list(o.artifacts),
                            next=list(o.next),
                        )
                        for o in successes
                    ],
                    self._call("complete"),
                )
                for outcome, result in zip(successes, results, strict=True):
                    if result.error is None:
                        self.counters.succeeded += 1
                    else:
                        self._note_lost(outcome.task, result.error)
            for outcome in failures:
                try:
                    self._queue.fail(
                        FailTask(
                            task_id=outcome.task.task_id,
                            attempt=outcome.task.attempt,
                            error=outcome.error or "failed",
                            retryable=outcome.retryable,
                            control_hash=outcome.control_hash,
                        ),
                        self._call("fail"),
                    )
                    self.counters.failed += 1
                except DomainError as exc:
                    self._note_lost(outcome.task, exc)
        except Exception as exc:  # noqa: BLE001 - the lease will expire; work is not lost
            log.error("recording outcomes failed", error=str(exc), count=len(batch))
            self.counters.errors.append(str(exc))
        finally:
            with self._lock:
                self._uncommitted -= len(batch)
                self._lock.notify_all()

    def _note_lost(self, task: ClaimedTask, error: Exception) -> None:
        self.counters.lost += 1
        log.info(
            "outcome not recorded",
            task_id=str(task.task_id),
            attempt=task.attempt,
            reason=str(error),
        )

    # -- leases ---------------------------------------------------------------

    def _housekeeping_loop(self) -> None:
        options = self.options
        renew_every = max(0.05, options.lease_seconds / 6)
        next_reap = 0.0
        while not self._stopping.wait(min(renew_every, options.reap_interval_seconds)):
            self._renew_leases()
            if time.monotonic() >= next_reap:
                next_reap = time.monotonic() + options.reap_interval_seconds
                try:
                    self._queue.reap_expired_leases(self._call("reap"))
                except Exception as exc:  # noqa: BLE001 - try again next round
                    log.warning("reaping expired leases failed", error=str(exc))

    def _renew_leases(self) -> None:
        now = self._clock()
        threshold = self.options.lease_seconds * 2 / 3
        with self._lock:
            due = [
                r
                for r in self._running.values()
                if not r.released and (r.lease_expires_at - now).total_seconds() < threshold
            ]
        for running in due:
            try:
                renewed = self._queue.renew(
                    RenewLease(
                        task_id=running.task.task_id,
                        attempt=running.task.attempt,
                        lease_seconds=self.options.lease_seconds,
                    ),
                    self._call("renew"),
                )
            except LeaseLost as exc:
                log.info("lease lost", task_id=str(running.task.task_id), reason=str(exc))
                running.ctx.cancelled.set()
                continue
            except Exception as exc:  # noqa: BLE001 - try again next round
                log.warning("lease renewal failed", error=str(exc))
                continue
            if renewed.lease_expires_at is not None:
                running.lease_expires_at = renewed.lease_expires_at

    def _release(self, running: _Running) -> None:
        try:
            self._queue.release(
                running.task.task_id,
                running.task.attempt,
                "worker shutting down",
                self._call("release"),
            )
        except Exception as exc:  # noqa: BLE001 - the lease will expire instead
            log.warning("release failed", task_id=str(running.task.task_id), error=str(exc))

    def _call(self, operation: str) -> Caller:
        return msgspec.structs.replace(
            self._caller, request_id=f"{operation}:{uuid.uuid4().hex[:16]}"
        )


def _hash(ctx: TaskContext) -> str | None:
    return getattr(ctx.control, "hash", None)
