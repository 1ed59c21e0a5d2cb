"""An Approval: a human's decision on tool calls that would change a cluster.

Nothing writes without one: the step that would write is queued *held*, and
only ``ApprovalGranted`` releases it. A denial cancels it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from domain.aggregate import Aggregate
from domain.envelope import AggregateCreated, AggregateEvent, EventContext
from domain.errors import InvalidTransition

__all__ = [
    "Approval",
    "ApprovalDenied",
    "ApprovalGranted",
    "ApprovalRequested",
    "ApprovalStatus",
    "approval_id_for",
]


def approval_id_for(task_id: UUID) -> UUID:
    """The one approval that can release a held task: the task that runs the tool
    calls finds its approval (and the calls it may run) by its own id."""
    return uuid5(task_id, "approval")


class ApprovalStatus:
    PENDING = "pending"
    GRANTED = "granted"
    DENIED = "denied"


class ApprovalRequested(AggregateCreated, frozen=True, kw_only=True):
    run_id: UUID
    task_id: UUID  # the held task that runs the tool calls once granted
    tool_calls: list[dict[str, Any]]
    summary_text: str = ""  # what the tool calls would do, and why
    evidence: list[str] = []
    on_denied: dict[str, Any] | None = None  # a task to run instead when denied

    def summary(self) -> str:
        names = ", ".join(str(c.get("tool", "?")) for c in self.tool_calls)
        return f"approval requested for {names}"


class ApprovalGranted(AggregateEvent, frozen=True, kw_only=True):
    reason: str = ""

    def summary(self) -> str:
        return "approved" + (f": {self.reason}" if self.reason else "")


class ApprovalDenied(AggregateEvent, frozen=True, kw_only=True):
    reason: str = ""

    def summary(self) -> str:
        return "denied" + (f": {self.reason}" if self.reason else "")


for _event in (ApprovalRequested, ApprovalGranted, ApprovalDenied):
    _event.aggregate_type = "Approval"


class Approval(Aggregate):
    def __init__(
        self,
        run_id: UUID,
        task_id: UUID,
        tool_calls: list[dict[str, Any]],
        summary_text: str,
        evidence: list[str],
        on_denied: dict[str, Any] | None,
        tenant: str,
    ) -> None:
        self.run_id = run_id
        self.task_id = task_id
        self.tool_calls = tool_calls
        self.summary_text = summary_text
        self.evidence = evidence
        self.on_denied = on_denied
        self.tenant = tenant
        self.status = ApprovalStatus.PENDING
        self.decided_by: str | None = None
        self.reason: str | None = None

    @classmethod
    def request(
        cls,
        *,
        id: UUID,
        run_id: UUID,
        task_id: UUID,
        tool_calls: list[dict[str, Any]],
        summary_text: str,
        evidence: list[str],
        on_denied: dict[str, Any] | None,
        ctx: EventContext,
        now: datetime,
    ) -> Approval:
        if not tool_calls:
            raise InvalidTransition("an approval needs at least one tool call")
        return cls.start(
            ApprovalRequested,
            id=id,
            ctx=ctx,
            now=now,
            run_id=run_id,
            task_id=task_id,
            tool_calls=tool_calls,
            summary_text=summary_text,
            evidence=evidence,
            on_denied=on_denied,
        )

    def grant(self, *, reason: str, ctx: EventContext, now: datetime) -> bool:
        """Approve; False if it already was. A denied approval cannot be granted."""
        if self.status == ApprovalStatus.GRANTED:
            return False
        if self.status != ApprovalStatus.PENDING:
            raise InvalidTransition(f"approval {self.id} was already {self.status}")
        self.record(ApprovalGranted, ctx=ctx, now=now, reason=reason)
        return True

    def deny(self, *, reason: str, ctx: EventContext, now: datetime) -> bool:
        if self.status == ApprovalStatus.DENIED:
            return False
        if self.status != ApprovalStatus.PENDING:
            raise InvalidTransition(f"approval {self.id} was already {self.status}")
        self.record(ApprovalDenied, ctx=ctx, now=now, reason=reason)
        return True

    def when(self, event: AggregateEvent) -> None:
        if isinstance(event, ApprovalGranted):
            self.status, self.decided_by, self.reason = (
                ApprovalStatus.GRANTED,
                event.actor,
                event.reason,
            )
        elif isinstance(event, ApprovalDenied):
            self.status, self.decided_by, self.reason = (
                ApprovalStatus.DENIED,
                event.actor,
                event.reason,
            )
