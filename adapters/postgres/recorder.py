"""The ledger recorder: eventsourcing's ApplicationRecorder, gap-free without a table lock.

Why not eventsourcing's stock PostgreSQL recorder: it serialises every writer
on ``LOCK TABLE ... IN EXCLUSIVE MODE`` (a few hundred saves/s), and its
lock-free variant lets followers skip events that commit late.

How this one works:

* Each transaction writes its events with exactly one INSERT. The notification
  id of an event is ``(pg_current_xact_id() << 20) + its position in that
  INSERT``: no sequence, no lock, writers stay concurrent.
* A follower only reads ids below ``pg_snapshot_xmin(pg_current_snapshot()) << 20``
  (the oldest transaction still running). Every transaction with a smaller
  xid has finished, so nothing can appear later below that horizon: the log
  is gap-free for followers, in the order in which transactions got their ids.
* Per aggregate, a version must come after its predecessor in that order. A
  writer loads the aggregate before it writes, so its xid is normally newer
  than the predecessor's; the INSERT also checks it and turns the rare
  inversion (a transaction that held an xid while it read) into a
  :class:`ConcurrencyConflict`, which callers retry like any lost race.
* Inline projections (the queue read model) are written in the same
  transaction, before the events, so row locks are always taken first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol
from uuid import UUID

import msgspec
import psycopg
import psycopg.errors
from eventsourcing.persistence import (
    ApplicationRecorder,
    Notification,
    StoredEvent,
    Subscription,
)
from psycopg_pool import ConnectionPool

from domain.aggregate import Aggregate
from domain.errors import ConcurrencyConflict

__all__ = ["MAX_EVENTS_PER_TRANSACTION", "Changed", "InlineProjection", "LedgerRecorder"]

MAX_EVENTS_PER_TRANSACTION = (1 << 20) - 1

_HORIZON = "(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20)"

# One transaction's events and inline read-model rows, in ONE statement: the
# inline projections' CTEs, then a single INSERT whose ids come from the
# transaction's xid, then the checks. Any failed check raises SY409 and the
# whole statement (in autocommit: the whole transaction) has no effect.
_WRITE = """
WITH {inline_ctes}
base AS (SELECT pg_current_xact_id()::text::bigint << 20 AS id),
ins AS (
    INSERT INTO synaps_events
        (originator_id, originator_version, topic, state, notification_id)
    SELECT e.originator_id, e.originator_version, e.topic,
           convert_to(e.state::text, 'UTF8'), base.id + e.ord
    FROM base, json_to_recordset(%(events)s::json) AS e(
        ord bigint, originator_id uuid, originator_version bigint, topic text, state json)
    RETURNING notification_id, originator_id, originator_version
)
SELECT array_agg(ins.notification_id ORDER BY ins.notification_id),
       synaps_conflict_unless(bool_and(NOT EXISTS (
           SELECT 1 FROM synaps_events p
           WHERE ins.originator_version > 1
             AND p.originator_id = ins.originator_id
             AND p.originator_version = ins.originator_version - 1
             AND p.notification_id > ins.notification_id)),
           'an aggregate''s previous event has a later position'),
       synaps_conflict_unless({inline_checks}, 'a read-model row changed since it was loaded')
