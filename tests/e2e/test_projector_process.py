"""A real `synaps projector` killed with SIGKILL mid-batch resumes without gaps or duplicates."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import psycopg
import pytest

from adapters.postgres.ledger_scan import PostgresLedgerScan
from adapters.postgres.rebuild import rebuild_projection
from projections.catalog import processors
from schemas.commands import SubmitCommand
from services.audit import verify_seal
from services.ports import Caller
from synaps.bootstrap import Container
from tests.e2e.processes import eventually, kill_group, running, synaps
from tests.integration.test_projections import snapshot

pytestmark = pytest.mark.e2e

USER = Caller(actor="user", request_id="r")


def positions(url: str) -> dict[str, tuple[int, int]]:
    with psycopg.connect(url) as conn:
        return {
            n: (p, e)
            for n, p, e in conn.execute("SELECT name, position, events FROM synaps_projections")
        }


def test_a_killed_projector_resumes_without_gaps_or_duplicates(
    container: Container, database_url: str, tmp_path: Path
) -> None:
    def submit(n: int) -> None:
        for i in range(n):
            container.submit.submit(SubmitCommand(kind="noop", input=i), USER)

    threads = [threading.Thread(target=submit, args=(400,)) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with psycopg.connect(database_url) as conn:
        total = conn.execute("SELECT count(*) FROM synaps_events").fetchone()[0]  # type: ignore[index]
        head = conn.execute("SELECT max(notification_id) FROM synaps_events").fetchone()[0]  # type: ignore[index]
    env = {"SYNAPS_DATABASE_URL": database_url}
    args = ("projector", "--page-size", "97")
    kills = 0
    for attempt in range(3):  # kill it a few times at arbitrary moments
        with running(synaps(*args, env=env, log=tmp_path / f"p{attempt}.log")) as proc:

            def progressed() -> bool:
                now = positions(database_url)
                return len(now) == len(processors()) and any(p > 0 for p, _ in now.values())

            eventually(progressed, what="some progress")
            time.sleep(0.05 * (attempt + 1))
            kill_group(proc)  # the supervisor and every projection process, mid-page
            at_kill = positions(database_url)
            if any(0 < p < head for p, _ in at_kill.values()):
                kills += 1  # killed while some projection was part-way
    with running(synaps(*args, env=env, log=tmp_path / "final.log")) as proc:
        eventually(
            lambda: (
                all(p >= head for p, _ in positions(database_url).values())
                and len(positions(database_url)) == len(processors())
            ),
            timeout=120,
            what="catch-up",
        )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    assert kills >= 2, "the projector was killed part-way through at least twice"
    done = positions(database_url)
    # exactly once: each projection counted every event it reads exactly once
    assert done["audit_log"][1] == total
    assert done["audit_seal"][1] == total
    with psycopg.connect(database_url) as conn:
        run_events = conn.execute(
            "SELECT count(*) FROM synaps_events WHERE topic LIKE 'Run%' OR topic LIKE 'Task%'"
        ).fetchone()[0]  # type: ignore[index]
        logged = conn.execute("SELECT count(*) FROM synaps_audit_log").fetchone()[0]  # type: ignore[index]
    assert done["runs"][1] == run_events
    assert logged == total
    check = verify_seal(PostgresLedgerScan(database_url))
    assert check.ok and check.checked == total
    projected = snapshot(database_url)
    for processor in processors():
        rebuild_projection(container.ledger.ledger_recorder, container.ledger.mapper, processor)
    assert snapshot(database_url) == projected
