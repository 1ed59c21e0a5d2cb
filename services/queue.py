"""The queue: claim, renew, complete, fail, cancel, and the reaper of expired leases.

Every operation loads the aggregates, lets them decide, and commits; a lost
race (ConcurrencyConflict) means "load again and decide again".
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID, uuid4

import msgspec

from domain.approval import Approval, approval_id_for
from domain.artifact import Artifact, artifact_id
from domain.envelope import EventContext
from domain.errors import ConcurrencyConflict, DomainError, NotFound
from domain.retry import RetryPolicy
from domain.run import Run
from domain.task import Task, TaskStatus
from schemas.commands import ClaimTasks, CompleteTask, FailTask, NextStep, RenewLease
from schemas.views import ClaimedTask, Completion
from services.observer import Observer
from services.ports import Caller, Clock, LedgerPort

__all__ = ["QueueService"]

_T = TypeVar("_T")

_MAX_RACES = 8


@dataclass(frozen=True, slots=True)
class _Outcome:
    completion: Completion | None = None
    error: DomainError | None = None


class QueueService:
    def __init__(
        self,
        ledger: LedgerPort,
        clock: Clock,
        *,
        retry_policy: RetryPolicy | None = None,
        jitter: Callable[[], float] = random.random,
        observer: Observer | None = None,
    ) -> None:
        self._ledger = ledger
        self._clock = clock
        self._policy = retry_policy or RetryPolicy()
        self._jitter = jitter
        self._observer = observer or Observer()

    # -- claim ----------------------------------------------------------------

    def claim(self, request: ClaimTasks, caller: Caller) -> list[ClaimedTask]:
        now = self._clock()
        dead: list[Task] = []

        def decide(
            tasks: list[Task], load: Callable[[Sequence[UUID]], dict[UUID, Any]]
        ) -> list[Any]:
            dead.clear()  # decide runs again after a lost race
            changed: list[Any] = []
            for task in tasks:
                ctx = _ctx(caller, task)
                try:
                    task.claim(
                        worker_id=request.worker_id,
                        lease_seconds=request.lease_seconds,
                        ctx=ctx,
                        now=now,
                    )
                except DomainError:
                    if task.status == TaskStatus.DEAD:  # its last lease had expired
                        dead.append(task)
                    else:
                        continue
                changed.append(task)
            changed.extend(_settle_runs(dead, load, caller, now))
            return changed

        tenant = None if caller.all_tenants else caller.tenant
        claimed = self._retry(
            lambda: self._ledger.claim_tasks(
                request.queues, request.max_tasks, now, decide, tenant=tenant
            )
        )
        result = []
        for task, since in claimed:
            if task.status != TaskStatus.RUNNING:
                continue
            self._observer.claimed(task.queue, max(0.0, (now - since).total_seconds()))
            result.append(
                ClaimedTask(
                    task_id=task.id,
                    run_id=task.run_id,
                    kind=task.kind,
                    input=task.input,
                    queue=task.queue,
                    tenant=task.tenant,
                    attempt=task.attempt,
                    max_attempts=task.max_attempts,
                    lease_expires_at=task.lease_expires_at,
                )
            )
        if dead:
            self._observer.dead_lettered(len(dead))
        return result

    # -- renew ----------------------------------------------------------------

    def renew(self, request: RenewLease, caller: Caller) -> Completion:
        def attempt() -> Completion:
            now = self._clock()
            task = _visible_task(self._ledger.get(request.task_id, Task), caller)
            task.renew(
                attempt=request.attempt,
                lease_seconds=request.lease_seconds,
                ctx=_ctx(caller, task),
                now=now,
            )
            position = self._ledger.commit(task)
            return _completion(task, position)

        return self._retry(attempt)

    def release(self, task_id: UUID, attempt: int, reason: str, caller: Caller) -> Completion:
        def attempt_release() -> Completion:
            now = self._clock()
            task = _visible_task(self._ledger.get(task_id, Task), caller)
            task.release(attempt=attempt, reason=reason, ctx=_ctx(caller, task), now=now)
            return _completion(task, self._ledger.commit(task))

        return self._retry(attempt_release)

    # -- complete -------------------------------------------------------------

    def complete(self, request: CompleteTask, caller: Caller) -> Completion:
        outcome = self.complete_many([request], caller)[0]
        if outcome.error is not None:
            raise outcome.error
        assert outcome.completion is not None
        return outcome.completion

    def complete_many(self, requests: Sequence[CompleteTask], caller: Caller) -> list[_Outcome]:
        """Complete several tasks in as few transactions as possible."""
        outcomes: dict[int, _Outcome] = {}
        pending = list(range(len(requests)))
        for _ in range(_MAX_RACES):
            if not pending:
                break
            pending = self._complete_round(requests, pending, outcomes, caller)
        for index in pending:
            outcomes[index] = _Outcome(error=ConcurrencyConflict("complete kept losing races"))
        completed = sum(
            1 for o in outcomes.values() if o.completion is not None and not o.completion.duplicate
        )
        if completed:
            self._observer.completed(completed)
        return [outcomes[i] for i in range(len(requests))]

    def _complete_round(
        self,
        requests: Sequence[CompleteTask],
        pending: list[int],
        outcomes: dict[int, _Outcome],
        caller: Caller,
    ) -> list[int]:
        now = self._clock()
        loaded = self._ledger.get_with_runs([requests[i].task_id for i in pending])
        tasks = {k: v for k, v in loaded.items() if isinstance(v, Task)}
        runs = {k: v for k, v in loaded.items() if isinstance(v, Run)}
        by_run: dict[UUID, list[int]] = defaultdict(list)
        produced: dict[int, list[Any]] = {}
        for index in pending:
            request = requests[index]
            task = tasks.get(request.task_id)
            if not isinstance(task, Task) or not caller.sees(task.tenant):
                outcomes[index] = _Outcome(error=NotFound("task", request.task_id))
                continue
            try:
                changed = task.succeed(
                    attempt=request.attempt,
                    output=request.output,
                    ctx=_ctx(caller, task),
                    now=now,
                    control_hash=request.control_hash,
                    usage=request.usage,
                )
            except DomainError as exc:
                outcomes[index] = _Outcome(error=exc)
                continue
            if not changed:
                outcomes[index] = _Outcome(completion=_completion(task, None, duplicate=True))
                continue
            run = runs.get(task.run_id)
            if run is None:  # only the runs of unfinished tasks come with them
                run = runs[task.run_id] = self._ledger.get(task.run_id, Run)
            produced[index] = self._artifacts(task, request, caller, now)
            produced[index] += self._next_steps(task, run, request, caller, now)
            run.settle(task.id, "succeeded", error=None, ctx=_ctx(caller, task), now=now)
            by_run[run.id].append(index)
        groups = list(by_run.items())
        units = [
            [
                *(tasks[requests[i].task_id] for i in indexes),
                *(a for i in indexes for a in produced.get(i, ())),
                runs[run_id],
            ]
            for run_id, indexes in groups
        ]
        results = self._ledger.commit_each(units) if units else []
        retry: list[int] = []
        for (_, indexes), result in zip(groups, results, strict=True):
            for index in indexes:
                if isinstance(result, ConcurrencyConflict):
                    retry.append(index)
                elif isinstance(result, Exception):
                    raise result
                else:
                    task = tasks[requests[index].task_id]
                    outcomes[index] = _Outcome(completion=_completion(task, result))
        return retry

    def _next_steps(
        self, task: Task, run: Run, request: CompleteTask, caller: Caller, now: Any
    ) -> list[Any]:
        """The run's next tasks (and their approvals), queued with this completion."""
        created: list[Any] = []
        ctx = _ctx(caller, task)
        for step in request.next:
            follow = queue_step(
                step, task=task, run=run, ctx=ctx, now=now, held=step.approval is not None
            )
            created.append(follow)
            if step.approval is not None:
                approval = step.approval
                created.append(
                    Approval.request(
                        id=approval_id_for(follow.id),
                        run_id=run.id,
                        task_id=follow.id,
                        tool_calls=approval.tool_calls,
                        summary_text=approval.summary,
                        evidence=approval.evidence,
                        on_denied=msgspec.to_builtins(approval.on_denied)
                        if approval.on_denied
                        else None,
                        ctx=ctx,
                        now=now,
                    )
                )
        return created

    def _artifacts(
        self, task: Task, request: CompleteTask, caller: Caller, now: Any
    ) -> list[Artifact]:
        """Artifact versions recorded with this completion."""
        if not request.artifacts:
            return []
        ids = [artifact_id(task.run_id, a.name) for a in request.artifacts]
        existing = self._ledger.get_many(ids)
        ctx = _ctx(caller, task)
        result: dict[UUID, Artifact] = {}
        for produced, ident in zip(request.artifacts, ids, strict=True):
            artifact = result.get(ident) or existing.get(ident)
            if artifact is None:
                artifact = Artifact.register(
                    run_id=task.run_id, name=produced.name, ctx=ctx, now=now
                )
            artifact.add_version(
                digest=produced.digest,
                size=produced.size,
                content_type=produced.content_type,
                task_id=task.id,
                attempt=request.attempt,
                ctx=ctx,
                now=now,
            )
            result[ident] = artifact
        return list(result.values())

    # -- fail -----------------------------------------------------------------

    def fail(self, request: FailTask, caller: Caller) -> Completion:
        def attempt() -> Completion:
            now = self._clock()
            task = _visible_task(self._ledger.get(request.task_id, Task), caller)
            ctx = _ctx(caller, task)
            task.fail(
                attempt=request.attempt,
                error=request.error,
                retryable=request.retryable,
                policy=self._policy,
                jitter=self._jitter(),
                ctx=ctx,
                now=now,
                control_hash=request.control_hash,
            )
            changed: list[Any] = [task]
            if task.status == TaskStatus.DEAD:
                run: Run = self._ledger.get(task.run_id, Run)
                run.settle(task.id, "dead", error=task.error, ctx=ctx, now=now)
                changed.append(run)
            position = self._ledger.commit(*changed)
            self._observer.failed(1)
            if task.status == TaskStatus.DEAD:
                self._observer.dead_lettered(1)
            return _completion(task, position)

        return self._retry(attempt)

    # -- cancel ---------------------------------------------------------------

    def cancel_run(self, run_id: UUID, reason: str, caller: Caller) -> tuple[Run, int | None]:
        """Cancel a run and its unfinished tasks; idempotent for a cancelled run."""

        def attempt() -> tuple[Run, int | None]:
            now = self._clock()
            run: Run = self._ledger.get(run_id, Run)
            if not caller.sees(run.tenant):
                raise NotFound("run", run_id)
            ctx = EventContext(
                actor=caller.actor,
                tenant=run.tenant,
                correlation_id=str(run.id),
                causation_id=caller.request_id,
            )
            if not run.cancel(reason=reason, ctx=ctx, now=now):
                return run, None
            tasks = self._ledger.get_many(run.task_ids)
            changed: list[Any] = [run]
            for task in tasks.values():
                if task.cancel(reason=reason or "run cancelled", ctx=ctx, now=now):
                    changed.append(task)
            return run, self._ledger.commit(*changed)

        return self._retry(attempt)

    # -- reaper ---------------------------------------------------------------

    def reap_expired_leases(self, caller: Caller, limit: int = 500) -> int:
        """Record LeaseExpired for leases past their time; dead-letter exhausted tasks."""
        now = self._clock()
        dead: list[Task] = []

        def decide(
            tasks: list[Task], load: Callable[[Sequence[UUID]], dict[UUID, Any]]
        ) -> list[Any]:
            dead.clear()
            changed: list[Any] = []
            for task in tasks:
                if not task.lease_has_expired(now):
                    continue
                task.expire_lease(ctx=_ctx(caller, task), now=now)
                if task.status == TaskStatus.DEAD:
                    dead.append(task)
                changed.append(task)
            changed.extend(_settle_runs(dead, load, caller, now))
            return changed

        expired = self._retry(lambda: self._ledger.expire_leases(limit, now, decide))
        if expired:
            self._observer.lease_expired(len(expired))
        if dead:
            self._observer.dead_lettered(len(dead))
        return len(expired)

    def _retry(self, operation: Callable[[], _T]) -> _T:
        for _ in range(_MAX_RACES - 1):
            try:
                return operation()
            except ConcurrencyConflict:
                continue
        return operation()


