"""The IncidentAgent step: rules over the evidence first; below the arbiter threshold
(control registry) the routed model gets the redacted evidence. The report is stored
as an artifact and handed to the DevOps step."""

from __future__ import annotations

from typing import Any

import msgspec

from domain.incidents.package import EvidencePackage
from domain.incidents.planning import Plan
from schemas.commands import NextTask
from schemas.views import ClaimedTask
from services.agents.answer import diagnosis_answer
from services.agents.deps import AgentDeps
from services.agents.llm_arbiter import LlmArbiter
from services.agents.model_choice import agent_route, policy_threshold
from services.agents.state import AgentState, Kinds, as_input, state_of
from services.agents.step_io import add_usage, load_json, store_json
from services.incidents.agent import IncidentAgent
from services.incidents.analyze import names_in
from services.incidents.planner import Planner
from services.task_kinds import TaskContext, TaskError

__all__ = ["DiagnoseStep"]


async def _plan_against(state: AgentState, package: EvidencePackage) -> Plan:
    """The Planner's rules again, now that the namespace's real names are known; the
    first plan stands when it was surer (e.g. the model's)."""
    replanned = await Planner().plan(
        state.question,
        namespace=package.namespace or state.namespace,
        workload=state.workload,
        known_names=names_in(package),
    )
    first = state.plan
    if first is None or replanned.confidence >= first.confidence:
        return replanned
    return first


class DiagnoseStep:
    def __init__(self, deps: AgentDeps) -> None:
        self._deps = deps

    async def __call__(self, task: ClaimedTask, ctx: TaskContext) -> dict[str, Any]:
        state = state_of(task.input)
        if state.evidence is None:
            raise TaskError("no evidence to diagnose", retryable=False)
        package = await load_json(self._deps.artifacts, state.evidence, EvidencePackage, "evidence")
        plan = await _plan_against(state, package)
        route = agent_route(
            self._deps.providers,
            ctx.control,
            task_kind=task.kind,
            tenant=task.tenant,
            intent=plan.intent.value,
        )
        arbiter = LlmArbiter(route, snapshot=ctx.control) if route else None
        agent = IncidentAgent(
            arbiter, threshold=policy_threshold(ctx.control), redactor=self._deps.redactor
        )
        report = msgspec.to_builtins(await agent.analyze(package, plan, state.question))
        if arbiter is not None:
            add_usage(ctx, arbiter.usage)
        await store_json(self._deps.artifacts, ctx, "diagnosis.json", report)
        state = msgspec.structs.replace(state, plan=plan, report=report)
        ctx.next.append(NextTask(kind=Kinds.DEVOPS, input=as_input(state)))
        return {"diagnosis": report, "answer": diagnosis_answer(report)}
