"""Change the control registry: add versions, activate, roll back; read history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar
from uuid import uuid4

import msgspec

from domain.control import ControlItem, control_item_id, normalise_kind
from domain.envelope import EventContext
from domain.errors import ConcurrencyConflict, NotFound
from services.ports import Caller, Clock, LedgerPort

__all__ = ["ControlChange", "ControlHistory", "ControlService", "SnapshotReader"]

_T = TypeVar("_T")
_MAX_RACES = 5


class ControlChange(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    name: str
    version: int | None  # the version added or now active
    active_version: int | None
    position: int | None  # None: nothing changed


class VersionView(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    spec: dict[str, Any]
    author: str
    reason: str
    created_at: Any


class ActivationView(msgspec.Struct, frozen=True, kw_only=True):
    type: str  # ControlItemActivated or ControlItemRolledBack
    version: int
    author: str
    reason: str
    time: Any
    position: int


class ControlHistory(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    name: str
    active_version: int | None
    versions: list[VersionView]
    activations: list[ActivationView]


class SnapshotReader(Protocol):
    def snapshot(self, tenant: str) -> Any: ...


class ControlService:
    def __init__(self, ledger: LedgerPort, clock: Clock) -> None:
        self._ledger = ledger
        self._clock = clock

    def add_version(
        self,
        kind: str,
        name: str,
        spec: Any,
        reason: str,
        caller: Caller,
        *,
        activate: bool = False,
    ) -> ControlChange:
        kind = normalise_kind(kind)

        def attempt() -> ControlChange:
            now = self._clock()
            ctx = _ctx(caller)
            item = self._load_or_register(kind, name, caller, ctx, now)
            version = item.add_version(spec, reason=reason, ctx=ctx, now=now)
            if activate:
                item.activate(version, reason=reason, ctx=ctx, now=now)
            position = self._ledger.commit(item)
            return ControlChange(
                kind=kind,
                name=name,
                version=version,
                active_version=item.active_version,
                position=position,
            )

        return _retry(attempt)

    def activate(
        self, kind: str, name: str, version: int, reason: str, caller: Caller
    ) -> ControlChange:
        kind = normalise_kind(kind)

        def attempt() -> ControlChange:
            now = self._clock()
            item = self._load(kind, name, caller)
            changed = item.activate(version, reason=reason, ctx=_ctx(caller), now=now)
            position = self._ledger.commit(item) if changed else None
            return ControlChange(
                kind=kind,
                name=name,
                version=version,
                active_version=item.active_version,
                position=position,
            )

        return _retry(attempt)

    def rollback(self, kind: str, name: str, reason: str, caller: Caller) -> ControlChange:
        kind = normalise_kind(kind)

        def attempt() -> ControlChange:
            now = self._clock()
            item = self._load(kind, name, caller)
            version = item.rollback(reason=reason, ctx=_ctx(caller), now=now)
            return ControlChange(
                kind=kind,
                name=name,
                version=version,
                active_version=item.active_version,
                position=self._ledger.commit(item),
            )

        return _retry(attempt)

    def history(self, kind: str, name: str, caller: Caller) -> ControlHistory:
        kind = normalise_kind(kind)
        item = self._load(kind, name, caller)
        versions: list[VersionView] = []
        activations: list[ActivationView] = []
        for entry in self._ledger.history([item.id]):
            event = entry.event
            data = msgspec.structs.asdict(event)
            if event.type_name == "ControlItemVersioned":
                versions.append(
                    VersionView(
                        version=data["version"],
                        spec=data["spec"],
                        author=event.actor,
                        reason=data["reason"],
                        created_at=event.timestamp,
                    )
                )
            elif event.type_name in ("ControlItemActivated", "ControlItemRolledBack"):
                activations.append(
                    ActivationView(
                        type=event.type_name,
                        version=data["version"] if "version" in data else data["to_version"],
                        author=event.actor,
                        reason=data["reason"],
                        time=event.timestamp,
                        position=entry.position,
                    )
                )
        return ControlHistory(
            kind=kind,
            name=name,
            active_version=item.active_version,
            versions=versions,
            activations=activations,
        )

    def _load(self, kind: str, name: str, caller: Caller) -> ControlItem:
        item: ControlItem = self._ledger.get(
            control_item_id(caller.tenant, kind, name), ControlItem
        )
        return item

    def _load_or_register(
        self, kind: str, name: str, caller: Caller, ctx: EventContext, now: Any
    ) -> ControlItem:
        try:
            return self._load(kind, name, caller)
        except NotFound:
            return ControlItem.register(
                tenant=caller.tenant, kind=kind, name=name, ctx=ctx, now=now
            )


def _ctx(caller: Caller) -> EventContext:
    return EventContext(
        actor=caller.actor,
        tenant=caller.tenant,
        correlation_id=f"control:{uuid4()}",
        causation_id=caller.request_id,
    )


def _retry(operation: Callable[[], _T]) -> _T:
    for _ in range(_MAX_RACES - 1):
        try:
            return operation()
        except ConcurrencyConflict:
            continue
    return operation()
