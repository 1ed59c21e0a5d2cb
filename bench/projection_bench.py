"""synaps projection benchmark: catch-up, rebuild, read-your-writes; peers on one server.

python -m bench.projection_bench [--events 200000] [--rebuild-events 1000000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import msgspec
import psycopg

from adapters.postgres.embedded import free_port
from adapters.postgres.projector import ProjectionRunner
from adapters.postgres.rebuild import rebuild_projection
from bench.harness import Report, Server, percentile, scalar, server
from bench.ledger_fill import fill
from projections.catalog import processors
from synaps.bootstrap import build
from synaps.settings import Settings


def bench_catch_up(srv: Server, report: Report, events: int) -> float:
    url = srv.fresh_database()
    c = build(Settings(database_url=url, group_commit=False, pool_max_size=20))
    rate = fill(c, events)
    total = int(scalar(url, "SELECT count(*) FROM synaps_events"))
    report.add("fill (domain + ledger, 400 commands/tx)", f"{total} events", rate, "events/s")
    # the raw scan and a hand-written projection, on the same table
    started = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor(name="scan") as cur:
        cur.itersize = 10000
        cur.execute("SELECT * FROM synaps_events ORDER BY notification_id")
        scanned = sum(1 for _ in cur)
    report.add(
        "raw SELECT scan of the events table",
        f"{scanned} rows",
        scanned / (time.perf_counter() - started),
        "rows/s",
    )
    report.add(
        "hand-written psycopg projection",
        "decode + upsert, 1000/tx",
        _hand_written(url),
        "events/s",
    )
    # each synaps processor alone, then all together as `synaps projector` runs them
    rates = {}
    for processor in processors():
        runner = ProjectionRunner(
            c.ledger.ledger_recorder,
            c.ledger.mapper,
            processor,
            tracking_name=f"alone-{processor.name}",
            tables={t: _scratch(url, t) for t in processor.tables},
            page_size=1000,
            notify=False,
        )
        started = time.perf_counter()
        applied = runner.catch_up()
        rates[processor.name] = applied / (time.perf_counter() - started)
        report.add(
            "catch-up, one projection alone",
            processor.name,
            rates[processor.name],
            "events/s",
            events=applied,
        )
    projector = c.projector(page_size=1000)
    started = time.perf_counter()
    projector.start()
    head = int(scalar(url, "SELECT max(notification_id) FROM synaps_events"))
    while (
        int(
            scalar(
                url,
                "SELECT coalesce(min(position), 0) FROM synaps_projections"
                " WHERE name NOT LIKE 'alone-%%'",
            )
        )
        < head
    ):
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    projector.stop()
    c.close()
    rate = total / elapsed
    report.add(
        "catch-up, all projections (the projector)",
        f"{total} events",
        rate,
        "events/s",
        seconds=round(elapsed, 1),
    )
    return rate


def _scratch(url: str, table: str) -> str:
    name = f"{table}__bench"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {name}".encode())
        conn.execute(f"CREATE TABLE {name} (LIKE {table} INCLUDING ALL)".encode())
    return name


class _Envelope(msgspec.Struct):
    type: str
    actor: str
    correlation_id: str


def _hand_written(url: str) -> float:
    """The floor of a Python projection: decode the envelope, upsert one row per
    aggregate, track the position, 1000 events per transaction."""
    decode = msgspec.json.Decoder(_Envelope).decode
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE hand (aggregate_id uuid PRIMARY KEY, version bigint,"
            " type text, actor text, correlation_id text)"
        )
        conn.execute("CREATE TABLE hand_tracking (position bigint)")
        conn.execute("INSERT INTO hand_tracking VALUES (0)")
    started = time.perf_counter()
    applied = 0
    with psycopg.connect(url) as conn:
        position = 0
        while True:
            rows = conn.execute(
                "SELECT notification_id, originator_id, originator_version, state"
                " FROM synaps_events WHERE notification_id > %s ORDER BY notification_id"
                " LIMIT 1000",
                (position,),
            ).fetchall()
            if not rows:
                break
            latest: dict[object, tuple[object, ...]] = {}
            for _, oid, version, state in rows:
                e = decode(state)
                latest[oid] = (oid, version, e.type, e.actor, e.correlation_id)
            with conn.transaction():
                values = list(latest.values())
                conn.execute(
                    "INSERT INTO hand SELECT * FROM unnest(%s::uuid[], %s::bigint[],"
                    " %s::text[], %s::text[], %s::text[]) ON CONFLICT (aggregate_id) DO UPDATE"
                    " SET version = EXCLUDED.version, type = EXCLUDED.type",
                    [list(col) for col in zip(*values, strict=True)],
                )
                position = rows[-1][0]
                conn.execute("UPDATE hand_tracking SET position = %s", (position,))
            applied += len(rows)
    return applied / (time.perf_counter() - started)


def bench_rebuild(srv: Server, report: Report, events: int) -> None:
    url = srv.fresh_database()
    c = build(Settings(database_url=url, group_commit=False, pool_max_size=20))
    fill(c, events)
    total = int(scalar(url, "SELECT count(*) FROM synaps_events"))
    started = time.perf_counter()
    threads = [
        threading.Thread(
            target=rebuild_projection,
            args=(c.ledger.ledger_recorder, c.ledger.mapper, p),
            kwargs={"page_size": 5000},
        )
        for p in processors()
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    c.close()
    report.add(
        "rebuild all projections (shadow + swap)",
        f"{total} events",
        elapsed,
        "s",
        events_per_second=round(total / elapsed),
    )


def bench_read_your_writes(srv: Server, report: Report, samples: int) -> None:
    url = srv.fresh_database()
    port = free_port()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "synaps", *args, "--database-url", url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for args in (("api", "--port", str(port)), ("projector",))
    ]
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
        latencies = []
        with httpx.Client(base_url=base) as http:
            for i in range(samples):
                submitted = http.post("/v1/commands/submit", json={"kind": "noop", "input": i})
                body = submitted.json()
                started = time.perf_counter()
                read = http.get(
                    f"/v1/runs/{body['run_id']}", params={"min_position": body["position"]}
                )
                latencies.append((time.perf_counter() - started) * 1000)
                assert read.status_code == 200 and read.headers["Synaps-Projection-Lag"] == "0"
    finally:
        for p in procs:
            p.terminate()
            p.wait(30)
    for q in (50, 99):
        report.add(
            "read-your-writes (submit -> GET min_position)",
            f"p{q}",
            percentile(latencies, q),
            "ms",
            samples=samples,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rebuild-events", type=int, default=1_000_000)
    parser.add_argument("--ryw-samples", type=int, default=300)
    parser.add_argument("--only", default="")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    only = {s for s in args.only.split(",") if s}
    report = Report()
    with server() as srv:
        print(f"PostgreSQL {scalar(srv.pg.url, 'SHOW server_version')}, fsync on")
        if not only or "catchup" in only:
            bench_catch_up(srv, report, args.events)
        if not only or "ryw" in only:
            bench_read_your_writes(srv, report, args.ryw_samples)
        if not only or "rebuild" in only:
            bench_rebuild(srv, report, args.rebuild_events)
    out = args.out or Path("bench/results") / f"projections-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"events": args.events, "rows": report.rows}, indent=2))
    print(f"results written to {out}")


if __name__ == "__main__":
    main()
