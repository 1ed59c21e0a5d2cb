"""The Incident aggregate: one per fingerprint, one occurrence per run, without I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.envelope import EventContext
from domain.errors import InvalidArgument
from domain.incident import (
    MAX_EVIDENCE_CHARS,
    MAX_EVIDENCE_LINES,
    Incident,
    IncidentRecorded,
    IncidentRecurred,
    NotAnIncident,
)
from domain.incident_fingerprint import Fingerprint, incident_id_for

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CTX = EventContext(actor="agent:reviewer", tenant="acme", correlation_id="r", causation_id="r")
OOM = Fingerprint(tenant="acme", namespace="shop", workload="checkout", root_cause="oom_killed")


def remember(fingerprint: Fingerprint = OOM, **overrides: Any) -> Incident:
    fields: dict[str, Any] = {
        "fingerprint": fingerprint,
        "target": "checkout",
        "summary_text": "oom killed checkout",
        "confidence": 0.9,
        "detection_method": "rule_based",
        "remediation": "Raise the memory limit.",
        "evidence": ["lastState.terminated.reason=OOMKilled exitCode=137"],
        "embedding": [0.6, 0.8],
        "embedder": "hashing-v1-2",
        "run_id": uuid.uuid4(),
        "verified": False,
        "remediation_executed": False,
        "ctx": CTX,
        "now": T0,
    }
    fields.update(overrides)
    return Incident.remember(**fields)


def recur(incident: Incident, run_id: uuid.UUID, **overrides: Any) -> bool:
    fields: dict[str, Any] = {
        "run_id": run_id,
        "confidence": 0.8,
        "verified": False,
        "remediation_executed": False,
        "evidence": ["again"],
        "ctx": CTX,
        "now": T0 + timedelta(hours=1),
    }
    fields.update(overrides)
    return incident.recur(**fields)


def replayed(incident: Incident) -> Incident:
    state: Any = None
    for event in incident.collect_events():
        state = event.mutate(state)
    assert isinstance(state, Incident)
    return state


def test_a_new_incident_is_named_by_its_fingerprint_and_counts_one_run() -> None:
    run = uuid.uuid4()
    incident = remember(run_id=run)
    assert incident.id == incident_id_for(OOM)
    assert (incident.occurrences, incident.last_run_id, incident.tenant) == (1, run, "acme")
    (recorded,) = incident.pending_events
    assert isinstance(recorded, IncidentRecorded)
    assert recorded.workload == "checkout" and recorded.embedder == "hashing-v1-2"


def test_each_run_counts_once() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    incident = remember(run_id=first)
    assert recur(incident, first) is False, "the run that recorded it"
    assert recur(incident, second) is True
    assert recur(incident, second) is False, "a retried Reviewer task"
    assert recur(incident, first) is False
    assert incident.occurrences == 2
    assert [type(e) for e in incident.pending_events] == [IncidentRecorded, IncidentRecurred]
    assert incident.last_run_id == second


def test_replay_gives_the_same_occurrences_and_latest_state() -> None:
    runs = [uuid.uuid4() for _ in range(4)]
    incident = remember(run_id=runs[0])
    for run in [*runs[1:], runs[2]]:
        recur(incident, run, confidence=0.5, evidence=[str(run)])
    again = replayed(incident)
    assert again.occurrences == incident.occurrences == 4
    assert again.runs == set(runs)
    assert (again.confidence, again.evidence) == (0.5, [str(runs[3])])
    assert again.version == incident.version == 4


def test_verified_and_executed_stay_true_once_any_occurrence_was() -> None:
    incident = remember()
    recur(incident, uuid.uuid4(), verified=True, remediation_executed=True)
    recur(incident, uuid.uuid4())
    assert incident.verified and incident.remediation_executed
    again = replayed(incident)
    assert again.verified and again.remediation_executed


def test_a_healthy_finding_is_not_an_incident() -> None:
    healthy = Fingerprint(tenant="acme", namespace="shop", workload="*", root_cause="healthy")
    with pytest.raises(NotAnIncident):
        remember(healthy)


def test_an_incident_belongs_to_the_tenant_that_records_it() -> None:
    with pytest.raises(InvalidArgument):
        remember(ctx=CTX.but(tenant="globex"))


def test_events_keep_the_decisive_lines_not_whole_logs() -> None:
    incident = remember(evidence=["x" * 2000] * 50)
    assert len(incident.evidence) == MAX_EVIDENCE_LINES
    assert {len(line) for line in incident.evidence} == {MAX_EVIDENCE_CHARS}
