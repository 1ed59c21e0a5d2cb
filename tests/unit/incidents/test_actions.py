"""The DevOps plan for a diagnosis: for every root cause of the taxonomy, calls whose
arguments fit the tools' schemas, reads before writes, a write only where it is the
fix (more memory, a restart after a transient cause, replicas back from zero), and
never anything destructive."""

from __future__ import annotations

import asyncio
import json
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
import pytest

from adapters.k8s.dump import DumpDirectory
from domain.incidents.actions import (
    MAX_MEMORY_LIMIT,
    ProposedAction,
    propose_actions,
    raised_memory_limit,
)
from domain.incidents.cluster import ServiceEvidence, WorkloadEvidence
from domain.incidents.package import EvidencePackage
from domain.incidents.planning import plan_question
from domain.incidents.pods import OwnerRef
from domain.incidents.taxonomy import RootCause
from services.agents.tool_catalog import (
    BUILTIN_TOOLS,
    WRITE_TOOLS,
    is_destructive,
    refusal,
    validate_call,
)
from services.incidents.agent import IncidentAgent
from tests.unit.incidents.builders import container, package, pod, terminated, waiting

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "k8s"
# Where a person must change an image, a config object, a probe, the cluster: only reads.
READ_ONLY = set(RootCause) - {
    RootCause.OOM_KILLED,
    RootCause.CRASH_LOOP,
    RootCause.DEPENDENCY_UNREACHABLE,
    RootCause.SERVICE_SELECTOR_MISMATCH,
}
CRASHING = waiting("CrashLoopBackOff")


@cache
def diagnosed() -> tuple[tuple[str, dict[str, Any], EvidencePackage], ...]:
    """Every own fixture dump diagnosed by the rules: (case, report, package)."""
    cases = []
    for case in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        expected = json.loads((case / "expected.json").read_text())
        evidence = DumpDirectory(case).read(expected["namespace"])
        question = (case / "question.txt").read_text().strip()
        report = asyncio.run(IncidentAgent().analyze(evidence, plan_question(question), question))
        cases.append((case.name, msgspec.to_builtins(report), evidence))
    return tuple(cases)


def diagnosis_of(case: str) -> tuple[dict[str, Any], EvidencePackage]:
    return next((report, evidence) for name, report, evidence in diagnosed() if name == case)


def as_cause(report: dict[str, Any], cause: str) -> dict[str, Any]:
    return {**report, "root_cause": {**report["root_cause"], "type": cause}}


def report(
    cause: RootCause, pods: list[str], evidence: list[str], target: str | None = "app"
) -> dict[str, Any]:
    return {
        "intent": "diagnose_pod",
        "namespace": "ns",
        "target": target,
        "affected_pods": pods,
        "root_cause": {"type": cause.value, "confidence": 0.9, "evidence": evidence},
        "remediation": {"immediate": "", "verification": "", "prevention": ""},
    }


def writes(actions: list[ProposedAction]) -> list[ProposedAction]:
    return [a for a in actions if a.tool in WRITE_TOOLS]


def tools(actions: list[ProposedAction]) -> list[str]:
    return [a.tool for a in actions]


def test_the_fixtures_cover_every_root_cause_the_analyzer_answers() -> None:
    answered = {report["root_cause"]["type"] for _, report, _ in diagnosed()}
    assert answered == {c.value for c in RootCause} - {RootCause.UNKNOWN}


