"""Audits read the ledger itself: replay its events, verify its seal."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.envelope import AggregateEvent
from domain.seal import GENESIS, next_seal

__all__ = ["AuditFilter", "LedgerScan", "SealCheck", "StoredEntry", "replay", "verify_seal"]


@dataclass(frozen=True, slots=True)
class StoredEntry:
    position: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


@dataclass(frozen=True, slots=True)
class AuditFilter:
    run_id: str | None = None
    aggregate_id: UUID | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    from_position: int | None = None
    until_position: int | None = None

    def admits(self, event: AggregateEvent) -> bool:
        return (
            (self.run_id is None or event.correlation_id == self.run_id)
            and (self.actor is None or event.actor == self.actor)
            and (self.since is None or event.timestamp >= self.since)
            and (self.until is None or event.timestamp <= self.until)
        )


class LedgerScan(Protocol):
    def entries(
        self, from_position: int | None, until_position: int | None, aggregate_id: UUID | None
    ) -> Iterator[StoredEntry]: ...

    def decode(self, entry: StoredEntry) -> AggregateEvent: ...

    def seals(self, from_position: int | None) -> Iterator[tuple[int, bytes]]: ...

    def seal_before(self, position: int) -> tuple[int, bytes] | None: ...


def replay(scan: LedgerScan, audit: AuditFilter) -> Iterator[tuple[int, AggregateEvent]]:
    """The ledger's events in order, filtered."""
    for entry in scan.entries(audit.from_position, audit.until_position, audit.aggregate_id):
        event = scan.decode(entry)
        if audit.admits(event):
            yield entry.position, event


@dataclass(frozen=True, slots=True)
class SealCheck:
    ok: bool
    checked: int
    first_mismatch: int | None = None
    reason: str | None = None
    unsealed: int = 0  # events after the last seal (the seal projection is behind)


def verify_seal(scan: LedgerScan, from_position: int | None = None) -> SealCheck:
    """Recompute the seal chain from the ledger and compare it with the stored seals."""
    start = scan.seal_before(from_position) if from_position else None
    previous = start[1] if start else GENESIS
    after = start[0] if start else None
    seals = iter(scan.seals(after + 1 if after is not None else None))
    entries = scan.entries(after + 1 if after is not None else None, None, None)
    return _compare(entries, seals, previous)


def _compare(
    entries: Iterable[StoredEntry], seals: Iterator[tuple[int, bytes]], previous: bytes
) -> SealCheck:
    checked = 0
    unsealed = 0
    sealed = next(seals, None)
    for entry in entries:
        if sealed is None:
            unsealed += 1
            continue
        position, seal = sealed
        if position < entry.position:
            return SealCheck(
                False, checked, position, f"event {position} is missing from the ledger"
            )
        if position > entry.position:
            return SealCheck(
                False, checked, entry.position, f"event {entry.position} was never sealed"
            )
        previous = next_seal(
            previous,
            entry.position,
            entry.originator_id,
            entry.originator_version,
            entry.topic,
            entry.state,
        )
        if previous != seal:
            return SealCheck(
                False, checked, entry.position, f"event {entry.position} differs from its seal"
            )
        checked += 1
        sealed = next(seals, None)
    if sealed is not None:
        return SealCheck(False, checked, sealed[0], f"event {sealed[0]} is missing from the ledger")
    return SealCheck(True, checked, unsealed=unsealed)
