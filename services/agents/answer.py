"""The answer as a person reads it, at every step of the chain: what the Syntra
clients show (``result``) and what ``synaps ask`` prints under its report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.incidents.planning import Plan

__all__ = ["diagnosis_answer", "help_answer", "plan_answer", "review_answer"]

_HELP = (
    "I diagnose Kubernetes incidents from cluster evidence. Ask e.g. "
    '"why is checkout crashing in staging?", "what is wrong in namespace shop?" or '
    '"collect evidence for api in prod". I collect pod states, logs and events (read-only), '
    "name the root cause with the evidence lines, propose a fix, and change nothing in the "
    "cluster without an approval."
)


def help_answer(question: str) -> str:
    return _HELP


def plan_answer(plan: Plan) -> str:
    steps = "; ".join(s.action for s in plan.execution_plan)
    target = plan.workload or "the namespace"
    where = plan.namespace or "the default namespace"
    return f"Plan ({plan.intent.value}) for {target} in {where}: {steps}."


def diagnosis_answer(report: dict[str, Any]) -> str:
    cause = report["root_cause"]
    where = report["namespace"] + (f"/{report['target']}" if report.get("target") else "")
    lines = [
        f"Root cause: {cause['type']} in {where} "
        f"(confidence {cause['confidence']:.2f}, {cause['detection_method']})"
        + (" - needs review" if report.get("needs_review") else ""),
    ]
    lines += [f"  evidence: {e}" for e in cause["evidence"][:5]]
    if report.get("rationale"):
        lines.append(f"Why: {report['rationale']}")
    remediation = report["remediation"]
    lines += [
        f"Immediate: {remediation['immediate']}",
        f"Verify: {remediation['verification']}",
        f"Prevent: {remediation['prevention']}",
    ]
    return "\n".join(lines)


def _calls(proposed: Sequence[dict[str, Any]]) -> list[str]:
    lines = []
    for call in proposed:
        args = ", ".join(f"{k}={v}" for k, v in call.get("args", {}).items())
        lines.append(f"  {call['tool']}({args}): {call['status']}" + _why(call))
    return lines


def _why(call: dict[str, Any]) -> str:
    note = call.get("refused") or call.get("error") or call.get("reason")
    return f" - {note}" if note else ""


def review_answer(
    report: dict[str, Any] | None,
    proposed: Sequence[dict[str, Any]],
    *,
    outcome: str,
    similar: Sequence[dict[str, Any]] = (),
    occurrences: int | None = None,
) -> str:
    lines = [diagnosis_answer(report)] if report else []
    if proposed:
        lines.append("Tool calls:")
        lines += _calls(proposed)
    lines.append(f"Outcome: {outcome}")
    if occurrences and occurrences > 1:
        lines.append(f"Seen {occurrences} times (one incident, deduplicated).")
    for past in similar:
        lines.append(
            f"Similar: {past['root_cause']} in {past['namespace']}"
            + (f"/{past['target']}" if past.get("target") else "")
            + f" (similarity {past['similarity']:.2f}, {past['occurrences']}x"
            + (", fix verified" if past.get("verified") else "")
            + f"): {past['remediation']}"
        )
    return "\n".join(lines)
