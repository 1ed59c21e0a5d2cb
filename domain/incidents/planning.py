"""The Planner's rules: what the operator asks for, about which namespace and workload.

Rules read the question the way an SRE would ("the api deploy in dev",
"search-ui pods in staging", "kubectl -n billing ..."). When they are unsure
(``confidence`` below the threshold) the service layer may ask the routed
model; without one, this plan stands.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum

from msgspec import Struct

__all__ = ["Intent", "Plan", "PlanStep", "build_plan", "plan_question"]


class Intent(StrEnum):
    DIAGNOSE_POD = "diagnose_pod"
    NAMESPACE_OVERVIEW = "namespace_overview"
    COLLECT_EVIDENCE = "collect_evidence"
    GENERAL_HELP = "general_help"


class PlanStep(Struct, frozen=True, kw_only=True):
    action: str
    detail: str


class Plan(Struct, frozen=True, kw_only=True):
    intent: Intent
    namespace: str | None = None
    workload: str | None = None
    pod_pattern: str | None = None
    # Every name-like word of the question, best first: matched against the cluster later.
    hints: tuple[str, ...] = ()
    missing_params: tuple[str, ...] = ()
    execution_plan: tuple[PlanStep, ...] = ()
    confidence: float = 0.0
    method: str = "rule_based"

    def required_params(self) -> dict[str, str | None]:
        params: dict[str, str | None] = {"namespace": self.namespace}
        if self.intent is Intent.DIAGNOSE_POD:
            params["workload"] = self.workload
            params["pod_pattern"] = self.pod_pattern
        return params


_ENVIRONMENTS = {
    "production", "prod", "staging", "stage", "dev", "development", "qa", "test", "testing",
    "uat", "preprod", "sandbox", "default", "demo", "kube-system", "monitoring", "ingress-nginx",
}  # fmt: skip
_STOPWORDS = {
    "a", "an", "the", "is", "are", "was", "were", "be", "been", "why", "what", "whats", "how",
    "who", "when", "where", "which", "can", "could", "you", "your", "we", "our", "i", "me",
    "my", "it", "its", "it's", "in", "on", "at", "to", "of", "for", "from", "with", "and", "or",
    "but", "not", "no", "all", "any", "some", "this", "that", "these", "those", "there", "here",
    "after", "before", "since", "again", "still", "just", "now", "time", "times", "minutes",
    "hours", "days", "keeps", "keep", "kept", "won't", "wont", "doesn't", "isn't", "can't",
    "has", "have", "had", "do", "does", "did", "get", "gets", "got", "going", "ok", "okay",
    "everything", "anything", "something", "nothing", "pod", "pods", "deploy", "deployment",
    "deployments", "service", "services", "svc", "job", "jobs", "cronjob", "statefulset",
    "namespace", "namespaces", "ns", "cluster", "node", "nodes", "app", "apps", "container",
    "containers", "workload", "image", "logs", "log", "events", "restart", "restarting",
    "restarts", "crash", "crashing", "crashes", "failing", "failed", "fails", "fail", "error",
    "errors", "stuck", "pending", "running", "ready", "broken", "down", "slow", "start",
    "starting", "started", "help", "please", "check", "look", "see", "tell", "show", "us",
    "site", "returns", "traffic", "reaches", "them", "they", "if", "so", "up", "out", "new",
    "old", "moved", "move", "missing", "customer", "said", "late", "emails", "wrong",
    "happening", "issue", "issues", "problem", "problems", "healthy", "fine", "work",
    "working", "works", "rollout", "release", "mean", "need", "needs", "one", "only",
    "kubectl", "collect", "gather", "dump", "describe", "yaml", "why's", "lately", "today",
}  # fmt: skip
_KINDS = r"pods?|deploy(?:ment)?s?|services?|svc|jobs?|cronjobs?|statefulsets?|sts|daemonsets?"
_KINDS += r"|apps?|workloads?|containers?"
_NAME = r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?"
_NAMESPACE_PATTERNS = (
    re.compile(rf"(?:^|\s)(?:-n|--namespace)[= ]({_NAME})"),
    re.compile(rf"\bnamespace[:= ]+[\"'`]?({_NAME})"),
    re.compile(rf"\b({_NAME})[\"'`]? (?:namespace|ns)\b"),
    re.compile(rf"\bns/({_NAME})"),
)
_IN_PLACE = re.compile(
    rf"\b(?:in|on|from)\s+(?:the\s+)?[\"'`]?({_NAME})[\"'`]?(?=\s*(?:[?.!,;:]|$))"
)
_IN_ENV = re.compile(rf"\b(?:in|on|from)\s+(?:the\s+)?({_NAME})\b")
_EXPLICIT = re.compile(rf"\b(?:{_KINDS})[/ ]+[\"'`]?({_NAME})")
_BEFORE_KIND = re.compile(rf"\b({_NAME})[\"'`]? (?:{_KINDS})\b")
_POD_NAME = re.compile(r"-[a-z0-9]{5}$")
_TOKEN = re.compile(_NAME)
_CONTRACTION = re.compile(r"\b\w+'(?:t|s|re|ve|ll|d|m)\b")

_COLLECT = re.compile(
    r"\b(?:collect|gather|dump|export|snapshot|grab)\b|\b(?:show|get|give|fetch|pull)\b(?: me)?"
    r"(?: all)?(?: the)? (?:logs|events|evidence|describe|yaml)\b",
)
_HELP = re.compile(
    r"^(?:how (?:do|can|should|to|does)|what (?:is|are|does)|explain|when should|is it possible"
    r"|best practices?|difference between)\b"
)
_PROBLEM = re.compile(
    r"why|crash|fail|error|restart|stuck|pending|down|broken|not (?:ready|working|starting)"
    r"|won't|wont|can't|cannot|doesn't|503|502|500|timeout|slow|oom|evict|wrong|ok\b|okay|healthy"
    r"|issue|problem|late|unavailable|backoff|start|missing|stopped|killed|503"
)
_OVERVIEW = re.compile(
    r"\b(?:everything|overview|all (?:pods|workloads|services)|whole|entire|health of|status of)\b"
)


def _namespace(text: str) -> str | None:
    for pattern in _NAMESPACE_PATTERNS:
        if (m := pattern.search(text)) and m.group(1) not in _STOPWORDS:
            return m.group(1)
    for m in _IN_ENV.finditer(text):
        if m.group(1) in _ENVIRONMENTS:
            return m.group(1)
    for m in _IN_PLACE.finditer(text):
        if m.group(1) not in _STOPWORDS and not m.group(1).isdigit():
            return m.group(1)
    return None


def _candidates(text: str, namespace: str | None, known: Sequence[str]) -> list[str]:
    found: list[str] = []

    def add(name: str) -> None:
        name = name.strip(".-")
        usable = len(name) > 1 and name not in _STOPWORDS and not name.isdigit()
        if usable and name != namespace and name not in found:
            found.append(name)

    lowered_known = {k.lower(): k for k in known}
    for token in _TOKEN.findall(text):
        if token in lowered_known:
            add(token)
    for pattern in (_EXPLICIT, _BEFORE_KIND):
        for m in pattern.finditer(text):
            add(m.group(1))
    for token in _TOKEN.findall(text):
        if "-" in token:
            add(token)
    for token in _TOKEN.findall(text):
        add(token)
    return found


def _steps(intent: Intent, namespace: str | None, workload: str | None) -> tuple[PlanStep, ...]:
    ns = namespace or "<namespace>"
    collect = PlanStep(
        action="collect_evidence",
        detail=f"pods (all containers, init included), events, logs incl. --previous, owners and "
        f"related pods, nodes, services/endpoints, PVCs, ConfigMap names, quotas in {ns}",
    )
    detect = PlanStep(
        action="detect_root_cause",
        detail=f"IncidentAgent rules over {'workload ' + workload if workload else 'the namespace'}"
        "; pick the primary cause, keep the others as context",
    )
    arbitrate = PlanStep(
        action="arbitrate",
        detail="below the arbiter threshold, ask the routed model with redacted evidence; "
        "without a model, flag the rule result for review",
    )
    remediate = PlanStep(
        action="propose_remediation", detail="read-only plan; writes only after an approval"
    )
    if intent is Intent.DIAGNOSE_POD:
        resolve = PlanStep(
            action="resolve_target",
            detail=f"match {workload!r} to its controller (Deployment/StatefulSet/Job) and pods",
        )
        return (collect, resolve, detect, arbitrate, remediate)
    if intent is Intent.NAMESPACE_OVERVIEW:
        return (collect, detect, arbitrate, remediate)
    if intent is Intent.COLLECT_EVIDENCE:
        package = PlanStep(action="store_artifact", detail="save the evidence package (redacted)")
        return (collect, package)
    return (
        PlanStep(
            action="answer", detail="answer from runbooks or the routed model; no cluster access"
        ),
    )


def plan_question(
    question: str,
    *,
    namespace: str | None = None,
    workload: str | None = None,
    known_names: Sequence[str] = (),
) -> Plan:
    """``known_names``: workload/pod names already known (e.g. from a dump) to match against."""
    raw = " ".join(question.lower().split())
    text = raw
    # Contractions are not names: "won't" must not become the workload "won".
    text = _CONTRACTION.sub("", text.replace("\u2019", "'"))
    namespace = namespace or _namespace(text)
    candidates = _candidates(text, namespace, known_names)
    explicit = [m.group(1) for p in (_EXPLICIT, _BEFORE_KIND) for m in p.finditer(text)]
    explicit = [c for c in candidates if c in explicit or c in {k.lower() for k in known_names}]
    named = [c for c in candidates if "-" in c]
    chosen = workload or next(iter(explicit + named), None)
    hints = tuple(dict.fromkeys([workload] if workload else []).keys()) + tuple(
        c for c in candidates if c != workload
    )
    if not text.strip():
        intent, confidence = Intent.NAMESPACE_OVERVIEW, 0.8  # no question: look at everything
    elif _COLLECT.search(text):
        intent, confidence = Intent.COLLECT_EVIDENCE, 0.85
    elif chosen is not None and (_PROBLEM.search(raw) or workload):
        intent, confidence = Intent.DIAGNOSE_POD, 0.9 if (workload or explicit) else 0.8
    elif _HELP.search(raw) and not _PROBLEM.search(raw):
        intent, confidence = Intent.GENERAL_HELP, 0.8
    elif _OVERVIEW.search(text) or (namespace and _PROBLEM.search(raw)):
        intent, confidence = Intent.NAMESPACE_OVERVIEW, 0.8
    elif chosen is not None:
        intent, confidence = Intent.DIAGNOSE_POD, 0.6
    elif _PROBLEM.search(raw):
        intent, confidence = Intent.NAMESPACE_OVERVIEW, 0.6
    else:
        intent, confidence = Intent.GENERAL_HELP, 0.5
    return build_plan(
        intent, namespace=namespace, workload=chosen, hints=hints, confidence=confidence
    )


def build_plan(
    intent: Intent,
    *,
    namespace: str | None,
    workload: str | None,
    hints: tuple[str, ...] = (),
    confidence: float,
    method: str = "rule_based",
) -> Plan:
    """A plan for an intent already decided (by the rules or by a model): the parameters
    it needs, what is missing, and its steps. One builder, so every plan reads alike."""
    pod_pattern = workload if workload and _POD_NAME.search(workload) else None
    if intent in (Intent.GENERAL_HELP, Intent.NAMESPACE_OVERVIEW):
        workload, pod_pattern = None, None
    missing = []
    if intent is not Intent.GENERAL_HELP and not namespace:
        missing.append("namespace")
    if intent is Intent.DIAGNOSE_POD and not workload:
        missing.append("workload")
    return Plan(
        intent=intent,
        namespace=namespace,
        workload=workload,
        pod_pattern=pod_pattern,
        hints=hints,
        missing_params=tuple(missing),
        execution_plan=_steps(intent, namespace, workload),
        confidence=confidence,
        method=method,
    )
