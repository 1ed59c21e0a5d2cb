"""Rate-limit counters shared by every API process: one statement per request.

Each (subject, window length) has one row: when its window started and how
many requests came since. The upsert starts a new window once the old one is
over, else counts one more; PostgreSQL's row lock makes concurrent requests
from any number of processes count exactly once each.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from domain.rate_limits import Limit, WindowCount

__all__ = ["PostgresRateCounter"]

_HIT = """
INSERT INTO synaps_rate_limits AS r (subject, seconds, started_at, hits)
SELECT %(subject)s, s, statement_timestamp(), 1 FROM unnest(%(seconds)s::int[]) AS s
ON CONFLICT (subject, seconds) DO UPDATE SET
    started_at = CASE WHEN r.started_at + make_interval(secs => r.seconds) <= excluded.started_at
                      THEN excluded.started_at ELSE r.started_at END,
    hits = CASE WHEN r.started_at + make_interval(secs => r.seconds) <= excluded.started_at
                THEN 1 ELSE r.hits + 1 END
RETURNING seconds, hits,
    extract(epoch FROM started_at + make_interval(secs => seconds) - statement_timestamp())
"""


class PostgresRateCounter:
    def __init__(self, pool: ConnectionPool[psycopg.Connection[Any]]) -> None:
        self._pool = pool

    def hit(self, subject: str, limits: Sequence[Limit]) -> list[WindowCount]:
        if not limits:
            return []
        by_seconds = {limit.seconds: limit for limit in limits}
        with self._pool.connection() as conn:
            rows = conn.execute(
                _HIT, {"subject": subject, "seconds": sorted(by_seconds)}, prepare=True
            ).fetchall()
        return [
            WindowCount(limit=by_seconds[seconds], hits=hits, reset_seconds=float(left))
            for seconds, hits, left in sorted(rows)
        ]