@pytest.mark.parametrize("cause", list(RootCause), ids=str)
def test_every_proposal_fits_its_tool_and_destroys_nothing(cause: RootCause) -> None:
    """Each cause against every fixture's evidence (an arbiter may name any cause for
    any evidence), with and without the evidence package."""
    proposed = 0
    for case, diagnosis, evidence in diagnosed():
        for kept in (evidence, None):
            actions = propose_actions(as_cause(diagnosis, cause.value), kept)
            for action in actions:
                assert isinstance(action, ProposedAction)
                assert action.reason, action
                spec = BUILTIN_TOOLS[action.tool]
                assert validate_call(action, spec) is None, (case, action)
                assert not is_destructive(action, spec), (case, action)
                assert refusal(action, spec, None) is None, (case, action)
            kinds = ["write" if a.tool in WRITE_TOOLS else "read" for a in actions]
            assert kinds == sorted(kinds), f"{case}: reads come first: {actions}"
            assert len({(a.tool, json.dumps(a.args, sort_keys=True)) for a in actions}) == len(
                actions
            )
            if kept is None or cause in READ_ONLY:
                assert writes(actions) == [], (case, actions)
            proposed += len(actions)
    assert (proposed == 0) == (cause == RootCause.HEALTHY)


@pytest.mark.parametrize("case", [name for name, _, _ in diagnosed()])
def test_each_diagnosis_is_checked_by_reads_before_anything_is_written(case: str) -> None:
    diagnosis, evidence = diagnosis_of(case)
    actions = propose_actions(diagnosis, evidence)
    if diagnosis["root_cause"]["type"] == RootCause.HEALTHY:
        assert actions == []
        return
    assert actions, diagnosis["root_cause"]
    assert actions[0].tool not in WRITE_TOOLS
    assert all(a.args["namespace"] == diagnosis["namespace"] for a in actions[:1])


def test_an_oom_kill_raises_the_memory_limit_of_the_killed_container() -> None:
    diagnosis, evidence = diagnosis_of("own-oom-01-jvm-xmx")  # 768Mi, JVM -Xmx1g
    actions = propose_actions(diagnosis, evidence)
    assert tools(actions) == ["get_pod_logs", "rollout_status", "patch_resources"]
    assert actions[0].args["previous"] is True
    assert actions[0].args["container"] == "ledger-service"
    assert actions[-1].args == {
        "namespace": "payments",
        "deployment": "ledger-service",
        "container": "ledger-service",
        "limits": {"memory": "1536Mi"},
    }
    assert "768Mi" in actions[-1].reason


def test_an_oom_killed_sidecar_is_the_container_patched() -> None:
    sidecar = container(
        "proxy",
        state=CRASHING,
        last_state=terminated("OOMKilled", 137),
        restart_count=4,
        limits={"memory": "128Mi", "cpu": "100m"},
    )
    app = container("app", limits={"memory": "2Gi"})
    evidence = package(pod("app-7d9f8c6b5-x2x4z", app, sidecar))
    oom = report(RootCause.OOM_KILLED, ["app-7d9f8c6b5-x2x4z"], ["memory limit 128Mi"])
    (patch,) = writes(propose_actions(oom, evidence))
    assert patch.args["container"] == "proxy"
    assert patch.args["limits"] == {"memory": "256Mi"}  # cpu stays as it is


@pytest.mark.parametrize(
    ("limit", "raised"),
    [
        ("768Mi", "1536Mi"),
        ("512Mi", "1Gi"),
        ("300Mi", "600Mi"),
        ("1G", "1908Mi"),  # decimal units come back as whole Mi, rounded up
        ("100000Ki", "196Mi"),
        ("6Gi", "12Gi"),
        ("12Gi", "16Gi"),  # capped
        ("16Gi", None),  # at the cap already: a person decides
        ("64Gi", None),
        ("0", None),
        ("lots", None),
    ],
)
def test_the_memory_limit_is_doubled_up_to_a_cap(limit: str, raised: str | None) -> None:
    assert raised_memory_limit(limit) == raised
    assert MAX_MEMORY_LIMIT == 16 * 2**30


def oom_pod(**fields: Any) -> EvidencePackage:
    killed = container(
        state=CRASHING,
        last_state=terminated("OOMKilled", 137),
        restart_count=6,
        limits=fields.pop("limits", {"memory": "512Mi"}),
    )
    return package(pod("app-7d9f8c6b5-x2x4z", killed, **fields))


