"""What makes two findings the same incident: workload names without generated
suffixes, evidence lines without what varies between occurrences."""

from __future__ import annotations

import pytest

from domain.incident_fingerprint import (
    Fingerprint,
    incident_id_for,
    normalise_line,
    normalise_workload,
    symptoms_text,
    workload_of,
)


@pytest.mark.parametrize(
    ("name", "workload"),
    [
        ("checkout-7d9f8b6c5d-x2k4p", "checkout"),  # Deployment pod
        ("checkout-7d9f8b6c5d", "checkout"),  # its ReplicaSet
        ("ledger-service-mkll797qgn-7snxx", "ledger-service"),
        ("db-0", "db"),  # StatefulSet pod
        ("redis-master-12", "redis-master"),
        ("fluentd-x8z2q", "fluentd"),  # DaemonSet pod
        ("Checkout-7D9F8B6C5D-X2K4P ", "checkout"),
        ("api-https", "api-https"),  # a name, not a generated suffix
        ("payments-api", "payments-api"),
        ("api-v2", "api-v2"),
    ],
)
def test_generated_suffixes_are_stripped_and_names_kept(name: str, workload: str) -> None:
    assert normalise_workload(name) == workload


def test_the_workload_comes_from_the_target_else_the_first_pod_else_the_namespace() -> None:
    assert workload_of("checkout", ["other-7d9f8b6c5d-x2k4p"]) == "checkout"
    assert workload_of(None, ["", "checkout-7d9f8b6c5d-x2k4p"]) == "checkout"
    assert workload_of("  ", []) == "*"


POD_A = [
    "pod checkout-7d9f8b6c5d-x2k4p container app lastState.terminated.reason=OOMKilled"
    " exitCode=137 restartCount=7",
    "event Warning BackOff Pod/checkout-7d9f8b6c5d-x2k4p (x42 over 12m): Back-off restarting"
    " failed container app in pod checkout-7d9f8b6c5d-x2k4p_shop"
    "(308abaa0-add1-4853-926a-dd74d9583bbc)",
    "2026-01-15T10:23:45.123Z java.lang.OutOfMemoryError: Java heap space at 10.0.3.17:8080",
    "memory limit 512Mi; 7 restarts",
]
# The same failure a day later, after a rollout: another pod of the same Deployment.
POD_B = [
    "memory limit 512Mi; 31 restarts",
    "pod checkout-5c4b6d8f9-q7zrt container app lastState.terminated.reason=OOMKilled"
    " exitCode=137 restartCount=31",
    "event Warning BackOff Pod/checkout-5c4b6d8f9-q7zrt (x3): Back-off restarting"
    " failed container app in pod checkout-5c4b6d8f9-q7zrt_shop"
    "(7e477869-6672-4392-ba39-fc4fa96ad978)",
    "2026-01-16T08:01:02Z java.lang.OutOfMemoryError: Java heap space at 10.0.9.201:8080",
]


def fingerprint(target: str | None, pods: list[str], cause: str, **fields: str) -> Fingerprint:
    values = {"tenant": "acme", "namespace": "shop", **fields}
    return Fingerprint(root_cause=cause, workload=workload_of(target, pods), **values)


def test_the_same_failure_in_another_pod_of_the_deployment_is_the_same_incident() -> None:
    a = fingerprint(None, ["checkout-7d9f8b6c5d-x2k4p"], "oom_killed")
    b = fingerprint("checkout-5c4b6d8f9-q7zrt", [], "oom_killed")
    assert a == b
    assert incident_id_for(a) == incident_id_for(b)
    # the same lines (in the order each finding gave them): the same embedding
    first = symptoms_text("oom_killed", a.workload, POD_A).splitlines()
    again = symptoms_text("oom_killed", b.workload, POD_B).splitlines()
    assert first[0] == again[0] == "oom killed checkout"
    assert sorted(first) == sorted(again)
    assert len(first) == 5


def test_another_cause_namespace_or_tenant_is_another_incident() -> None:
    base = fingerprint("checkout", [], "oom_killed")
    others = [
        fingerprint("checkout", [], "crash_loop"),
        fingerprint("checkout", [], "oom_killed", namespace="shop-staging"),
        fingerprint("checkout", [], "oom_killed", tenant="globex"),
        fingerprint("payments", [], "oom_killed"),
    ]
    ids = {incident_id_for(f) for f in [base, *others]}
    assert len(ids) == 5


def test_incident_ids_are_stable_across_processes_and_releases() -> None:
    # uuid5 over a fixed namespace: a change here would split every remembered incident.
    assert str(incident_id_for(fingerprint("checkout", [], "oom_killed"))) == (
        "68470397-e9ed-53f3-aea1-8e40e4b5ca87"
    )


def test_what_tells_failures_apart_survives_normalisation() -> None:
    assert normalise_line("exitCode=137 port 8080 HTTP 503 limit 512Mi") == (
        "exitcode=137 port 8080 http 503 limit 512mi"
    )
    assert normalise_line("exitCode=1") != normalise_line("exitCode=2")


def test_times_addresses_ids_and_counters_are_replaced() -> None:
    line = (
        "I0115 10:23:45.123456 dial tcp 10.96.0.10:53 after 1500ms: 3 retries,"
        " request 7e477869-6672-4392-ba39-fc4fa96ad978 on ip-10-0-3-17 (pid 123456)"
    )
    assert normalise_line(line) == (
        "<time> dial tcp <ip>:53 after <duration>: <n> retries, request <id> on <ip> (pid <n>)"
    )


def test_symptoms_count_each_distinct_line_once() -> None:
    text = symptoms_text("crash_loop", "indexer", ["pod indexer-0 exitCode=2"] * 5)
    assert text == "crash loop indexer\npod indexer exitcode=2"