FROM ins
"""

_CONFLICTS = (
    psycopg.errors.UniqueViolation,
    psycopg.errors.DeadlockDetected,
    psycopg.errors.SerializationFailure,
    psycopg.errors.LockNotAvailable,
)
_CONFLICT_SQLSTATE = "SY409"


class _EventRow(msgspec.Struct, array_like=False):
    ord: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: msgspec.Raw


_encode = msgspec.json.Encoder().encode


class Changed(Protocol):
    """An aggregate written in a transaction, and its version before the write."""

    @property
    def aggregate(self) -> Aggregate: ...

    @property
    def version_before(self) -> int: ...


class InlineWriteLike(Protocol):
    @property
    def params(self) -> dict[str, Any]: ...


class InlineProjection(Protocol):
    """A read model kept in the same transaction (the same statement) as its events.

    ``CTES`` are data-modifying common table expressions with named parameters,
    ``CHECK`` a boolean SQL expression over them (false: a concurrent change).
    """

    CTES: str
    CHECK: str

    def concerns(self, changed: Sequence[Changed]) -> bool:
        """Whether any of these aggregates has rows here (if not, the statement
        leaves this projection's CTEs out)."""

    def write(self, changed: Sequence[Changed]) -> InlineWriteLike:
        """The parameters of CTES for these changed aggregates."""


class LedgerRecorder(ApplicationRecorder):
    def __init__(
        self, pool: ConnectionPool[psycopg.Connection[Any]], inline: Sequence[InlineProjection]
    ) -> None:
        self.pool = pool
        self.inline = tuple(inline)
        # One statement per combination of projections concerned, so a write pays
        # only for the read models it changes (prepared once each).
        self._write_sql: dict[tuple[bool, ...], bytes] = {}

    def _statement(self, concerned: tuple[bool, ...]) -> bytes:
        sql = self._write_sql.get(concerned)
        if sql is None:
            active = [p for p, c in zip(self.inline, concerned, strict=True) if c]
            sql = self._write_sql[concerned] = _WRITE.format(
                inline_ctes="".join(f"{p.CTES.strip()},\n" for p in active),
                inline_checks=" AND ".join(f"({p.CHECK})" for p in active) or "true",
            ).encode()
        return sql

    # -- writing ------------------------------------------------------------

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        changed: Sequence[Changed] = kwargs.get("changed", ())
        with self.pool.connection() as conn, conn.cursor() as cur:
            return self.write(cur, stored_events, changed)

    def write(
        self,
        cur: psycopg.Cursor[Any],
        stored_events: Sequence[StoredEvent],
        changed: Sequence[Changed],
    ) -> list[int]:
        """Write events and inline read models with one statement, on ``cur``.

        On an autocommit connection the statement is its own transaction; inside
        the caller's transaction it is the transaction's only event INSERT.
        """
        if not stored_events:
            return []
        if len(stored_events) > MAX_EVENTS_PER_TRANSACTION:
            raise ValueError("too many events for one transaction")
        params: dict[str, Any] = {
            "events": _encode(
                [
                    _EventRow(
                        ord=i,
                        originator_id=e.originator_id,  # type: ignore[arg-type]
                        originator_version=e.originator_version,
                        topic=e.topic,
                        state=msgspec.Raw(e.state),
                    )
                    for i, e in enumerate(stored_events, start=1)
                ]
            ).decode()
        }
        concerned = tuple(p.concerns(changed) for p in self.inline)
        for projection, concerns in zip(self.inline, concerned, strict=True):
            if concerns:
                params.update(projection.write(changed).params)
        try:
            row = cur.execute(self._statement(concerned), params, prepare=True).fetchone()
        except _CONFLICTS as exc:
            raise ConcurrencyConflict(str(exc).splitlines()[0]) from exc
        except psycopg.DatabaseError as exc:
            if exc.sqlstate == _CONFLICT_SQLSTATE:
                raise ConcurrencyConflict(str(exc).splitlines()[0]) from exc
            raise
        assert row is not None
        return list(row[0])

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Cursor[Any]]:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            yield cur

    # -- reading aggregates -------------------------------------------------

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        sql = "SELECT originator_id, originator_version, topic, state FROM synaps_events"
        sql += " WHERE originator_id = %s"
        params: list[Any] = [originator_id]
        if gt is not None:
            sql += " AND originator_version > %s"
            params.append(gt)
        if lte is not None:
            sql += " AND originator_version <= %s"
            params.append(lte)
        sql += " ORDER BY originator_version" + (" DESC" if desc else "")
        if limit is not None:
            sql += " LIMIT %s"
            params.append(limit)
        with self.pool.connection() as conn:
            rows = conn.execute(sql, params, prepare=True).fetchall()
        return [StoredEvent(r[0], r[1], r[2], bytes(r[3])) for r in rows]

    def select_events_of(
        self, originator_ids: Sequence[UUID], cur: psycopg.Cursor[Any] | None = None
    ) -> list[StoredEvent]:
        """All events of several aggregates, by aggregate then version."""
        sql = (
            "SELECT originator_id, originator_version, topic, state FROM synaps_events"
            " WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
        )
        if cur is not None:
            rows = cur.execute(sql, (list(originator_ids),), prepare=True).fetchall()
        else:
            with self.pool.connection() as conn:
                rows = conn.execute(sql, (list(originator_ids),), prepare=True).fetchall()
        return [StoredEvent(r[0], r[1], r[2], bytes(r[3])) for r in rows]

    def select_tasks_with_runs(self, task_ids: Sequence[UUID]) -> list[StoredEvent]:
        """Events of tasks and of the runs of those still in the queue."""
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT originator_id, originator_version, topic, state FROM synaps_events"
                " WHERE originator_id = ANY(%(ids)s) OR originator_id IN"
                "  (SELECT run_id FROM synaps_queue WHERE task_id = ANY(%(ids)s))"
                " ORDER BY originator_id, originator_version",
                {"ids": list(task_ids)},
                prepare=True,
            ).fetchall()
        return [StoredEvent(r[0], r[1], r[2], bytes(r[3])) for r in rows]

    def select_history(self, originator_ids: Sequence[UUID]) -> list[Notification]:
        """Events of several aggregates in ledger order, with their positions."""
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT notification_id, originator_id, originator_version, topic, state"
                " FROM synaps_events WHERE originator_id = ANY(%s) ORDER BY notification_id",
                (list(originator_ids),),
                prepare=True,
            ).fetchall()
        return [Notification(r[1], r[2], r[3], bytes(r[4]), r[0]) for r in rows]

    def transaction_position(self, originator_id: UUID, originator_version: int) -> int:
        """The last position written by the transaction that wrote this event."""
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT max(e.notification_id) FROM synaps_events e,"
                " (SELECT notification_id >> 20 AS xid FROM synaps_events"
                "   WHERE originator_id = %s AND originator_version = %s) t"
                " WHERE e.notification_id BETWEEN t.xid << 20 AND (t.xid << 20) + %s",
                (originator_id, originator_version, MAX_EVENTS_PER_TRANSACTION),
            ).fetchone()
        if row is None or row[0] is None:
            raise LookupError(f"no event {originator_id} v{originator_version}")
        return int(row[0])

    # -- following the log --------------------------------------------------

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """Events in log order, never beyond the horizon of finished transactions."""
        sql = (
            "SELECT notification_id, originator_id, originator_version, topic, state"
            f" FROM synaps_events WHERE notification_id < {_HORIZON}"
        )
        params: list[Any] = []
        if start is not None:
            sql += (
                " AND notification_id >= %s" if inclusive_of_start else " AND notification_id > %s"
            )
            params.append(start)
        if stop is not None:
            sql += " AND notification_id <= %s"
            params.append(stop)
        if topics:
            sql += " AND topic = ANY(%s)"
            params.append(list(topics))
        sql += " ORDER BY notification_id LIMIT %s"
        params.append(limit)
        with self.pool.connection() as conn:
            rows = conn.execute(sql, params, prepare=True).fetchall()
        return [Notification(r[1], r[2], r[3], bytes(r[4]), r[0]) for r in rows]

    def select_page(
        self,
        after: int,
        limit: int,
        topics: Sequence[str] | None = None,
        cur: psycopg.Cursor[Any] | None = None,
    ) -> tuple[list[tuple[Any, ...]], int]:
        """A page of the log after ``after``, and how far it covers.

        The second value is the position up to which every event (of ``topics``)
        is in the page: the last row's when the page is full, else the horizon
        (capped by the head), so followers of a topic subset still advance.
        """
        sql = (
            "WITH h AS (SELECT least(" + _HORIZON + " - 1,"
            " (SELECT coalesce(max(notification_id), 0) FROM synaps_events)) AS upto)"
            " SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state,"
            " h.upto FROM h LEFT JOIN LATERAL ("
            "  SELECT * FROM synaps_events WHERE notification_id > %(after)s"
            "   AND notification_id <= h.upto"
            + ("   AND topic = ANY(%(topics)s)" if topics else "")
            + "  ORDER BY notification_id LIMIT %(limit)s) e ON true"
        )
        params = {"after": after, "limit": limit, "topics": list(topics or ())}
        if cur is not None:
            rows = cur.execute(sql, params, prepare=True).fetchall()
        else:
            with self.pool.connection() as conn:
                rows = conn.execute(sql, params, prepare=True).fetchall()
        upto = int(rows[0][5]) if rows else after
        events = [r[:5] for r in rows if r[0] is not None]
        if len(events) == limit:
            upto = events[-1][0]
        return events, max(upto, after)

    def max_notification_id(self) -> int | None:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT max(notification_id) FROM synaps_events").fetchone()
        return None if row is None else row[0]

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        # A push subscription would deliver events above the horizon, before
        # older transactions commit; followers pull select_notifications().
        raise NotImplementedError("follow the log with select_notifications()")

    # -- connection lifecycle -----------------------------------------------

    def ping(self) -> None:
        with self.pool.connection(timeout=2.0) as conn:
            conn.execute("SELECT 1")

    def run(self, fn: Callable[[psycopg.Cursor[Any]], Any]) -> Any:
        with self.transaction() as cur:
            return fn(cur)