def test_no_memory_patch_without_a_limit_a_deployment_or_the_evidence() -> None:
    oom = report(RootCause.OOM_KILLED, ["app-7d9f8c6b5-x2x4z"], [])
    assert writes(propose_actions(oom, oom_pod())) != []
    assert writes(propose_actions(oom, oom_pod(limits={}))) == []
    assert writes(propose_actions(oom, oom_pod(limits={"memory": "16Gi"}))) == []
    stateful = oom_pod(workload=OwnerRef(kind="StatefulSet", name="app"))
    assert tools(propose_actions(oom, stateful)) == ["get_pod_logs"]
    assert tools(propose_actions(oom, None)) == ["get_pod_logs"]


def crash_looping(*siblings_ready: bool) -> EvidencePackage:
    crashing = pod(
        "app-7d9f8c6b5-aaaaa",
        container(state=CRASHING, last_state=terminated("Error", 1), restart_count=9),
    )
    siblings = [
        pod(f"app-7d9f8c6b5-s{i}", container(ready=ready), ready=ready)
        for i, ready in enumerate(siblings_ready)
    ]
    return package(crashing, *siblings)


CRASH = report(
    RootCause.CRASH_LOOP,
    ["app-7d9f8c6b5-aaaaa"],
    ["pod app-7d9f8c6b5-aaaaa container app state.waiting.reason=CrashLoopBackOff"],
)


def test_a_crash_the_same_template_survives_elsewhere_gets_a_rollout_restart() -> None:
    actions = propose_actions(CRASH, crash_looping(True, False))
    assert tools(actions) == ["get_pod_logs", "get_events", "rollout_status", "rollout_restart"]
    assert actions[-1].args == {"namespace": "ns", "deployment": "app"}
    assert actions[0].args == {
        "namespace": "ns",
        "pod": "app-7d9f8c6b5-aaaaa",
        "container": "app",
        "previous": True,
    }


def test_a_crash_every_pod_shares_is_read_about_not_restarted() -> None:
    assert writes(propose_actions(CRASH, crash_looping())) == []
    assert writes(propose_actions(CRASH, crash_looping(False))) == []
    diagnosis, evidence = diagnosis_of("own-crash-01-bad-flag")  # a bad flag: fix the args
    assert writes(propose_actions(diagnosis, evidence)) == []


def with_database(desired: int, ready_addresses: tuple[str, ...]) -> EvidencePackage:
    crashing = crash_looping()
    database = WorkloadEvidence(
        kind="Deployment",
        name="db",
        desired=desired,
        ready=len(ready_addresses),
        selector={"app": "db"},
        template_labels={"app": "db", "tier": "data"},
    )
    service = ServiceEvidence(
        name="db", selector={"app": "db"}, cluster_ip="10.96.0.9", ready_addresses=ready_addresses
    )
    return msgspec.structs.replace(crashing, workloads=(database,), services=(service,))


UNREACHABLE = report(
    RootCause.DEPENDENCY_UNREACHABLE,
    ["app-7d9f8c6b5-aaaaa"],
    ["kubectl logs app-7d9f8c6b5-aaaaa -c app --previous: dial tcp 10.96.0.9:5432: connect: "
     "connection refused"],
)  # fmt: skip


def test_a_dependency_scaled_to_zero_is_scaled_back_up_never_to_zero() -> None:
    actions = propose_actions(UNREACHABLE, with_database(desired=0, ready_addresses=()))
    assert tools(actions) == ["get_pod_logs", "get_endpoints", "rollout_status", "scale_deployment"]
    assert actions[1].args == {"namespace": "ns", "service": "db"}
    assert actions[-1].args == {"namespace": "ns", "deployment": "db", "replicas": 1}
    assert "scaled to 0" in actions[-1].reason


