"""What a projection processor is: a function of a page of ledger events to table rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

import psycopg

from domain.envelope import AggregateEvent

__all__ = ["Changes", "Entry", "Processor", "RawEntry", "Tables"]

Tables = Mapping[str, str]  # logical table name -> physical (live or rebuild shadow)


@dataclass(frozen=True, slots=True)
class RawEntry:
    """A stored event as the log holds it."""

    position: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


@dataclass(frozen=True, slots=True)
class Entry:
    """A decoded event with its position (and its stored JSON)."""

    position: int
    event: AggregateEvent
    state: bytes = b""


@dataclass
class Changes:
    """What a batch changed, for change notices: read model -> ids."""

    ids: dict[str, set[str]] = field(default_factory=dict)

    def add(self, model: str, ident: object) -> None:
        self.ids.setdefault(model, set()).add(str(ident))


class Processor(Protocol):
    name: str
    tables: tuple[str, ...]  # logical names of the tables this processor owns
    topics: tuple[str, ...] | None  # stored topics it reads; None: every event
    decodes: bool  # True: gets decoded Entry objects; False: RawEntry

    def apply(self, cur: psycopg.Cursor[Any], entries: Sequence[Any], tables: Tables) -> Changes:
        """Apply a page of entries (in log order) to the tables, idempotently."""
        ...
