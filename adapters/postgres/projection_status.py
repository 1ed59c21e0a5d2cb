"""Where each projection is: position, head, lag in events and seconds, rate, state."""

from __future__ import annotations

from typing import Any

import msgspec
import psycopg

from projections.catalog import INLINE

__all__ = ["ProjectionStatus", "projection_status"]

STALE_SECONDS = 30.0


class ProjectionStatus(msgspec.Struct, kw_only=True):
    name: str
    position: int
    head: int
    lag: int  # events in the ledger after the position
    lag_seconds: float  # age of the oldest event not yet applied
    rate: float  # events/s, recent
    state: str  # running, rebuilding, failing, stopped, inline
    error: str | None = None
    error_position: int | None = None
    events: int = 0


_QUERY = """
SELECT p.name, p.position, p.events, p.state, p.error, p.error_position, p.rate,
       extract(epoch FROM now() - p.heartbeat_at),
       (SELECT count(*) FROM synaps_events e WHERE e.notification_id > p.position),
       (SELECT extract(epoch FROM now() - (convert_from(e.state, 'UTF8')::json->>'timestamp')
                                          ::timestamptz)
          FROM synaps_events e WHERE e.notification_id > p.position
          ORDER BY e.notification_id LIMIT 1)
FROM synaps_projections p ORDER BY p.name
"""


def projection_status(conn: psycopg.Connection[Any]) -> list[ProjectionStatus]:
    head_row = conn.execute("SELECT coalesce(max(notification_id), 0) FROM synaps_events")
    head = int(head_row.fetchone()[0])  # type: ignore[index]
    rows = conn.execute(_QUERY).fetchall()
    rebuilding = {r[0].split("@", 1)[0] for r in rows if r[0].endswith("@rebuild")}
    result = []
    for name, position, events, state, error, error_position, rate, silence, lag, age in rows:
        if state == "failing":
            shown = "failing"
        elif name in rebuilding or name.endswith("@rebuild"):
            shown = "rebuilding"
        elif silence is None or float(silence) > STALE_SECONDS:
            shown = "stopped"
        else:
            shown = "running"
        result.append(
            ProjectionStatus(
                name=name,
                position=int(position),
                head=head,
                lag=int(lag),
                lag_seconds=round(max(0.0, float(age or 0)), 3),
                rate=float(rate),
                state=shown,
                error=error,
                error_position=error_position,
                events=int(events),
            )
        )
    for name in INLINE:
        result.append(
            ProjectionStatus(
                name=name,
                position=head,
                head=head,
                lag=0,
                lag_seconds=0.0,
                rate=0.0,
                state="inline",
            )
        )
    return sorted(result, key=lambda s: s.name)