def test_a_dependency_that_is_back_gets_the_crash_looping_workload_restarted() -> None:
    actions = propose_actions(UNREACHABLE, with_database(desired=1, ready_addresses=("db-0",)))
    (restart,) = writes(actions)
    assert restart.tool == "rollout_restart"
    assert restart.args == {"namespace": "ns", "deployment": "app"}


def test_a_dependency_still_down_with_replicas_wanted_gets_no_write() -> None:
    assert writes(propose_actions(UNREACHABLE, with_database(desired=2, ready_addresses=()))) == []


def test_the_dependency_is_found_by_the_name_the_app_uses() -> None:
    for line, where in [
        ("Error: getaddrinfo ENOTFOUND redis-master", ("ns", "redis-master")),
        ("dial tcp: lookup cache on 10.96.0.10:53: no such host", ("ns", "cache")),
        ("failed to connect to amqp://rabbit.queues.svc:5672: refused", ("queues", "rabbit")),
        ("connect ECONNREFUSED kafka.ns:9092", ("ns", "kafka")),
        ("connect ECONNREFUSED api.example.com:443", None),  # not a Service of ours
    ]:
        unreachable = report(RootCause.DEPENDENCY_UNREACHABLE, ["app-1"], [line])
        endpoints = [a for a in propose_actions(unreachable, None) if a.tool == "get_endpoints"]
        found = [(a.args["namespace"], a.args["service"]) for a in endpoints]
        assert found == ([where] if where else []), line


def test_a_service_with_no_pods_behind_it_because_of_zero_replicas_is_scaled_up() -> None:
    evidence = with_database(desired=0, ready_addresses=())
    mismatch = report(
        RootCause.SERVICE_SELECTOR_MISMATCH,
        [],
        ["Service db spec.selector app=db matches 0 pod(s); Endpoints has no addresses"],
        target="db",
    )
    actions = propose_actions(mismatch, evidence)
    assert tools(actions) == ["get_endpoints", "list_pods", "scale_deployment"]
    assert actions[1].args["label_selector"] == "app=db"
    assert actions[-1].args["replicas"] == 1


@pytest.mark.parametrize(
    "case",
    ["own-image-01-tag-typo", "own-auth-02-ecr-403", "own-config-01-missing-key"],
)
def test_images_and_configuration_are_for_a_person_to_fix(case: str) -> None:
    diagnosis, evidence = diagnosis_of(case)
    actions = propose_actions(diagnosis, evidence)
    assert tools(actions) == ["get_pod", "get_events"]
    assert actions[1].args["kind"] == "Pod"


def test_healthy_needs_nothing() -> None:
    diagnosis, evidence = diagnosis_of("own-healthy-02-target-fine-neighbour-broken")
    assert propose_actions(diagnosis, evidence) == []
    assert propose_actions(as_cause(CRASH, "healthy"), crash_looping()) == []


def test_a_never_started_container_has_no_log_to_read() -> None:
    diagnosis, evidence = diagnosis_of("own-perm-02-run-as-non-root")  # runAsNonRoot refusal
    assert "get_pod_logs" not in tools(propose_actions(diagnosis, evidence))
    diagnosis, evidence = diagnosis_of("own-dep-04-readiness-503-redis")  # running, no restart
    (log,) = [a for a in propose_actions(diagnosis, evidence) if a.tool == "get_pod_logs"]
    assert log.args["previous"] is False


def test_names_the_api_would_reject_are_never_proposed() -> None:
    crash = {**CRASH, "affected_pods": ["Not_A_Pod"]}
    assert propose_actions(crash, None) == []
    assert propose_actions({**CRASH, "namespace": "Bad Namespace"}, crash_looping(True)) == []


def test_a_cause_outside_the_taxonomy_only_reads() -> None:
    invented = as_cause(CRASH, "cosmic_rays")
    assert tools(propose_actions(invented, crash_looping(True))) == ["get_pod", "get_events"]
