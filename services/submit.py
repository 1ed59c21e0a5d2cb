"""Submit a command: one transaction records Command, Thread, Run and the first Task.

Idempotency needs no table of its own: a key maps to a fixed command id, and
the ledger refuses a second first event for the same aggregate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID, uuid4

from domain.command import Command, command_id_for_key
from domain.envelope import EventContext
from domain.errors import ConcurrencyConflict, IdempotencyConflict, InvalidArgument, NotFound
from domain.run import Run
from domain.task import Task
from domain.thread import Thread
from schemas.agent_inputs import check_input
from schemas.commands import SubmitCommand
from schemas.moments import in_utc
from schemas.views import Submitted
from services.observer import Observer
from services.ports import Caller, Clock, LedgerPort
from services.wakeups import Wakeups

__all__ = ["SubmitOutcome", "SubmitService"]

_MAX_RACES = 5


@dataclass(frozen=True, slots=True)
class SubmitOutcome:
    submitted: Submitted
    created: bool  # False: an idempotent replay of an earlier submit


class SubmitService:
    def __init__(
        self,
        ledger: LedgerPort,
        clock: Clock,
        wakeups: Wakeups | None = None,
        observer: Observer | None = None,
        new_id: Callable[[], UUID] = uuid4,
    ) -> None:
        self._new_id = new_id
        self._ledger = ledger
        self._clock = clock
        self._wakeups = wakeups
        self._observer = observer or Observer()

    def submit(
        self, command: SubmitCommand, caller: Caller, idempotency_key: str | None = None
    ) -> SubmitOutcome:
        problem = check_input(command.kind, command.input)
        if problem is not None:
            raise InvalidArgument(problem)
        request_hash = command.request_hash()
        command_id = (
            command_id_for_key(caller.tenant, idempotency_key)
            if idempotency_key
            else self._new_id()
        )
        for _ in range(_MAX_RACES):
            if idempotency_key:
                replay = self._replay(command_id, idempotency_key, request_hash, caller)
                if replay is not None:
                    return replay
            try:
                return self._record(command, caller, command_id, idempotency_key, request_hash)
            except ConcurrencyConflict:
                # Another submit won the key or changed the thread: look again.
                continue
        raise ConcurrencyConflict("submit kept losing races; try again")

    def _record(
        self,
        command: SubmitCommand,
        caller: Caller,
        command_id: UUID,
        idempotency_key: str | None,
        request_hash: str,
    ) -> SubmitOutcome:
        now = self._clock()
        not_before = in_utc(command.not_before, "not_before")
        run_id, task_id = self._new_id(), self._new_id()
        ctx = EventContext(
            actor=caller.actor,
            tenant=caller.tenant,
            correlation_id=str(run_id),
            causation_id=caller.request_id,
        )
        if command.thread_id is None:
            thread = Thread.begin(id=self._new_id(), run_id=run_id, ctx=ctx, now=now)
        else:
            thread = self._ledger.get(command.thread_id, Thread)
            if thread.tenant != caller.tenant:
                raise NotFound("thread", command.thread_id)
            thread.add_run(run_id, ctx=ctx, now=now)
        recorded = Command.submit(
            id=command_id,
            kind=command.kind,
            input=command.input,
            queue=command.queue,
            priority=command.priority,
            max_attempts=command.max_attempts,
            not_before=not_before,
            thread_id=thread.id,
            run_id=run_id,
            task_ids=[task_id],
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            ctx=ctx,
            now=now,
        )
        run = Run.create(
            id=run_id,
            command_id=command_id,
            thread_id=thread.id,
            kind=command.kind,
            task_ids=[task_id],
            ctx=ctx,
            now=now,
        )
        task = Task.queue_new(
            id=task_id,
            run_id=run_id,
            command_id=command_id,
            kind=command.kind,
            input=command.input,
            queue=command.queue,
            priority=command.priority,
            max_attempts=command.max_attempts,
            available_at=max(now, not_before) if not_before else now,
            ctx=ctx,
            now=now,
        )
        position = self._ledger.commit(recorded, thread, run, task)
        self._observer.submitted(1)
        if self._wakeups is not None and task.available_at <= now:
            self._wakeups.notify(task.queue)
        return SubmitOutcome(
            Submitted(
                command_id=command_id,
                run_id=run_id,
                thread_id=thread.id,
                task_ids=[task_id],
                position=position,
            ),
            created=True,
        )

    def _replay(
        self, command_id: UUID, key: str, request_hash: str, caller: Caller
    ) -> SubmitOutcome | None:
        try:
            earlier: Command = self._ledger.get(command_id, Command)
        except NotFound:
            return None
        if earlier.tenant != caller.tenant or earlier.request_hash != request_hash:
            raise IdempotencyConflict(key)
        return SubmitOutcome(
            Submitted(
                command_id=earlier.id,
                run_id=earlier.run_id,
                thread_id=earlier.thread_id,
                task_ids=earlier.task_ids,
                position=self._ledger.transaction_position(earlier.id, 1),
            ),
            created=False,
        )
