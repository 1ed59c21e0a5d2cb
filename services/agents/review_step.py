"""The Reviewer step: did the plan address the root cause, did the fix run and does
the evidence now agree; then the incident is remembered (one incident per repeated
finding, with occurrences) and correlated with similar past ones."""

from __future__ import annotations

from typing import Any

import msgspec

from domain.incidents.package import EvidencePackage
from schemas.views import ClaimedTask
from services.agents.answer import review_answer
from services.agents.deps import AgentDeps
from services.agents.state import AgentState, state_of
from services.incidents.agent import IncidentAgent
from services.incidents.planner import Planner
from services.task_kinds import TaskContext, TaskError

__all__ = ["ReviewStep"]

HEALTHY = "healthy"


def _outcome(state: AgentState) -> tuple[str, bool]:
    """What happened to the plan, and whether its writes all ran."""
    if state.denied:
        return "the approval was denied: the plan was not executed", False
    if state.not_executed_reason:
        return f"not executed: {state.not_executed_reason}", False
    if state.executed is not None:
        done = [e for e in state.executed if e["status"] == "done"]
        all_done = bool(done) and len(done) == len(state.executed)
        return f"executed {len(done)} of {len(state.executed)} approved call(s)", all_done
    return "no write was needed", False


class ReviewStep:
    def __init__(self, deps: AgentDeps) -> None:
        self._deps = deps

    async def _verify(self, state: AgentState) -> tuple[bool, str]:
        """Diagnose the namespace again (rules only): is the root cause gone?"""
        report = state.report or {}
        if self._deps.evidence is None:
            return False, "no cluster connection to verify against"
        try:
            async with self._deps.evidence() as source:
                package: EvidencePackage = await source.collect(report.get("namespace"))
        except Exception as exc:  # noqa: BLE001 - verification is best effort, and says so
            return False, f"could not collect evidence again: {exc}"
        plan = await Planner().plan(
            state.question, namespace=package.namespace, workload=state.workload
        )
        again = await IncidentAgent(redactor=self._deps.redactor).analyze(
            package, plan, state.question
        )
        before = report["root_cause"]["type"]
        if again.root_cause.type == before:
            return False, f"still {before}: {'; '.join(again.root_cause.evidence[:2])}"
        return True, f"{before} no longer found (now {again.root_cause.type})"

    async def __call__(self, task: ClaimedTask, ctx: TaskContext) -> dict[str, Any]:
        state = state_of(task.input)
        report = state.report
        if report is None:
            raise TaskError("no diagnosis to review", retryable=False)
        cause = report["root_cause"]["type"]
        outcome, all_done = _outcome(state)
        writes = [p for p in state.proposed if p["status"] == "awaiting_approval"]
        verified, verification = (
            await self._verify(state) if all_done else (False, "nothing was executed to verify")
        )
        checks = [
            {
                "check": "diagnosis_confident",
                "ok": not report.get("needs_review", False),
                "detail": f"{cause} at {report['root_cause']['confidence']:.2f}",
            },
            {
                "check": "plan_addresses_root_cause",
                "ok": cause == HEALTHY or bool(writes) or bool(state.proposed),
                "detail": ", ".join(p["tool"] for p in state.proposed)
                or "remediation left to a person: " + report["remediation"]["immediate"],
            },
            {"check": "remediation_executed", "ok": all_done, "detail": outcome},
            {"check": "verification_passed", "ok": verified, "detail": verification},
        ]
        similar: list[dict[str, Any]] = []
        memory: dict[str, Any] | None = None
        if self._deps.memory is not None and cause != HEALTHY:
            found = await self._deps.memory.similar(tenant=task.tenant, report=report, limit=3)
            similar = [msgspec.to_builtins(s) for s in found]
            remembered = await self._deps.memory.remember(
                tenant=task.tenant,
                run_id=task.run_id,
                report=report,
                remediation_executed=all_done,
                verified=verified,
                actor=f"agent:reviewer@{task.task_id}",
            )
            memory = msgspec.to_builtins(remembered)
        calls = state.executed if state.executed else state.proposed
        return {
            "diagnosis": report,
            "tool_calls": calls,
            "review": checks,
            "verified": verified,
            "incident": memory,
            "similar_incidents": similar,
            "answer": review_answer(
                report,
                calls,
                outcome=f"{outcome}; {verification}",
                similar=similar,
                occurrences=(memory or {}).get("occurrences"),
            ),
        }
