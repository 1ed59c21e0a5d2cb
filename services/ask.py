"""Ask the DevOps teammate and wait (bounded) for its answer: the ``agent.ask`` chain
until it ends, or until it waits for a person to approve its tool calls."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec

from domain.errors import NotFound
from domain.task import TaskStatus
from schemas.commands import SubmitCommand
from schemas.views import RunView
from services.ports import Caller
from services.run_views import RunViews
from services.submit import SubmitService

__all__ = ["AskAnswer", "AskService"]

_PENDING = "I am still working on it: follow the run for the answer."


class AskAnswer(msgspec.Struct, frozen=True, kw_only=True):
    run_id: UUID
    status: str  # the run's: succeeded, failed, running (waiting for an approval), ...
    answer: str
    awaiting_approval: bool
    diagnosis: dict[str, Any] | None
    output: Any
    position: int
    created: bool


def _settled(run: RunView) -> bool:
    return run.status in ("succeeded", "failed", "cancelled") or any(
        t.status == TaskStatus.HELD for t in run.tasks
    )


def _answer_of(run: RunView) -> str:
    if isinstance(run.output, dict) and isinstance(run.output.get("answer"), str):
        return str(run.output["answer"])
    if run.status == "failed":
        return f"I could not answer: {run.error or 'the run failed'}"
    return _PENDING


class AskService:
    def __init__(self, submit: SubmitService, runs: RunViews, wait_seconds: float) -> None:
        self._submit = submit
        self._runs = runs
        self._wait_seconds = wait_seconds

    def ask(
        self,
        payload: dict[str, Any],
        caller: Caller,
        *,
        idempotency_key: str | None = None,
        wait_seconds: float | None = None,
    ) -> AskAnswer:
        outcome = self._submit.submit(
            SubmitCommand(kind="agent.ask", input=payload), caller, idempotency_key
        )
        submitted = outcome.submitted
        wait = self._wait_seconds if wait_seconds is None else min(wait_seconds, self._wait_seconds)
        try:
            read = self._runs.get(
                submitted.run_id,
                caller,
                min_position=submitted.position,
                wait_until_finished=wait if wait > 0 else None,
                settled=_settled,
            )
        except NotFound:  # accepted, but the runs view has not caught up: not an error
            return AskAnswer(
                run_id=submitted.run_id,
                status="queued",
                answer=_PENDING,
                awaiting_approval=False,
                diagnosis=None,
                output=None,
                position=submitted.position,
                created=outcome.created,
            )
        run = read.run
        output = run.output if isinstance(run.output, dict) else None
        return AskAnswer(
            run_id=run.run_id,
            status=run.status,
            answer=_answer_of(run),
            awaiting_approval=any(t.status == TaskStatus.HELD for t in run.tasks),
            diagnosis=(output or {}).get("diagnosis"),
            output=run.output,
            position=submitted.position,
            created=outcome.created,
        )
