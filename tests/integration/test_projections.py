"""Projections: incremental equals rebuild, re-delivery changes nothing, poison events,
the audit seal catches tampering."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.rows import dict_row

from adapters.postgres.ledger_scan import PostgresLedgerScan
from adapters.postgres.projection_status import projection_status
from adapters.postgres.projector import ProjectionRunner
from adapters.postgres.rebuild import rebuild_projection, rebuild_queue
from domain.errors import AlreadyCompleted, LeaseLost, RunFinished
from projections.catalog import processors
from projections.queue import QueueProjection
from schemas.commands import ClaimTasks, CompleteTask, FailTask, SubmitCommand
from services.audit import verify_seal
from services.ports import Caller
from services.queue import QueueService
from synaps.bootstrap import Container, build
from synaps.settings import Settings
from tests.fakes import FakeClock

pytestmark = pytest.mark.integration

USER = Caller(actor="user", tenant="t", request_id="r")
KEYS = {
    "synaps_runs": "run_id",
    "synaps_tasks": "task_id",
    "synaps_audit_log": "position",
    "synaps_audit_seal": "position",
}


@pytest.fixture
def env(database_url: str) -> Iterator[tuple[Container, FakeClock, str]]:
    clock = FakeClock()
    c = build(Settings(database_url=database_url), clock=clock)
    c.queue = QueueService(c.ledger, clock, jitter=lambda: 0.5)
    yield c, clock, database_url
    c.close()


def runners(c: Container, page_size: int = 7) -> list[ProjectionRunner]:
    result = [
        ProjectionRunner(c.ledger.ledger_recorder, c.ledger.mapper, p, page_size=page_size)
        for p in processors()
    ]
    for r in result:
        r.ensure_tracking()
    return result


def snapshot(url: str) -> dict[str, list[dict[str, Any]]]:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=dict_row) as cur:
        return {
            table: cur.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()
            for table, key in KEYS.items()
        }


def catch_up(rs: list[ProjectionRunner]) -> None:
    for r in rs:
        r.catch_up()


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["submit", "claim", "complete", "fail", "cancel", "expire", "project"]),
        st.integers(0, 1000),
    ),
    min_size=5,
    max_size=40,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS, suffix_seed=st.integers(0, 10**6))
def test_incremental_equals_rebuild_and_redelivery_changes_nothing(
    env: tuple[Container, FakeClock, str], operations: list[tuple[str, int]], suffix_seed: int
) -> None:
    c, clock, url = env
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "TRUNCATE synaps_events, synaps_queue, synaps_runs, synaps_tasks,"
            " synaps_audit_log, synaps_audit_seal, synaps_projections"
        )
    rs = runners(c)
    held: list[Any] = []
    runs: list[uuid.UUID] = []
    for op, n in operations:
        worker = Caller(actor=f"worker:w{n % 2}", request_id="x")
        if op == "submit":
            runs.append(
                c.submit.submit(
                    SubmitCommand(kind="noop", input={"n": n}, max_attempts=1 + n % 3), USER
                ).submitted.run_id
            )
        elif op == "claim":
            held += c.queue.claim(
                ClaimTasks(worker_id=f"w{n % 2}", max_tasks=1 + n % 3, lease_seconds=5), worker
            )
        elif op in ("complete", "fail") and held:
            task = held[n % len(held)]
            try:
                if op == "complete":
                    c.queue.complete(
                        CompleteTask(task_id=task.task_id, attempt=task.attempt, output=n), worker
                    )
                else:
                    c.queue.fail(
                        FailTask(
                            task_id=task.task_id,
                            attempt=task.attempt,
                            error=f"e{n}",
                            retryable=n % 2 == 0,
                        ),
                        worker,
                    )
            except (LeaseLost, AlreadyCompleted):
                pass
        elif op == "cancel" and runs:
            with contextlib.suppress(RunFinished):
                c.queue.cancel_run(runs[n % len(runs)], "test", USER)
        elif op == "expire":
            clock.advance(6)
            c.queue.reap_expired_leases(worker)
        elif op == "project":
            rs[n % len(rs)].step()  # one page of one projection, mid-history
    catch_up(rs)
    incremental = snapshot(url)
    # re-deliver a suffix: move each projection back and apply again
    with psycopg.connect(url, autocommit=True) as conn:
        positions = [
            r[0] for r in conn.execute("SELECT notification_id FROM synaps_events ORDER BY 1")
        ]
        if positions:
            back = positions[suffix_seed % len(positions)] - 1
            conn.execute("UPDATE synaps_projections SET position = %s", (back,))
    catch_up(rs)
    assert snapshot(url) == incremental
    # rebuild everything from position 0 into shadow tables, swapped in
    for processor in processors():
        rebuild_projection(c.ledger.ledger_recorder, c.ledger.mapper, processor, page_size=5)
    assert snapshot(url) == incremental
    with psycopg.connect(url) as conn:
        before = QueueProjection.rows(conn.cursor())
    rebuild_queue(c.ledger.ledger_recorder, c.ledger.mapper)
    with psycopg.connect(url) as conn:
        assert QueueProjection.rows(conn.cursor()) == before


def test_a_poison_event_stops_its_projection_at_that_event_only(
    env: tuple[Container, FakeClock, str],
) -> None:
    c, _, url = env
    c.submit.submit(SubmitCommand(kind="noop"), USER)
    with psycopg.connect(url, autocommit=True) as conn:
        poison = conn.execute(
            "INSERT INTO synaps_events (originator_id, originator_version, topic, state,"
            " notification_id) VALUES (%s, 2, 'TaskClaimed.v1', '{\"not\": \"an event\"}',"
            " (pg_current_xact_id()::text::bigint << 20) + 1) RETURNING notification_id",
            (uuid.uuid4(),),
        ).fetchone()[0]  # type: ignore[index]
    after = c.submit.submit(SubmitCommand(kind="noop"), USER).submitted
    with psycopg.connect(url) as conn:
        last_good = conn.execute(
            "SELECT max(notification_id) FROM synaps_events WHERE notification_id < %s",
            (poison,),
        ).fetchone()[0]  # type: ignore[index]
    stop = threading.Event()
    rs = runners(c, page_size=100)
    threads = [threading.Thread(target=r.run, args=(stop, 0.01)) for r in rs]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 20
        while True:
            with psycopg.connect(url) as conn:
                status = {s.name: s for s in projection_status(conn)}
            settled = all(
                status[n].state == "failing" and status[n].error_position == poison
                for n in ("runs", "audit_log")
            )
            if settled and status["audit_seal"].position >= after.position:
                break
            assert time.monotonic() < deadline, status
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join()
    for name in ("runs", "audit_log"):
        assert status[name].error_position == poison
        assert status[name].position == last_good, "everything before the poison event applied"
        assert "ValidationError" in (status[name].error or "")
    assert status["audit_seal"].state == "running", "the others go on"
    with psycopg.connect(url) as conn:
        runs_projected = conn.execute("SELECT count(*) FROM synaps_runs").fetchone()
    assert runs_projected == (1,), "nothing after the poison event was skipped to"


@pytest.mark.parametrize("tamper", ["modify", "delete", "reorder", "insert"])
def test_audit_verify_finds_the_first_tampered_position(
    env: tuple[Container, FakeClock, str], tamper: str
) -> None:
    c, _, url = env
    for i in range(6):
        c.submit.submit(SubmitCommand(kind="noop", input=i), USER)
    seal = next(p for p in processors() if p.name == "audit_seal")
    ProjectionRunner(c.ledger.ledger_recorder, c.ledger.mapper, seal).catch_up()
    scan = PostgresLedgerScan(url)
    clean = verify_seal(scan)
    assert clean.ok and clean.checked == 24
    with psycopg.connect(url, autocommit=True) as conn:
        positions = [
            r[0] for r in conn.execute("SELECT notification_id FROM synaps_events ORDER BY 1")
        ]
        target = positions[9]
        if tamper == "modify":
            conn.execute(
                "UPDATE synaps_events SET state = convert_to(replace(convert_from(state,"
                " 'UTF8'), 'anonymous', 'someone-else'), 'UTF8') WHERE notification_id = %s",
                (target,),
            )
            conn.execute(
                "UPDATE synaps_events SET state = convert_to(replace(convert_from(state,"
                " 'UTF8'), '\"user\"', '\"mallory\"'), 'UTF8') WHERE notification_id = %s",
                (target,),
            )
        elif tamper == "delete":
            conn.execute("DELETE FROM synaps_events WHERE notification_id = %s", (target,))
        elif tamper == "reorder":
            other = positions[10]
            conn.execute(
                "UPDATE synaps_events SET notification_id = CASE notification_id"
                " WHEN %s THEN -1 ELSE notification_id END WHERE notification_id IN (%s)",
                (target, target),
            )
            conn.execute(
                "UPDATE synaps_events SET notification_id = %s WHERE notification_id = %s",
                (target, other),
            )
            conn.execute(
                "UPDATE synaps_events SET notification_id = %s WHERE notification_id = -1", (other,)
            )
        else:
            # a forged event slipped in after the target, in its transaction's id range
            target = (target >> 20 << 20) + 1000
            conn.execute(
                "INSERT INTO synaps_events SELECT gen_random_uuid(), 1, topic, state, %s"
                " FROM synaps_events WHERE notification_id = %s",
                (target, positions[0]),
            )
    check = verify_seal(scan)
    assert not check.ok
    assert check.first_mismatch == target
    assert check.checked == sum(1 for p in positions if p < target)
    # verifying from after the tampered event finds the rest intact
    if tamper in ("modify", "delete"):
        assert verify_seal(scan, from_position=positions[11]).ok


def test_status_reports_lag_and_rate(env: tuple[Container, FakeClock, str]) -> None:
    c, _, url = env
    for _ in range(3):
        c.submit.submit(SubmitCommand(kind="noop"), USER)
    rs = runners(c, page_size=5)
    rs[0].step()
    with psycopg.connect(url) as conn:
        status = {s.name: s for s in projection_status(conn)}
    assert set(status) == {
        "runs",
        "audit_log",
        "audit_seal",
        "control",
        "artifacts",
        "approvals",
        "incidents",
        "queue",
    }
    assert status["queue"].state == "inline"
    assert status["runs"].head == status["audit_log"].head > 0
    assert status["audit_log"].lag == 12 and status["audit_log"].lag_seconds >= 0
    assert status["runs"].lag < 12
    for r in rs:
        r.catch_up()
    with psycopg.connect(url) as conn:
        status = {s.name: s for s in projection_status(conn)}
    assert all(s.lag == 0 for s in status.values())
    assert status["audit_log"].events == 12
