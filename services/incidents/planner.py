"""The Planner: rules first; the routed model only when the rules are unsure."""

from __future__ import annotations

from collections.abc import Sequence

from domain.incidents.planning import Plan, plan_question
from services.incidents.ports import PlanAdvisor

__all__ = ["Planner"]


class Planner:
    def __init__(self, advisor: PlanAdvisor | None = None, *, threshold: float = 0.7) -> None:
        self.advisor = advisor
        self.threshold = threshold

    async def plan(
        self,
        question: str,
        *,
        namespace: str | None = None,
        workload: str | None = None,
        known_names: Sequence[str] = (),
    ) -> Plan:
        plan = plan_question(
            question, namespace=namespace, workload=workload, known_names=known_names
        )
        if self.advisor is None or plan.confidence >= self.threshold:
            return plan
        advised = await self.advisor.advise_plan(question, plan)
        return advised if advised is not None else plan
