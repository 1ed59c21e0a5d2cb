"""The Planner step: what is asked, about which namespace and workload; then the chain
goes on to collect evidence (or, for a general question, ends with help)."""

from __future__ import annotations

from typing import Any

import msgspec

from domain.incidents.planning import Intent, Plan
from schemas.agent_inputs import AskInput, DiagnoseInput, check_input
from schemas.commands import NextTask
from schemas.views import ClaimedTask
from services.agents.answer import help_answer, plan_answer
from services.agents.deps import AgentDeps
from services.agents.llm_planner import LlmPlanAdvisor
from services.agents.model_choice import agent_route
from services.agents.state import AgentState, Kinds, as_input
from services.agents.step_io import add_usage
from services.incidents.agent import plan_view
from services.incidents.planner import Planner
from services.task_kinds import TaskContext, TaskError

__all__ = ["PlannerStep", "initial_state"]


def initial_state(task: ClaimedTask) -> AgentState:
    """The chain's state from the command's input; bad input fails at once, unretried."""
    problem = check_input(task.kind, task.input)
    if problem is not None:
        raise TaskError(problem, retryable=False)
    if task.kind == Kinds.DIAGNOSE:
        d = msgspec.convert(task.input, DiagnoseInput)
        question = d.question or f"diagnose {d.workload} in {d.namespace}"
        return AgentState(
            question=question, namespace=d.namespace, workload=d.workload, evidence=d.evidence
        )
    a = msgspec.convert(task.input, AskInput)
    return AgentState(
        question=a.text,
        namespace=a.namespace,
        workload=a.workload,
        context=a.context,
        evidence=a.evidence,
    )


class PlannerStep:
    def __init__(self, deps: AgentDeps) -> None:
        self._deps = deps

    async def __call__(self, task: ClaimedTask, ctx: TaskContext) -> dict[str, Any]:
        state = initial_state(task)
        route = agent_route(
            self._deps.providers, ctx.control, task_kind=task.kind, tenant=task.tenant, intent=None
        )
        advisor = (
            LlmPlanAdvisor(route, snapshot=ctx.control, redactor=self._deps.redactor)
            if route
            else None
        )
        plan: Plan = await Planner(advisor).plan(
            state.question, namespace=state.namespace, workload=state.workload
        )
        if advisor is not None:
            add_usage(ctx, advisor.usage)
        state = msgspec.structs.replace(
            state,
            plan=plan,
            namespace=state.namespace or plan.namespace,
            workload=state.workload or plan.workload,
        )
        view = msgspec.to_builtins(plan_view(plan))
        if plan.intent is Intent.GENERAL_HELP:
            return {**view, "answer": help_answer(state.question)}
        ctx.next.append(NextTask(kind=Kinds.COLLECT, input=as_input(state)))
        return {**view, "answer": plan_answer(plan)}
