"""What the services need from the outside world, as protocols."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

import msgspec

from domain.aggregate import Aggregate
from domain.envelope import AggregateEvent

__all__ = ["Caller", "Clock", "LedgerEntryLike", "LedgerPort", "system_clock"]

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    """Who asks: stamped as actor and tenant on the events their request causes.

    Callers from the API are authenticated principals (an API key or a user)
    acting in one tenant with the permissions they hold. In-process callers
    (the worker pool, the reaper) serve every tenant: ``all_tenants``.
    """

    actor: str
    tenant: str = "default"
    request_id: str
    principal_id: str = ""  # the key's or user's id; "" for in-process callers
    roles: frozenset[str] = frozenset()  # key type (live, test, admin) or user roles
    permissions: frozenset[str] = frozenset()
    session_id: str = ""  # a user's login session (access tokens name it)
    all_tenants: bool = False
    ip: str = ""
    user_agent: str = ""

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def sees(self, tenant: str) -> bool:
        """Whether this caller may see (or change) what belongs to ``tenant``."""
        return self.all_tenants or tenant == self.tenant


class LedgerEntryLike(Protocol):
    @property
    def position(self) -> int: ...

    @property
    def event(self) -> AggregateEvent: ...


Decide = Callable[[list[Any], Callable[[Sequence[UUID]], dict[UUID, Any]]], Sequence[Aggregate]]


class LedgerPort(Protocol):
    def get(self, aggregate_id: UUID, kind: type[Aggregate] = ...) -> Any: ...

    def get_many(self, aggregate_ids: Sequence[UUID]) -> dict[UUID, Any]: ...

    def get_with_runs(self, task_ids: Sequence[UUID]) -> dict[UUID, Any]:
        """Tasks, and the runs of those not yet terminal (one round trip)."""
        ...

    def history(self, aggregate_ids: Sequence[UUID]) -> Sequence[LedgerEntryLike]: ...

    def commit(self, *aggregates: Aggregate) -> int: ...

    def commit_each(self, units: Sequence[Sequence[Aggregate]]) -> list[int | Exception]: ...

    def claim_tasks(
        self,
        queues: Sequence[str],
        limit: int,
        now: datetime,
        decide: Decide,
        tenant: str | None = None,
    ) -> list[tuple[Any, datetime]]:
        """Lock and decide on claimable tasks (of ``tenant`` only, unless None)."""
        ...

    def expire_leases(self, limit: int, now: datetime, decide: Decide) -> list[Any]: ...

    def transaction_position(self, aggregate_id: UUID, version: int) -> int: ...
