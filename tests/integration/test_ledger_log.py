"""The notification log: gap-free for followers under concurrent writers, without a table lock."""

from __future__ import annotations

import random
import threading
import time
import uuid
from bisect import bisect_left
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from adapters.postgres.ledger import Ledger
from adapters.postgres.recorder import LedgerRecorder
from domain.envelope import EventContext
from domain.errors import ConcurrencyConflict
from domain.thread import Thread
from projections.queue import QueueProjection

pytestmark = pytest.mark.integration

CTX = EventContext(actor="t", tenant="t", correlation_id="c", causation_id="x")


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
        database_url, kwargs={"autocommit": True}, min_size=2, max_size=20, open=True
    )
    led = Ledger(LedgerRecorder(pool, [QueueProjection()]), group_commit=False)
    yield led
    led.close()
    pool.close()


def now() -> datetime:
    return datetime.now(UTC)


def new_thread() -> Thread:
    return Thread.begin(id=uuid.uuid4(), run_id=uuid.uuid4(), ctx=CTX, now=now())


def follow(recorder: LedgerRecorder, after: int, limit: int = 1000) -> list[int]:
    return [n.id for n in recorder.select_notifications(after, limit, inclusive_of_start=False)]


def test_a_follower_waits_for_a_transaction_that_commits_late(ledger: Ledger) -> None:
    recorder = ledger.ledger_recorder
    slow, fast = new_thread(), new_thread()
    with recorder.transaction() as cur:
        # The slow writer inserts first (older xid, smaller ids) but commits last.
        slow_write = ledger._prepare([slow])
        slow_ids = recorder.write(cur, slow_write.stored, slow_write.changed)
        fast_pos = ledger.commit(fast)
        assert fast_pos > max(slow_ids)
        # A naive reader (no horizon) sees the fast event and would move past the slow one...
        with recorder.pool.connection() as conn:
            naive = [r[0] for r in conn.execute("SELECT notification_id FROM synaps_events")]
        assert naive == [fast_pos]
        # ...the follower does not: nothing is below the horizon yet.
        assert follow(recorder, 0) == []
    assert follow(recorder, 0) == [*slow_ids, fast_pos]


def test_an_aggregate_version_written_under_an_older_xid_is_a_conflict(ledger: Ledger) -> None:
    """A transaction that got its xid before reading a newer predecessor must not commit."""
    recorder = ledger.ledger_recorder
    thread = new_thread()
    ledger.commit(thread)
    with pytest.raises(ConcurrencyConflict), recorder.transaction() as cur:
        cur.execute("SELECT pg_current_xact_id()")  # this transaction now holds an xid
        # Meanwhile another transaction (newer xid) appends version 2 and commits.
        loaded: Thread = ledger.get(thread.id, Thread)
        loaded.add_run(uuid.uuid4(), ctx=CTX, now=now())
        ledger.commit(loaded)
        # The old transaction reads version 2 and appends version 3: its ids would sort
        # before version 2's, so the write is refused.
        stale: Thread = ledger.get(thread.id, Thread)
        stale.add_run(uuid.uuid4(), ctx=CTX, now=now())
        write = ledger._prepare([stale])
        recorder.write(cur, write.stored, write.changed)
    assert ledger.get(thread.id, Thread).version == 2


def test_concurrent_writers_and_one_follower_see_every_event_once_in_commit_order(
    ledger: Ledger,
) -> None:
    recorder = ledger.ledger_recorder
    stop = threading.Event()
    lock = threading.Lock()
    # per event: (position, started writing at, committed at)
    written: list[tuple[int, float, float]] = []
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        mine: list[Thread] = []
        try:
            while not stop.is_set():
                started = time.monotonic()
                if mine and rng.random() < 0.4:
                    thread = ledger.get(rng.choice(mine).id, Thread)
                    thread.add_run(uuid.uuid4(), ctx=CTX, now=now())
                    batch = [thread]
                else:
                    batch = [new_thread() for _ in range(rng.randint(1, 4))]
                    mine.extend(batch)
                write = ledger._prepare(batch)
                with recorder.transaction() as cur:
                    ids = recorder.write(cur, write.stored, write.changed)
                    if rng.random() < 0.3:  # hold the transaction open: a late commit
                        time.sleep(rng.random() * 0.004)
                committed = time.monotonic()
                with lock:
                    written.extend((i, started, committed) for i in ids)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    seen: list[int] = []
    writers_done = threading.Event()

    def follower() -> None:
        position = 0
        while True:
            done = writers_done.is_set()
            batch = follow(recorder, position, 500)
            seen.extend(batch)
            if batch:
                position = batch[-1]
            elif done:
                return

    writers = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    reader = threading.Thread(target=follower)
    reader.start()
    for w in writers:
        w.start()
    time.sleep(4)
    stop.set()
    for w in writers:
        w.join()
    writers_done.set()
    reader.join(timeout=30)
    assert not errors
    assert len(written) > 2000, "enough concurrent writes to mean something"
    positions = {p for p, _, _ in written}
    assert len(seen) == len(set(seen)), "no event delivered twice"
    assert set(seen) == positions, f"missed {len(positions - set(seen))} events"
    assert seen == sorted(seen)
    # Commit order: an event whose transaction committed before another began comes first.
    by_commit = sorted(written, key=lambda w: w[2])
    commit_times = [w[2] for w in by_commit]
    prefix_max: list[int] = []
    for p, _, _ in by_commit:
        prefix_max.append(max(p, prefix_max[-1]) if prefix_max else p)
    for position, started, _ in written:
        k = bisect_left(commit_times, started)
        if k:
            assert prefix_max[k - 1] < position
