"""The routed model as the IncidentAgent's arbiter, when the best rule finding is unsure.

The model sees only the redacted ``ArbiterRequest`` and answers in the rule
result's own shape (type, confidence, evidence), validated with msgspec; a type
outside the allowed ones is invalid like a malformed answer and gets the one
repair. Evidence the model did not quote from what it was given is dropped, so a
report never cites a line that is not in the cluster's evidence.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import msgspec
from msgspec import Meta, Struct

from services.agents.model_json import JsonAnswer, ask_json
from services.incidents.ports import ArbiterRequest, ArbiterVerdict
from services.model_routes import ModelRetryPolicy, Route
from services.prompts import active_template, render

__all__ = ["ARBITER_PROMPT", "DEFAULT_ARBITER_TEMPLATE", "LlmArbiter", "RootCauseAnswer"]

ARBITER_PROMPT = "incident.arbiter"

ARBITER_SYSTEM = (
    "You are a senior Kubernetes SRE deciding the root cause of an incident from cluster "
    "evidence. Pick the most specific cause that explains the symptom asked about, not the "
    "symptom itself (a crash loop whose logs show a refused database connection is "
    "dependency_unreachable). 'healthy' is a real answer when nothing is failing now. "
    "Quote evidence lines verbatim from the evidence given; never invent one."
)

DEFAULT_ARBITER_TEMPLATE = """\
Question: {question}
Namespace: {namespace}
Workload in question: {target}

The rule-based detector is unsure. Its findings, best first:
{rule_findings}

Answer with the root cause "type", exactly one of: {allowed_types}
with your "confidence" (0 to 1), the decisive "evidence" lines quoted verbatim from the
evidence below, and a short "rationale".

Evidence (secrets redacted), as JSON:
{evidence}
"""


class RootCauseAnswer(Struct, frozen=True, kw_only=True):
    """The rule result's shape, as the model must answer it."""

    type: Annotated[str, Meta(description="one of the allowed root-cause types")]
    confidence: Annotated[float, Meta(ge=0.0, le=1.0)]
    evidence: Annotated[
        list[str], Meta(description="decisive lines, quoted verbatim from the evidence")
    ]
    rationale: str = ""


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def quoted_only(lines: list[str], request: ArbiterRequest) -> list[str]:
    """The lines that really occur in the evidence or the rule findings given to the model."""
    given = list(_strings([request.evidence, request.rule_findings]))
    kept = []
    for line in (line.strip() for line in lines):
        if line and any(line in text or (len(text) > 20 and text in line) for text in given):
            kept.append(line)
    return kept


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


class LlmArbiter:
    """A ``RootCauseArbiter`` over a route; ``usage`` holds what its last question cost."""

    def __init__(
        self,
        route: Route,
        *,
        snapshot: Any = None,
        timeout_seconds: float = 60.0,
        policy: ModelRetryPolicy | None = None,
    ) -> None:
        self.route = route
        self.snapshot = snapshot
        self.timeout_seconds = timeout_seconds
        self.policy = policy
        self.usage: dict[str, Any] = {}
        self.last: JsonAnswer[RootCauseAnswer] | None = None

    def prompt(self, request: ArbiterRequest) -> str:
        """The active ``incident.arbiter`` prompt of the registry, else the built-in one.
        A registry template naming another variable is a ``TaskError``."""
        template = active_template(self.snapshot, ARBITER_PROMPT) or DEFAULT_ARBITER_TEMPLATE
        return render(
            template,
            {
                "question": request.question,
                "namespace": request.namespace,
                "target": request.target or "(not named: the whole namespace)",
                "allowed_types": ", ".join(request.allowed_types),
                "rule_findings": _json(request.rule_findings),
                "evidence": _json(request.evidence),
            },
        )

    async def arbitrate(self, request: ArbiterRequest) -> ArbiterVerdict | None:
        allowed = set(request.allowed_types)

        def allowed_type(answer: RootCauseAnswer) -> str | None:
            if answer.type in allowed:
                return None
            return f"type {answer.type!r} is not one of: {', '.join(request.allowed_types)}"

        answer = await ask_json(
            self.route,
            system=ARBITER_SYSTEM,
            prompt=self.prompt(request),
            answer_type=RootCauseAnswer,
            timeout_seconds=self.timeout_seconds,
            check=allowed_type,
            policy=self.policy,
        )
        self.last, self.usage = answer, answer.usage
        if answer.value is None:
            return None
        return ArbiterVerdict(
            type=answer.value.type,
            confidence=answer.value.confidence,
            evidence=quoted_only(answer.value.evidence, request),
            rationale=answer.value.rationale,
        )
