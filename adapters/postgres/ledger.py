"""The ledger: one eventsourcing Application on PostgreSQL.

Aggregates are loaded through eventsourcing's repository (or in bulk), and
saved through a group committer into :class:`LedgerRecorder`, which keeps the
inline read models in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import StoredEvent

from adapters.postgres.group_commit import GroupCommitter
from adapters.postgres.mapper import MsgspecMapper
from adapters.postgres.recorder import LedgerRecorder
from domain.aggregate import Aggregate
from domain.envelope import AggregateEvent
from domain.errors import ConcurrencyConflict, NotFound
from projections.queue import QueueProjection

__all__ = ["Ledger", "LedgerEntry"]


@dataclass(frozen=True, slots=True)
class _Changed:
    aggregate: Aggregate
    version_before: int


@dataclass(frozen=True, slots=True)
class _Write:
    stored: list[StoredEvent]
    changed: list[_Changed]


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """An event with its position in the ledger."""

    position: int
    event: AggregateEvent


Decide = Callable[[list[Any], Callable[[Sequence[UUID]], dict[UUID, Any]]], Sequence[Aggregate]]


class Ledger(Application[UUID]):
    name = "synaps"

    def __init__(self, recorder: LedgerRecorder, *, group_commit: bool = True) -> None:
        self._ledger_recorder = recorder
        super().__init__(env={"IS_SNAPSHOTTING_ENABLED": "n"})
        self.mapper: MsgspecMapper
        self._committer: GroupCommitter[_Write, list[int] | Exception] | None = (
            GroupCommitter(self._write_each, size_of=lambda w: len(w.stored))
            if group_commit
            else None
        )

    def construct_mapper(self) -> MsgspecMapper:
        return MsgspecMapper()

    def construct_recorder(self) -> LedgerRecorder:
        return self._ledger_recorder

    @property
    def ledger_recorder(self) -> LedgerRecorder:
        return self._ledger_recorder

    def close(self) -> None:
        if self._committer is not None:
            self._committer.close()
        super().close()

    # -- loading ------------------------------------------------------------

    def get(self, aggregate_id: UUID, kind: type[Aggregate] = Aggregate) -> Any:
        """Load an aggregate; NotFound if absent or of another kind."""
        try:
            aggregate: Any = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(kind.__name__.lower(), aggregate_id) from None
        if not isinstance(aggregate, kind):
            raise NotFound(kind.__name__.lower(), aggregate_id)
        return aggregate

    def get_many(self, aggregate_ids: Sequence[UUID]) -> dict[UUID, Any]:
        """Load several aggregates with one query; absent ones are left out."""
        if not aggregate_ids:
            return {}
        return self._project(self._ledger_recorder.select_events_of(aggregate_ids))

    def history(self, aggregate_ids: Sequence[UUID]) -> list[LedgerEntry]:
        """Every event of the given aggregates, in ledger order."""
        return [
            LedgerEntry(n.id, self.mapper.decode(n.topic, n.state))
            for n in self._ledger_recorder.select_history(aggregate_ids)
        ]

    def _project(self, stored: Sequence[StoredEvent]) -> dict[UUID, Any]:
        result: dict[UUID, Any] = {}
        for s in stored:
            event = self.mapper.decode(s.topic, s.state)
            result[event.originator_id] = event.mutate(result.get(event.originator_id))
        return result

    # -- saving -------------------------------------------------------------

    def commit(self, *aggregates: Aggregate) -> int:
        """Save the aggregates' new events atomically; return the last position.

        Raises ConcurrencyConflict when another writer changed one of them.
        """
        (result,) = self.commit_each([aggregates])
        if isinstance(result, Exception):
            raise result
        return result

    def commit_each(self, units: Sequence[Sequence[Aggregate]]) -> list[int | Exception]:
        """Save several independent units, each atomically (together when possible).

        Each unit gets the position of its last event, or the ConcurrencyConflict
        that lost it the race; other errors are raised.
        """
        writes = [self._prepare(unit) for unit in units]
        if any(not w.stored for w in writes):
            raise ValueError("nothing to commit")
        if self._committer is None:
            results = self._write_each(writes)
        else:
            results = self._committer.submit(writes).result()
        for result in results:
            if isinstance(result, Exception) and not isinstance(result, ConcurrencyConflict):
                raise result
        return [r if isinstance(r, Exception) else max(r) for r in results]

    def _prepare(self, aggregates: Sequence[Aggregate]) -> _Write:
        stored: list[StoredEvent] = []
        changed: list[_Changed] = []
        for aggregate in aggregates:
            events = aggregate.collect_events()
            if not events:
                continue
            changed.append(_Changed(aggregate, aggregate.version - len(events)))
            stored.extend(self.mapper.to_stored_event(e) for e in events)
        return _Write(stored, changed)

    def _write_each(self, writes: Sequence[_Write]) -> list[list[int] | Exception]:
        """All writes in one transaction; after a conflict, each alone to isolate it."""
        try:
            return list(self._write_together(writes))
        except ConcurrencyConflict as exc:
            if len(writes) == 1:
                return [exc]
        results: list[list[int] | Exception] = []
        for write in writes:
            try:
                results.extend(self._write_together([write]))
            except ConcurrencyConflict as exc:
                results.append(exc)
        return results

    def _write_together(self, writes: Sequence[_Write]) -> list[list[int]]:
        stored = [s for w in writes for s in w.stored]
        changed = [c for w in writes for c in w.changed]
        # One statement on an autocommit connection: its own transaction.
        with self._ledger_recorder.pool.connection() as conn, conn.cursor() as cur:
            ids = self._ledger_recorder.write(cur, stored, changed)
        result: list[list[int]] = []
        offset = 0
        for w in writes:
            result.append(ids[offset : offset + len(w.stored)])
            offset += len(w.stored)
        return result

    # -- decisions under the queue's row locks --------------------------------

    def claim_tasks(
        self,
        queues: Sequence[str],
        limit: int,
        now: datetime,
        decide: Decide,
        tenant: str | None = None,
    ) -> list[tuple[Any, datetime]]:
        """Lock claimable tasks (SKIP LOCKED; of ``tenant`` unless None), let
        ``decide`` change them, save.

        Returns the tasks ``decide`` kept, with when each became claimable.
        """
        with self._ledger_recorder.transaction() as cur:
            rows = QueueProjection.lock_claimable(cur, queues, limit, now, tenant)
            return self._decide_locked(cur, rows, decide)

    def expire_leases(self, limit: int, now: datetime, decide: Decide) -> list[Any]:
        with self._ledger_recorder.transaction() as cur:
            rows = QueueProjection.lock_expired(cur, limit, now)
            return [task for task, _ in self._decide_locked(cur, rows, decide)]

    def _decide_locked(
        self, cur: Any, rows: Sequence[tuple[Any, ...]], decide: Decide
    ) -> list[tuple[Any, datetime]]:
        """``rows``: the events of locked tasks, each with the task's claimable time."""
        if not rows:
            return []
        since = {r[0]: r[4] for r in rows}
        loaded = self._project([StoredEvent(r[0], r[1], r[2], bytes(r[3])) for r in rows])
        # the queue's order: priority, then how long each has been claimable
        tasks = sorted(loaded.values(), key=lambda t: (-t.priority, since[t.id], t.id))
        recorder = self._ledger_recorder

        def load(more: Sequence[UUID]) -> dict[UUID, Any]:
            return self._project(recorder.select_events_of(more, cur))

        changed = list(decide(tasks, load))
        write = self._prepare(changed)
        recorder.write(cur, write.stored, write.changed)
        return [(a, since[a.id]) for a in changed if a.id in loaded]

    def get_with_runs(self, task_ids: Sequence[UUID]) -> dict[UUID, Any]:
        """Tasks, and the runs of those still queued or running, with one query."""
        if not task_ids:
            return {}
        return self._project(self._ledger_recorder.select_tasks_with_runs(task_ids))

    def transaction_position(self, aggregate_id: UUID, version: int) -> int:
        return self._ledger_recorder.transaction_position(aggregate_id, version)

    def head(self) -> int:
        return self._ledger_recorder.max_notification_id() or 0
