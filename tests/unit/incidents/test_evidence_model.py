"""The pure pieces around the rules: logs, time, scope, ranking."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.incidents.findings import Finding
from domain.incidents.logs import bound_log
from domain.incidents.ranking import rank_findings
from domain.incidents.scope import resolve_scope
from domain.incidents.taxonomy import RootCause
from domain.incidents.timeline import latest_log_time, reference_time
from tests.unit.incidents.builders import container, log, package, pod


def test_a_long_log_keeps_its_head_and_a_larger_tail_within_the_cap() -> None:
    text = "".join(f"line {i:05d}\n" for i in range(20000))
    bounded = bound_log(text, cap_bytes=4096)
    assert bounded.truncated
    assert bounded.total_bytes == len(text)
    assert len(bounded.text.encode()) <= 4096 + 64
    assert bounded.text.startswith("line 00000\n")
    assert bounded.text.endswith("line 19999\n")
    assert "bytes elided" in bounded.text


def test_a_short_log_is_kept_whole() -> None:
    bounded = bound_log("hello\n", cap_bytes=4096)
    assert not bounded.truncated
    assert bounded.text == "hello\n"


def test_log_time_stamps_in_common_formats_are_read() -> None:
    expected = datetime(2025, 3, 24, 17, 1, 38, tzinfo=UTC)
    for line in (
        "2025-03-24T17:01:38.223Z INFO ok",
        "2025-03-24 17:01:38,223 INFO:     GET /healthz",
        '10.0.0.1 - - [24/Mar/2025:17:01:38 +0000] "GET / HTTP/1.1" 200',
        "1:M 24 Mar 2025 17:01:38.118 * DB saved on disk",
        '{"level":30,"time":1742835698000,"msg":"ok"}',
    ):
        assert latest_log_time(log(line + "\n")) == expected, line


def test_without_a_clock_now_is_the_latest_time_in_the_package() -> None:
    app = container(log=log("2025-05-05T13:30:00Z INFO still serving\n"))
    assert reference_time(package(pod("app-1", app), collected_at=None)) == datetime(
        2025, 5, 5, 13, 30, tzinfo=UTC
    )


def test_a_date_inside_a_log_message_does_not_move_now_years_ahead() -> None:
    app = container(log=log("2031-01-01T00:00:00Z certificate valid until then\n"))
    now = reference_time(package(pod("app-1", app), collected_at=None))
    assert now is not None
    assert now.year == 2025


def test_scope_matches_workload_names_then_services_then_prefixes() -> None:
    pkg = package(
        pod("api-5f6d7c8b9-aaaaa", workload="api"),
        pod("api-worker-6c7d8e9f0-bbbbb", workload="api-worker"),
        pod("web-7d8e9f0a1-ccccc", workload="web"),
    )
    exact = resolve_scope(pkg, ["the", "api"])
    assert exact.target == "api"
    assert exact.pods == ("api-5f6d7c8b9-aaaaa",)
    assert resolve_scope(pkg, ["worker"]).target == "worker"  # a word of api-worker
    assert resolve_scope(pkg, ["nothing-here"]).is_namespace
    assert len(resolve_scope(pkg, []).pods) == 3


def finding(cause: RootCause, confidence: float = 0.9, current: bool = True) -> Finding:
    return Finding(cause=cause, confidence=confidence, evidence=("x",), current=current)


def test_ranking_puts_the_cause_before_its_symptoms() -> None:
    ranked = rank_findings(
        [
            finding(RootCause.READINESS_PROBE_FAILURE),
            finding(RootCause.CRASH_LOOP),
            finding(RootCause.OOM_KILLED),
            finding(RootCause.NODE_NOT_READY, 0.8),
        ]
    )
    assert [f.cause for f in ranked] == [
        RootCause.NODE_NOT_READY,
        RootCause.OOM_KILLED,
        RootCause.CRASH_LOOP,
        RootCause.READINESS_PROBE_FAILURE,
    ]


def test_a_failure_going_on_now_outranks_one_already_recovered() -> None:
    ranked = rank_findings(
        [finding(RootCause.OOM_KILLED, current=False), finding(RootCause.CRASH_LOOP)]
    )
    assert ranked[0].cause is RootCause.CRASH_LOOP
