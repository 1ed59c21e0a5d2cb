"""What one step of the agent chain hands the next: the question, the plan, references
to what was stored, and what was decided so far.

It travels as the next task's input, so every step is a self-contained task that
any worker can claim; large things (the evidence package, the report) are
artifacts and travel by digest.
"""

from __future__ import annotations

from typing import Any

import msgspec

from domain.incidents.planning import Plan
from schemas.artifacts import ArtifactRef
from services.task_kinds import TaskError

__all__ = ["AgentState", "Kinds", "as_input", "state_of"]


class Kinds:
    """The task kinds of the chain, in order."""

    ASK = "agent.ask"  # a free question: the Planner
    DIAGNOSE = "incident.diagnose"  # an explicit namespace + workload: the Planner
    COLLECT = "agent.collect_evidence"
    ANALYZE = "agent.diagnose"  # the IncidentAgent
    DEVOPS = "agent.devops"
    EXECUTE = "agent.execute"  # held until a person approves its tool calls
    REVIEW = "agent.review"


class AgentState(msgspec.Struct, kw_only=True, omit_defaults=True):
    question: str
    namespace: str | None = None
    workload: str | None = None
    context: Any = None  # what the caller sent along (Syntra's "context")
    plan: Plan | None = None
    evidence: ArtifactRef | None = None  # the evidence package, in the artifact store
    evidence_source: str | None = None
    report: dict[str, Any] | None = None  # the IncidentReport (also stored as an artifact)
    proposed: list[dict[str, Any]] = []  # tool calls with their status and reason
    read_results: list[dict[str, Any]] = []
    awaiting_approval: bool = False
    executed: list[dict[str, Any]] | None = None  # outcomes of the approved write calls
    not_executed_reason: str | None = None
    denied: bool = False


def state_of(task_input: Any) -> AgentState:
    """The state a step was queued with; a malformed one is a bug upstream, not retryable."""
    try:
        return msgspec.convert(task_input, AgentState)
    except msgspec.ValidationError as exc:
        raise TaskError(f"malformed agent step input: {exc}", retryable=False) from None


def as_input(state: AgentState, **changes: Any) -> dict[str, Any]:
    """The next step's input: this state with ``changes``."""
    result: dict[str, Any] = msgspec.to_builtins(msgspec.structs.replace(state, **changes))
    return result
