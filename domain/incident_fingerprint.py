"""What makes two findings the same incident, and the text that describes its symptoms.

Kubernetes names the pods of one workload differently in every rollout and every
restart (``checkout-7d9f8b6c5d-x2k4p``), and the lines that show a failure carry
timestamps, addresses and counters that change from one occurrence to the next.
Incident memory needs the part that stays: the workload (``checkout``) for the
identity of an incident, and the lines without what varies for finding it again
by similarity. Pure functions; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from uuid import UUID, uuid5

from msgspec import Struct

from domain.incidents.taxonomy import RootCause

__all__ = [
    "NOT_AN_INCIDENT",
    "Fingerprint",
    "incident_id_for",
    "normalise_line",
    "normalise_workload",
    "symptoms_text",
    "workload_of",
]

# Findings that say nothing is wrong: never remembered as incidents.
NOT_AN_INCIDENT = frozenset({RootCause.HEALTHY.value})

# Kubernetes' SafeEncodeString alphabet (no vowels, no 0/1/3): what ReplicaSet
# pod-template hashes and generated pod suffixes are made of.
_SAFE = "[bcdfghjklmnpqrstvwxz2456789]"
_POD_OF_REPLICASET = re.compile(rf"-{_SAFE}{{6,10}}-{_SAFE}{{5}}$")
_POD_SUFFIX = re.compile(rf"-(?=[a-z]*\d){_SAFE}{{5}}$")  # DaemonSet/Job pods
_REPLICASET_HASH = re.compile(rf"-(?=[a-z]*\d){_SAFE}{{6,10}}$")
_ORDINAL = re.compile(r"-\d+$")  # StatefulSet pods, CronJob-made Jobs
_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")

# What varies between occurrences of one failure, in the order it is replaced.
_VARYING: tuple[tuple[re.Pattern[str], str], ...] = (
    (  # ISO 8601 and "2024/01/15 10:23:45" dates with optional time and zone
        re.compile(
            r"\b\d{4}[-/]\d{2}[-/]\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
            r"(?:z|[+-]\d{2}:?\d{2})?)?\b"
        ),
        "<time>",
    ),
    (re.compile(r"\b[iwef]\d{4}(?= \d{2}:\d{2})"), ""),  # klog's level+date prefix
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"), "<time>"),
    (re.compile(r"\b\d{1,2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\b"), "<time>"),
    (
        re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
        "<id>",
    ),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"), "<ip>"),
    (re.compile(r"\bip-\d{1,3}(?:-\d{1,3}){3}\b"), "<ip>"),  # EC2 node names
    (re.compile(r"\b(?:[0-9a-f]{1,4}:){3,7}[0-9a-f]{1,4}\b"), "<ip>"),
    (re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{12,}\b"), "<hex>"),
    (re.compile(r"\b\d+(?:\.\d+)?(?:ms|s|m|h|d)(?:\d+(?:\.\d+)?(?:ms|s|m))*\b"), "<duration>"),
    (re.compile(r"\(x\d+(?: over [^)]*)?\)"), "(x<n>)"),
    (re.compile(r"\b(restart_?count[=: ]+)\d+"), r"\1<n>"),
    (
        re.compile(
            r"\b\d+(?= (?:\w+ )?(?:restarts?|times|errors?|attempts?|retries|failures?"
            r"|lines?)\b)"
        ),
        "<n>",
    ),
    (re.compile(r"\b\d{5,}\b"), "<n>"),  # ids, pids, byte counts, epochs
)


class Fingerprint(Struct, frozen=True, kw_only=True):
    """The identity of an incident: one workload failing for one reason, per tenant."""

    tenant: str
    namespace: str
    workload: str  # normalised; "*" for a namespace-wide finding
    root_cause: str

    def key(self) -> str:
        return "\x1f".join((self.tenant, self.namespace, self.workload, self.root_cause))


# A fixed namespace: incident ids must be the same in every process and release.
_INCIDENTS = UUID("6f1c5b3e-2d7a-5a4e-9c1b-5e7d0a8c4f21")


def incident_id_for(fingerprint: Fingerprint) -> UUID:
    """Deterministic, so a repeated finding lands on the incident already recorded."""
    return uuid5(_INCIDENTS, fingerprint.key())


def normalise_workload(name: str) -> str:
    """The workload a pod or ReplicaSet name belongs to: ``checkout-7d9f8b6c5d-x2k4p``
    and ``checkout-7d9f8b6c5d`` are ``checkout``; ``db-0`` is ``db``.

    A lone 5- or 6-10-character suffix counts as generated only when it holds a
    digit: ``api-https`` is a name, not a pod of ``api``. A name ending in a
    number (``worker-2``) loses it, as a StatefulSet's ordinal would.
    """
    name = name.strip().lower()
    for pattern in (_POD_OF_REPLICASET, _POD_SUFFIX, _REPLICASET_HASH):
        stripped = pattern.sub("", name)
        if stripped != name:
            name = stripped
            break
    return _ORDINAL.sub("", name) or name


def workload_of(target: str | None, pods: Iterable[str]) -> str:
    """The workload of a finding: its target, else its first pod's, else ``*``."""
    if target and target.strip():
        return normalise_workload(target)
    for pod in pods:
        if pod.strip():
            return normalise_workload(pod)
    return "*"


def _names_as_workloads(match: re.Match[str]) -> str:
    word = match.group(0)
    return normalise_workload(word) if "-" in word else word


def normalise_line(line: str) -> str:
    """One evidence line without what changes between occurrences of the same failure:
    times, addresses, ids, counters, durations, and generated pod name suffixes.
    Ports, exit codes, status codes and sizes stay: they tell failures apart."""
    text = line.lower()
    for pattern, replacement in _VARYING:
        text = pattern.sub(replacement, text)
    text = _NAME.sub(_names_as_workloads, text)
    return " ".join(text.split())


def symptoms_text(root_cause: str, workload: str, evidence: Iterable[str]) -> str:
    """What is embedded for similarity: the cause, the workload and the evidence lines,
    normalised, each distinct line once (five pods saying the same count once)."""
    lines = dict.fromkeys(n for line in evidence if (n := normalise_line(line)))
    head = f"{root_cause.replace('_', ' ')} {workload}".strip()
    return "\n".join([head, *lines])
