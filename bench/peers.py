"""Peers on the same server: a minimal raw SKIP LOCKED queue, and pgqueuer."""

from __future__ import annotations

import asyncio
import threading
import time

import psycopg

RAW_SCHEMA = """
CREATE TABLE raw_jobs (id bigserial PRIMARY KEY, payload jsonb, created_at timestamptz DEFAULT now());
"""


def raw_skip_locked(url: str, jobs: int, batch: int, workers: int = 4) -> float:
    """Drain ``jobs`` no-op jobs: each transaction claims ``batch`` with SKIP LOCKED and
    deletes them (completes). Returns jobs/s."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(RAW_SCHEMA)
        conn.execute(
            "INSERT INTO raw_jobs (payload) SELECT jsonb_build_object('i', g)"
            " FROM generate_series(1, %s) g",
            (jobs,),
        )
    done = [0] * workers

    def work(index: int) -> None:
        with psycopg.connect(url) as conn:
            while True:
                with conn.transaction():
                    rows = conn.execute(
                        "SELECT id, payload FROM raw_jobs ORDER BY id LIMIT %s"
                        " FOR UPDATE SKIP LOCKED",
                        (batch,),
                        prepare=True,
                    ).fetchall()
                    if not rows:
                        return
                    conn.execute(
                        "DELETE FROM raw_jobs WHERE id = ANY(%s)",
                        ([r[0] for r in rows],),
                        prepare=True,
                    )
                done[index] += len(rows)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    assert sum(done) == jobs
    return jobs / elapsed


def pgqueuer_drain(url: str, jobs: int, batch: int, consumers: int = 5) -> float:
    """Enqueue ``jobs`` no-op jobs, then time ``consumers`` QueueManagers (each with its
    own connection, as pgqueuer's own drain benchmark does) emptying the queue."""
    return asyncio.run(_pgqueuer(url, jobs, batch, consumers))


async def _pgqueuer(url: str, jobs: int, batch: int, consumers: int) -> float:
    from pgqueuer.adapters.drivers.psycopg import PsycopgDriver
    from pgqueuer.core.qm import QueueManager
    from pgqueuer.domain.types import QueueExecutionMode
    from pgqueuer.queries import Queries

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        queries = Queries.from_psycopg_connection(conn)
        await queries.install()
        for start in range(0, jobs, 1000):
            n = min(1000, jobs - start)
            await queries.enqueue(["noop"] * n, [None] * n, [0] * n)
    processed = 0
    connections = [
        await psycopg.AsyncConnection.connect(url, autocommit=True) for _ in range(consumers)
    ]
    managers = [QueueManager(Queries(PsycopgDriver(c))) for c in connections]
    for manager in managers:

        @manager.entrypoint("noop")
        async def noop(job: object) -> None:
            nonlocal processed
            processed += 1

    started = time.perf_counter()
    await asyncio.gather(
        *(m.run(mode=QueueExecutionMode.drain, batch_size=batch) for m in managers)
    )
    elapsed = time.perf_counter() - started
    for c in connections:
        await c.close()
    assert processed == jobs, (processed, jobs)
    return jobs / elapsed
