"""Containers that ran and died: each termination maps to the most specific cause."""

from __future__ import annotations

from domain.incidents.cluster import ServiceEvidence, ServicePortFact, WorkloadEvidence
from domain.incidents.diagnosis import diagnose
from domain.incidents.pods import EnvFact, SecurityFacts
from domain.incidents.taxonomy import RootCause
from tests.unit.incidents.builders import (
    ago,
    container,
    event,
    log,
    package,
    pod,
    running,
    terminated,
    waiting,
)

CRASHING = waiting("CrashLoopBackOff", "back-off 5m0s restarting failed container=app")


def crash(last: object, **fields: object) -> object:
    return container(state=CRASHING, last_state=last, restart_count=8, ready=False, **fields)


def test_oom_killed_names_the_termination_and_the_limit() -> None:
    app = crash(
        terminated("OOMKilled", 137),
        limits={"memory": "512Mi"},
        env=(EnvFact(name="JAVA_OPTS", value="-Xmx1g"),),
    )
    result = diagnose(package(pod("app-1", app)), ["app"]).root_cause
    assert result.cause is RootCause.OOM_KILLED
    assert result.confidence >= 0.9
    assert any("lastState.terminated.reason=OOMKilled exitCode=137" in e for e in result.evidence)
    assert any("-Xmx1g above memory limit 512Mi" in e for e in result.evidence)


def test_a_crash_loop_that_refuses_a_database_is_the_dependency() -> None:
    text = "dial tcp 10.96.3.4:5432: connect: connection refused\nfatal: cannot start\n"
    app = crash(terminated("Error", 1), previous_log=log(text), log=log(text))
    db = ServiceEvidence(
        name="orders-db",
        cluster_ip="10.96.3.4",
        selector={"app": "orders-db"},
        ports=(ServicePortFact(port=5432),),
        ready_addresses=(),
    )
    scaled_down = WorkloadEvidence(
        kind="StatefulSet", name="orders-db", desired=0, template_labels={"app": "orders-db"}
    )
    result = diagnose(
        package(pod("app-1", app), services=(db,), workloads=(scaled_down,)), ["app"]
    ).root_cause
    assert result.cause is RootCause.DEPENDENCY_UNREACHABLE
    assert result.confidence >= 0.9
    assert any("connection refused" in e for e in result.evidence)
    assert any("orders-db" in e and "no ready endpoints" in e for e in result.evidence)


def test_a_retry_that_connected_is_not_the_cause() -> None:
    text = (
        "WARN connection attempt 1 failed: connection refused\n"
        "INFO connected to db:5432\n"
        "Traceback (most recent call last):\n"
        "ValueError: invalid literal for int() with base 10: 'abc'\n"
    )
    app = crash(terminated("Error", 1), previous_log=log(text))
    result = diagnose(package(pod("app-1", app)), ["app"]).root_cause
    assert result.cause is RootCause.CRASH_LOOP
    assert result.confidence >= 0.85
    assert any("ValueError" in e for e in result.evidence)


def test_liveness_kills_beat_the_crash_loop_they_cause() -> None:
    app = crash(terminated("Error", 137))
    events = (
        event(
            "Unhealthy",
            "Liveness probe failed: HTTP probe failed with statuscode: 500",
            about="app-1",
        ),
        event("Killing", "Container app failed liveness probe, will be restarted", about="app-1"),
    )
    result = diagnose(package(pod("app-1", app), events=events), ["app"]).root_cause
    assert result.cause is RootCause.LIVENESS_PROBE_FAILURE
    assert result.confidence >= 0.75
    assert any("Liveness probe failed" in e for e in result.evidence)


def test_oom_wins_over_liveness_events_on_the_same_container() -> None:
    app = crash(terminated("OOMKilled", 137))
    events = (
        event("Killing", "Container app failed liveness probe, will be restarted", about="app-1"),
    )
    result = diagnose(package(pod("app-1", app), events=events), ["app"]).root_cause
    assert result.cause is RootCause.OOM_KILLED


def test_start_error_is_an_invalid_entrypoint() -> None:
    message = 'exec: "/app/run": stat /app/run: no such file or directory: unknown'
    app = crash(terminated("StartError", 128, message=message), command=("/app/run",))
    result = diagnose(package(pod("app-1", app)), ["app"]).root_cause
    assert result.cause is RootCause.INVALID_COMMAND_OR_ENTRYPOINT
    assert any("StartError" in e for e in result.evidence)


def test_exec_format_error_in_the_log_is_an_invalid_entrypoint() -> None:
    app = crash(terminated("Error", 1), previous_log=log("exec /bin/api: exec format error\n"))
    result = diagnose(package(pod("app-1", app)), ["app"]).root_cause
    assert result.cause is RootCause.INVALID_COMMAND_OR_ENTRYPOINT


