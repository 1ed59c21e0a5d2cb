"""The agent pack: its agents, and registering their steps as task kinds."""

from __future__ import annotations

from msgspec import Struct

from services.agents.deps import AgentDeps
from services.agents.devops_step import DevOpsStep, ExecuteStep
from services.agents.diagnose_step import DiagnoseStep
from services.agents.evidence_step import EvidenceStep
from services.agents.planner_step import PlannerStep
from services.agents.review_step import ReviewStep
from services.agents.state import Kinds
from services.task_kinds import TaskKinds

__all__ = ["AGENTS", "AgentInfo", "register_agent_pack"]


class AgentInfo(Struct, frozen=True, kw_only=True):
    name: str
    kinds: list[str]
    description: str


AGENTS = [
    AgentInfo(
        name="Planner",
        kinds=[Kinds.ASK, Kinds.DIAGNOSE],
        description="Reads the question: intent (diagnose_pod, namespace_overview, "
        "collect_evidence, general_help), namespace and workload; rules first, the routed "
        "model when they are unsure.",
    ),
    AgentInfo(
        name="EvidenceCollector",
        kinds=[Kinds.COLLECT],
        description="Read-only: pods (all containers), current and previous logs, events, "
        "owners, nodes, PVCs, ConfigMaps and Secrets by name; stored as an artifact.",
    ),
    AgentInfo(
        name="IncidentAgent",
        kinds=[Kinds.ANALYZE],
        description="Rules for every root-cause type with confidence and evidence; below "
        "the arbiter threshold the routed model gets the redacted evidence.",
    ),
    AgentInfo(
        name="DevOps",
        kinds=[Kinds.DEVOPS, Kinds.EXECUTE],
        description="Turns the diagnosis into tool calls: read-only ones run, write ones "
        "wait for an approval, destructive ones are refused unless the policy allows.",
    ),
    AgentInfo(
        name="Reviewer",
        kinds=[Kinds.REVIEW],
        description="Checks the plan addressed the root cause and whether verification "
        "passed; remembers the incident and finds similar past ones.",
    ),
]


def register_agent_pack(kinds: TaskKinds, deps: AgentDeps) -> None:
    """Every step of the chain as a task kind of ``kinds``."""
    planner = PlannerStep(deps)
    kinds.register(Kinds.ASK, planner)
    kinds.register(Kinds.DIAGNOSE, planner)
    kinds.register(Kinds.COLLECT, EvidenceStep(deps))
    kinds.register(Kinds.ANALYZE, DiagnoseStep(deps))
    kinds.register(Kinds.DEVOPS, DevOpsStep(deps))
    kinds.register(Kinds.EXECUTE, ExecuteStep(deps))
    kinds.register(Kinds.REVIEW, ReviewStep(deps))
