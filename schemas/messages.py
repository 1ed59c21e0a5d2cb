"""Messages on NATS: hints, never the source of truth (that is the ledger)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from msgspec import Struct

__all__ = ["ControlChanged", "Wakeup"]


class Wakeup(Struct, frozen=True, kw_only=True):
    """A task on ``queue`` is (or will be at ``available_at``) claimable."""

    queue: str
    task_id: UUID | None = None
    position: int | None = None  # ledger position; None for the API's fast-path hint
    available_at: datetime | None = None


class ControlChanged(Struct, frozen=True, kw_only=True):
    tenant: str
    kind: str
    name: str
    position: int