def test_read_only_filesystem_is_permission_denied_with_the_security_context() -> None:
    app = crash(
        terminated("Error", 1),
        previous_log=log('open() "/var/run/app.pid" failed (30: Read-only file system)\n'),
        security=SecurityFacts(read_only_root_filesystem=True),
    )
    result = diagnose(package(pod("app-1", app)), ["app"]).root_cause
    assert result.cause is RootCause.PERMISSION_DENIED
    assert any("readOnlyRootFilesystem: true" in e for e in result.evidence)


def test_database_permission_errors_are_not_a_security_context_problem() -> None:
    app = crash(
        terminated("Error", 1), previous_log=log("ERROR: permission denied for table orders\n")
    )
    result = diagnose(package(pod("app-1", app)), ["app"]).root_cause
    assert result.cause is RootCause.CRASH_LOOP


def test_an_old_restart_of_a_ready_container_is_not_an_incident() -> None:
    app = container(
        state=running(60 * 24 * 3),
        last_state=terminated("OOMKilled", 137, minutes_ago=60 * 24 * 3),
        restart_count=4,
    )
    result = diagnose(package(pod("app-1", app)), ["app"]).root_cause
    assert result.cause is RootCause.HEALTHY
    assert any("Running" in e and "Ready" in e for e in result.evidence)


def test_a_dump_restart_without_events_is_not_taken_for_a_fresh_one() -> None:
    # No clock and no event: the restart is the newest fact, which proves nothing.
    app = container(
        state=running(60), last_state=terminated("Error", 1, minutes_ago=60), restart_count=1
    )
    result = diagnose(package(pod("app-1", app), collected_at=None), ["app"]).root_cause
    assert result.cause is RootCause.HEALTHY


def test_a_failed_job_pod_superseded_by_a_successful_retry_is_history() -> None:
    failed = pod(
        "report-1-aaaaa",
        container(state=terminated("Error", 1, minutes_ago=20), ready=False),
        workload="report",
        phase="Failed",
        restart_policy="Never",
        started_at=ago(30),
    )
    retried = pod(
        "report-1-bbbbb",
        container(state=terminated("Completed", 0, minutes_ago=5), ready=False),
        workload="report",
        phase="Succeeded",
        restart_policy="Never",
        started_at=ago(10),
    )
    result = diagnose(package(failed, retried), ["report"]).root_cause
    assert result.cause is RootCause.HEALTHY


def test_a_job_failing_in_every_retry_is_a_confident_crash() -> None:
    runs = [
        pod(
            f"export-1-{suffix}",
            container(
                state=terminated("Error", 1, minutes_ago=minutes),
                ready=False,
                log=log("Traceback (most recent call last):\nRuntimeError: export failed\n"),
            ),
            workload="export",
            phase="Failed",
            restart_policy="Never",
            started_at=ago(minutes + 1),
        )
        for suffix, minutes in (("aaaaa", 30), ("bbbbb", 20), ("ccccc", 10))
    ]
    result = diagnose(package(*runs), ["export"]).root_cause
    assert result.cause is RootCause.CRASH_LOOP
    assert result.confidence >= 0.9
    assert any("RuntimeError: export failed" in e for e in result.evidence)


def test_a_pod_caught_while_starting_is_no_incident() -> None:
    starting = pod(
        "app-1",
        container(state=waiting("ContainerCreating"), ready=False, has_status=True),
        phase="Pending",
        created_at=ago(0.5),
    )
    result = diagnose(package(starting), ["app"]).root_cause
    assert result.cause is RootCause.HEALTHY


def test_a_panic_after_a_tolerated_connection_error_is_the_apps_own_crash() -> None:
    text = (
        "WARN cache redis:6379 unavailable: dial tcp 10.0.0.9:6379: connect: connection refused\n"
        "INFO continuing without cache\n"
        "panic: runtime error: index out of range [3] with length 3\n"
        "goroutine 1 [running]:\n"
    )
    app = crash(terminated("Error", 2), previous_log=log(text))
    result = diagnose(package(pod("app-1", app)), ["app"]).root_cause
    assert result.cause is RootCause.CRASH_LOOP
    assert any("panic: runtime error" in e for e in result.evidence)


def test_a_fresh_oom_restart_of_a_not_yet_ready_container_counts_without_events() -> None:
    app = container(
        state=running(1),
        last_state=terminated("OOMKilled", 137, minutes_ago=1),
        restart_count=3,
        ready=False,
    )
    result = diagnose(package(pod("app-1", app), collected_at=None), ["app"]).root_cause
    assert result.cause is RootCause.OOM_KILLED


def test_an_old_failed_job_pod_is_history_in_an_overview_but_not_when_asked_about() -> None:
    failed = pod(
        "backup-28999-aaaaa",
        container(state=terminated("Error", 1, minutes_ago=60 * 9), ready=False),
        workload="backup",
        phase="Failed",
        restart_policy="Never",
    )
    assert diagnose(package(failed), []).root_cause.cause is RootCause.HEALTHY
    assert diagnose(package(failed), ["backup"]).root_cause.cause is RootCause.CRASH_LOOP
