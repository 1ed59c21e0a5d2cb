"""Benchmark plumbing: one embedded PostgreSQL (fsync on), fresh databases, timing."""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from adapters.postgres.embedded import EmbeddedPostgres
from adapters.postgres.migrate import apply_migrations


@dataclass
class Server:
    pg: EmbeddedPostgres

    def fresh_database(self, migrate: bool = True) -> str:
        url = self.pg.create_database(f"bench_{uuid.uuid4().hex[:10]}")
        if migrate:
            apply_migrations(url)
        return url


@contextmanager
def server(data_dir: Path | None = None) -> Iterator[Server]:
    with tempfile.TemporaryDirectory(prefix="synaps-bench-") as tmp:
        pg = EmbeddedPostgres(data_dir or Path(tmp), fsync=True)
        with pg:
            yield Server(pg)


def scalar(url: str, sql: str, params: Any = None) -> Any:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql, params).fetchone()
    assert row is not None
    return row[0]


def wait_until(url: str, sql: str, target: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            row = conn.execute(sql).fetchone()
            if row is not None and row[0] >= target:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{sql} stayed below {target}")
            time.sleep(0.02)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


@dataclass
class Report:
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, scenario: str, variant: str, value: float, unit: str, **extra: Any) -> None:
        row = {"scenario": scenario, "variant": variant, "value": round(value, 2), "unit": unit}
        row.update(extra)
        self.rows.append(row)
        print(f"  {scenario:<34} {variant:<44} {value:>10.1f} {unit} {extra or ''}", flush=True)

    def median(self, values: list[float]) -> float:
        return statistics.median(values)
