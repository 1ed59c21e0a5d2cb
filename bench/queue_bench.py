"""synaps queue benchmark: one embedded PostgreSQL (fsync on), peers side by side.

    python -m bench.queue_bench [--jobs 5000] [--latency-seconds 10] [--out FILE]

Reports submit throughput (service layer and HTTP, 8 concurrent clients),
end-to-end no-op throughput (submit -> succeeded, every event recorded) with
each batching step on and off, submit->claim latency at a steady 200 commands/s,
a follower under 8 concurrent writers, and a raw SKIP LOCKED queue and
pgqueuer draining the same number of jobs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from adapters.postgres.embedded import free_port
from bench.harness import Report, Server, percentile, scalar, server, wait_until
from bench.peers import pgqueuer_drain, raw_skip_locked
from schemas.commands import SubmitCommand
from services.ports import Caller
from services.wakeups import LocalWakeups
from synaps.bootstrap import Container, build
from synaps.settings import Settings

CALLER = Caller(actor="bench", request_id="bench")
SUCCEEDED = "SELECT count(*) FROM synaps_events WHERE topic = 'RunSucceeded.v1'"
CLIENTS = 8


def container(url: str, **settings: object) -> Container:
    return build(Settings(database_url=url, pool_max_size=60, **settings))  # type: ignore[arg-type]


def submit_many(c: Container, commands: int, clients: int = CLIENTS) -> float:
    """Submit ``commands`` no-op commands from ``clients`` threads; commands/s."""
    per = commands // clients

    def client(k: int) -> None:
        for i in range(per):
            c.submit.submit(SubmitCommand(kind="noop", input={"c": k, "i": i}), CALLER)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return per * clients / (time.perf_counter() - started)


def bench_submit(srv: Server, report: Report, commands: int) -> None:
    for group_commit in (False, True):
        url = srv.fresh_database()
        c = container(url, group_commit=group_commit)
        rate = submit_many(c, commands)
        c.close()
        report.add(
            "submit (service layer, 8 clients)",
            f"group commit {'on' if group_commit else 'off'}",
            rate,
            "commands/s",
        )


def bench_submit_http(srv: Server, report: Report, commands: int) -> None:
    url = srv.fresh_database()
    port = free_port()
    admin_key = "sk_admin_" + "bench" * 8
    api = subprocess.Popen(
        [sys.executable, "-m", "synaps", "api", "--database-url", url, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # an admin key, with limits far above what the benchmark sends
        env={
            **os.environ,
            "SYNAPS_BOOTSTRAP_ADMIN_KEY": admin_key,
            "SYNAPS_RATE_LIMITS_BY_ROLE": "admin=100000000/minute,100000000/hour",
        },
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("api did not start")
            time.sleep(0.1)
        per = commands // CLIENTS

        def client(k: int) -> None:
            with httpx.Client(base_url=base, headers={"X-API-Key": admin_key}) as http:
                for i in range(per):
                    r = http.post("/v1/commands/submit", json={"kind": "noop", "input": [k, i]})
                    assert r.status_code == 201, r.text

        threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rate = per * CLIENTS / (time.perf_counter() - started)
    finally:
        api.terminate()
        api.wait(30)
    report.add("submit (HTTP, 8 clients, API process)", "group commit on", rate, "commands/s")


def drain(srv: Server, report: Report, jobs: int, slots: int, label: str, **options: int) -> float:
    """Pre-submitted no-op commands drained by a worker pool: submit -> succeeded."""
    url = srv.fresh_database()
    c = container(url, group_commit=bool(options.pop("group_commit", 1)))
    submit_many(c, jobs)
    pool = c.worker_pool(concurrency=slots, **options)
    started = time.perf_counter()
    pool.start()
    wait_until(url, SUCCEEDED, jobs)
    rate = jobs / (time.perf_counter() - started)
    pool.stop()
    events = scalar(url, "SELECT count(*) FROM synaps_events")
    c.close()
    assert events == 7 * jobs, f"{events} events for {jobs} commands"
    report.add(f"drain no-op ({slots} slots)", label, rate, "tasks/s", events=events)
    return rate


def bench_end_to_end(srv: Server, report: Report, jobs: int) -> dict[str, float]:
    rates: dict[str, float] = {}
    for slots in (4, 16):
        rates[f"{slots}"] = drain(srv, report, jobs, slots, "all batching on")
    small = max(1000, jobs // 5)
    drain(srv, report, small, 16, "claim 1 per transaction", claim_batch=1)
    drain(srv, report, small, 16, "complete 1 per transaction", complete_batch=1)
    drain(
        srv,
        report,
        small,
        16,
        "group commit off (completes alone)",
        group_commit=0,
        complete_batch=1,
    )
    # submit and drain at once: the whole path from submit to succeeded
    url = srv.fresh_database()
    c = container(url)
    pool = c.worker_pool(concurrency=16)
    pool.start()
    started = time.perf_counter()
    submit_many(c, jobs)
    wait_until(url, SUCCEEDED, jobs)
    rate = jobs / (time.perf_counter() - started)
    pool.stop()
    c.close()
    report.add("submit + drain concurrently (16 slots)", "8 submit clients", rate, "tasks/s")
    rates["concurrent"] = rate
    return rates


def bench_latency(srv: Server, report: Report, rate: int, seconds: float) -> None:
    for wakeups in (True, False):
        url = srv.fresh_database()
        c = build(
            Settings(database_url=url, pool_max_size=40),
            wakeups=LocalWakeups() if wakeups else None,
        )
        pool = c.worker_pool(concurrency=16)
        pool.start()
        total = int(rate * seconds)
        started = time.perf_counter()
        for i in range(total):
            due = started + i / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            c.submit.submit(SubmitCommand(kind="noop", input=i), CALLER)
        achieved = total / (time.perf_counter() - started)
        wait_until(url, SUCCEEDED, total)
        pool.stop()
        c.close()
        latencies = [
            float(v) * 1000
            for (v,) in _rows(
                url,
                """
            SELECT extract(epoch FROM (c.state_json->>'timestamp')::timestamptz
                                    - (q.state_json->>'timestamp')::timestamptz)
            FROM (SELECT originator_id, convert_from(state, 'UTF8')::json AS state_json
                  FROM synaps_events WHERE topic = 'TaskQueued.v1') q
            JOIN (SELECT originator_id, convert_from(state, 'UTF8')::json AS state_json
                  FROM synaps_events WHERE topic = 'TaskClaimed.v1'
                    AND originator_version = 2) c USING (originator_id)""",
            )
        ]
        label = "in-process wakeups + polling" if wakeups else "polling only (max 1 s idle)"
        report.add(
            f"submit->claim latency @{rate}/s",
            f"{label} p50",
            percentile(latencies, 50),
            "ms",
            achieved_rate=round(achieved),
        )
        report.add(
            f"submit->claim latency @{rate}/s", f"{label} p99", percentile(latencies, 99), "ms"
        )


def bench_follower(srv: Server, report: Report, seconds: float) -> None:
    url = srv.fresh_database()
    c = container(url, group_commit=False)
    recorder = c.ledger.ledger_recorder
    stop = threading.Event()
    seen: list[int] = []
    writers_done = threading.Event()

    def follower() -> None:
        position = 0
        while True:
            done = writers_done.is_set()
            batch = recorder.select_notifications(position, 1000, inclusive_of_start=False)
            seen.extend(n.id for n in batch)
            if batch:
                position = batch[-1].id
            elif done:
                return

    def writer() -> None:
        while not stop.is_set():
            c.submit.submit(SubmitCommand(kind="noop"), CALLER)

    reader = threading.Thread(target=follower)
    reader.start()
    writers = [threading.Thread(target=writer) for _ in range(8)]
    started = time.perf_counter()
    for w in writers:
        w.start()
    time.sleep(seconds)
    stop.set()
    for w in writers:
        w.join()
    elapsed = time.perf_counter() - started
    writers_done.set()
    reader.join()
    written = {r[0] for r in _rows(url, "SELECT notification_id FROM synaps_events")}
    c.close()
    missed = len(written - set(seen))
    duplicates = len(seen) - len(set(seen))
    report.add(
        "follower under 8 concurrent writers",
        "events written/s",
        len(written) / elapsed,
        "events/s",
        events=len(written),
        missed=missed,
        duplicates=duplicates,
        in_order=seen == sorted(seen),
    )
    assert missed == 0 and duplicates == 0


def bench_peers(srv: Server, report: Report, jobs: int) -> dict[str, float]:
    rates = {}
    for batch in (1, 10):
        rates[f"raw{batch}"] = raw_skip_locked(srv.fresh_database(migrate=False), jobs, batch)
        report.add(
            "raw SKIP LOCKED queue (4 workers)",
            f"{batch} per transaction",
            rates[f"raw{batch}"],
            "jobs/s",
        )
    for batch in (10, 100):
        rates[f"pgq{batch}"] = pgqueuer_drain(srv.fresh_database(migrate=False), jobs, batch)
        report.add("pgqueuer drain", f"batch {batch}", rates[f"pgq{batch}"], "jobs/s")
    return rates


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--latency-seconds", type=float, default=10)
    parser.add_argument("--follower-seconds", type=float, default=5)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--only", default="", help="comma-separated: submit,http,e2e,latency,follower,peers"
    )
    args = parser.parse_args()
    only = {s for s in args.only.split(",") if s}
    report = Report()
    print(f"synaps bench: {args.jobs} jobs, {os.cpu_count()} cpus, {platform.platform()}")
    summary: dict[str, float] = {}
    with server() as srv:
        version = scalar(srv.pg.url, "SHOW server_version")
        print(f"PostgreSQL {version}, fsync on, synchronous_commit on")
        if not only or "submit" in only:
            bench_submit(srv, report, args.jobs)
        if not only or "http" in only:
            bench_submit_http(srv, report, min(args.jobs, 4000))
        if not only or "e2e" in only:
            summary.update(bench_end_to_end(srv, report, args.jobs))
        if not only or "latency" in only:
            bench_latency(srv, report, 200, args.latency_seconds)
        if not only or "follower" in only:
            bench_follower(srv, report, args.follower_seconds)
        if not only or "peers" in only:
            summary.update(bench_peers(srv, report, args.jobs))
    if "16" in summary and "pgq10" in summary:
        for key in ("pgq10", "pgq100"):
            report.add("synaps drain (16 slots) / pgqueuer", key, summary["16"] / summary[key], "x")
    out = args.out or Path("bench/results") / f"queue-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"jobs": args.jobs, "postgres": version, "rows": report.rows}, indent=2)
    )
    print(f"results written to {out}")


if __name__ == "__main__":
    main()
