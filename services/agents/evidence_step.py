"""The EvidenceCollector step, read-only: the namespace's evidence package from the
cluster this process can see (or the package the caller uploaded), stored as an
artifact for the IncidentAgent."""

from __future__ import annotations

from typing import Any

import msgspec

from domain.incidents.package import EvidencePackage
from domain.incidents.planning import Intent
from schemas.commands import NextTask
from schemas.views import ClaimedTask
from services.agents.deps import AgentDeps
from services.agents.state import Kinds, as_input, state_of
from services.agents.step_io import load_json, store_json
from services.task_kinds import TaskContext, TaskError

__all__ = ["EvidenceStep", "evidence_summary"]

NO_SOURCE = (
    "no evidence source: this worker sees no cluster (set SYNAPS_KUBECONFIG or run in a "
    "cluster, or SYNAPS_K8S_DUMP_DIR) and the question came without evidence "
    "(synaps ask --dump DIR uploads a kubectl dump)"
)


def evidence_summary(package: EvidencePackage) -> dict[str, Any]:
    return {
        "namespace": package.namespace,
        "source": package.source,
        "pods": len(package.pods),
        "events": len(package.events),
        "workloads": len(package.workloads),
        "nodes": len(package.nodes),
        "logs": sum(len(c.logs()) for p in package.pods for c in p.containers),
    }


class EvidenceStep:
    def __init__(self, deps: AgentDeps) -> None:
        self._deps = deps

    async def _collect(self, namespace: str | None) -> EvidencePackage:
        if self._deps.evidence is None:
            raise TaskError(NO_SOURCE, retryable=False)
        try:
            async with self._deps.evidence() as source:
                return await source.collect(namespace)
        except TaskError:
            raise
        except Exception as exc:  # noqa: BLE001 - any collector failure is retried
            raise TaskError(f"collecting evidence failed: {type(exc).__name__}: {exc}") from None

    async def __call__(self, task: ClaimedTask, ctx: TaskContext) -> dict[str, Any]:
        state = state_of(task.input)
        if state.evidence is not None:
            package = await load_json(
                self._deps.artifacts, state.evidence, EvidencePackage, "uploaded evidence"
            )
            if state.namespace and package.namespace and package.namespace != state.namespace:
                raise TaskError(
                    f"the uploaded evidence is of namespace {package.namespace!r}, "
                    f"not {state.namespace!r}",
                    retryable=False,
                )
        else:
            package = await self._collect(state.namespace)
        ref = await store_json(self._deps.artifacts, ctx, "evidence.json", package)
        summary = evidence_summary(package)
        state = msgspec.structs.replace(
            state,
            evidence=ref,
            evidence_source=package.source,
            namespace=state.namespace or package.namespace,
        )
        answer = (
            f"Collected evidence of namespace {package.namespace}: {summary['pods']} pods, "
            f"{summary['events']} events, {summary['logs']} log excerpts ({package.source})."
        )
        if state.plan is not None and state.plan.intent is Intent.COLLECT_EVIDENCE:
            return {"evidence": summary, "answer": answer}  # what was asked for: done
        ctx.next.append(NextTask(kind=Kinds.ANALYZE, input=as_input(state)))
        return {"evidence": summary, "answer": answer}
