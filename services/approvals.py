"""Approve or deny tool calls that would change a cluster; the decision is an event
with the person who made it as its actor."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from uuid import UUID

import msgspec

from domain.approval import Approval, ApprovalStatus, approval_id_for
from domain.envelope import EventContext
from domain.errors import ConcurrencyConflict, NotFound
from domain.run import Run
from domain.task import Task, TaskStatus
from schemas.commands import NextStep
from services.ports import Caller, Clock, LedgerPort
from services.queue import queue_step

__all__ = ["ApprovalService", "Decision"]

_T = TypeVar("_T")


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    approval_id: UUID
    status: str
    run_id: UUID
    task_id: UUID
    position: int | None  # None: it had already been decided so


class ApprovalService:
    def __init__(self, ledger: LedgerPort, clock: Clock) -> None:
        self._ledger = ledger
        self._clock = clock

    def approve(self, approval_id: UUID, reason: str, caller: Caller) -> Decision:
        def attempt() -> Decision:
            now = self._clock()
            approval = self._load(approval_id, caller)
            task: Task = self._ledger.get(approval.task_id, Task)
            ctx = _ctx(caller, approval)
            if not approval.grant(reason=reason, ctx=ctx, now=now):
                return _decision(approval, None)
            changed: list[object] = [approval]
            if task.status == TaskStatus.HELD:
                task.release_hold(reason=f"approved by {caller.actor}", ctx=ctx, now=now)
                changed.append(task)
            return _decision(approval, self._ledger.commit(*changed))  # type: ignore[arg-type]

        return _retry(attempt)

    def deny(self, approval_id: UUID, reason: str, caller: Caller) -> Decision:
        def attempt() -> Decision:
            now = self._clock()
            approval = self._load(approval_id, caller)
            task: Task = self._ledger.get(approval.task_id, Task)
            run: Run = self._ledger.get(approval.run_id, Run)
            ctx = _ctx(caller, approval)
            if not approval.deny(reason=reason, ctx=ctx, now=now):
                return _decision(approval, None)
            changed: list[object] = [approval]
            if approval.on_denied is not None and not run.is_terminal:
                step = msgspec.convert(approval.on_denied, NextStep)
                changed.append(queue_step(step, task=task, run=run, ctx=ctx, now=now))
            if task.cancel(reason=f"approval denied by {caller.actor}", ctx=ctx, now=now):
                changed.append(task)
                run.settle(task.id, "cancelled", error=None, ctx=ctx, now=now)
            changed.append(run)
            return _decision(approval, self._ledger.commit(*changed))  # type: ignore[arg-type]

        return _retry(attempt)

    def granted_tool_calls(self, task_id: UUID) -> list[dict[str, object]] | None:
        """The tool calls approved for the held task ``task_id``; None unless granted.
        The task runs these, never what its own input says."""
        try:
            approval: Approval = self._ledger.get(approval_id_for(task_id), Approval)
        except NotFound:
            return None
        if approval.status != ApprovalStatus.GRANTED or approval.task_id != task_id:
            return None
        return [dict(call) for call in approval.tool_calls]

    def _load(self, approval_id: UUID, caller: Caller) -> Approval:
        approval: Approval = self._ledger.get(approval_id, Approval)
        if approval.tenant != caller.tenant and not getattr(caller, "all_tenants", False):
            raise NotFound("approval", approval_id)
        return approval


def _ctx(caller: Caller, approval: Approval) -> EventContext:
    return EventContext(
        actor=caller.actor,
        tenant=approval.tenant,
        correlation_id=str(approval.run_id),
        causation_id=caller.request_id,
    )


def _decision(approval: Approval, position: int | None) -> Decision:
    return Decision(
        approval_id=approval.id,
        status=approval.status,
        run_id=approval.run_id,
        task_id=approval.task_id,
        position=position,
    )


def _retry(operation: Callable[[], _T]) -> _T:
    for _ in range(4):
        try:
            return operation()
        except ConcurrencyConflict:
            continue
    return operation()