def _visible_task(task: Task, caller: Caller) -> Task:
    """Another tenant's task does not exist for this caller."""
    if not caller.sees(task.tenant):
        raise NotFound("task", task.id)
    return task


def queue_step(
    step: NextStep, *, task: Task, run: Run, ctx: EventContext, now: Any, held: bool = False
) -> Task:
    """Queue ``step`` in ``task``'s run (which records it as one of its tasks)."""
    follow = Task.queue_new(
        id=uuid4(),
        run_id=run.id,
        command_id=task.command_id,
        kind=step.kind,
        input=step.input,
        queue=step.queue or task.queue,
        priority=step.priority,
        max_attempts=step.max_attempts,
        available_at=now,
        ctx=ctx,
        now=now,
        held=held,
    )
    run.add_task(follow.id, ctx=ctx, now=now)
    return follow


def _ctx(caller: Caller, task: Task) -> EventContext:
    return EventContext(
        actor=caller.actor,
        tenant=task.tenant,
        correlation_id=str(task.run_id),
        causation_id=caller.request_id,
    )


def _settle_runs(
    dead: list[Task],
    load: Callable[[Sequence[UUID]], dict[UUID, Any]],
    caller: Caller,
    now: Any,
) -> list[Any]:
    if not dead:
        return []
    runs = load(list({t.run_id for t in dead}))
    for task in dead:
        runs[task.run_id].settle(task.id, "dead", error=task.error, ctx=_ctx(caller, task), now=now)
    return [r for r in runs.values() if r.pending_events]


def _completion(task: Task, position: int | None, *, duplicate: bool = False) -> Completion:
    return Completion(
        task_id=task.id,
        attempt=task.attempt,
        status=task.status,
        lease_expires_at=task.lease_expires_at,
        available_at=task.available_at if task.status == TaskStatus.QUEUED else None,
        position=position,
        duplicate=duplicate,
    )
