"""One incident question end to end: plan, collect the evidence, diagnose."""

from __future__ import annotations

from domain.incidents.package import EvidencePackage
from domain.incidents.planning import plan_question
from schemas.incidents import IncidentReport
from services.incidents.agent import IncidentAgent
from services.incidents.planner import Planner
from services.incidents.ports import EvidenceSource

__all__ = ["analyze_incident", "names_in"]


def names_in(package: EvidencePackage) -> list[str]:
    """Names an operator may use for something in the package, for the Planner to match."""
    names: dict[str, None] = {}
    for pod in package.pods:
        if pod.workload is not None:
            names[pod.workload.name] = None
        for label in ("app", "app.kubernetes.io/name"):
            if label in pod.labels:
                names[pod.labels[label]] = None
    for workload in package.workloads:
        if workload.owner is None:
            names[workload.name] = None
    for service in package.services:
        names[service.name] = None
    for pod in package.pods:
        names[pod.name] = None
    return list(names)


async def analyze_incident(
    question: str,
    source: EvidenceSource,
    *,
    namespace: str | None = None,
    workload: str | None = None,
    planner: Planner | None = None,
    agent: IncidentAgent | None = None,
) -> IncidentReport:
    planner = planner or Planner()
    agent = agent or IncidentAgent()
    # Rules alone pick the namespace to collect; the full plan waits for the evidence,
    # so the workload can be matched against what the namespace really holds.
    first = plan_question(question, namespace=namespace, workload=workload)
    package = await source.collect(namespace or first.namespace)
    plan = await planner.plan(
        question,
        namespace=package.namespace or first.namespace,
        workload=workload,
        known_names=names_in(package),
    )
    return await agent.analyze(package, plan, question)
