"""The envelope every ledger event carries, and the base event classes.

Event payloads are msgspec Structs (frozen, kw_only) so that encoding is fast
and schema evolution is explicit: new fields get defaults, older payloads keep
decoding. They are also eventsourcing domain events (``CanMutateAggregate``),
so eventsourcing's aggregates, repository and event store work with them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import msgspec
from eventsourcing.domain import CanInitAggregate, CanMutateAggregate
from eventsourcing.utils import register_topic, resolve_topic

__all__ = ["AggregateCreated", "AggregateEvent", "EventContext"]


class EventContext(msgspec.Struct, frozen=True, kw_only=True):
    """Who caused a change, for whom, and why: stamped on every event."""

    actor: str
    tenant: str
    correlation_id: str
    causation_id: str

    def but(self, **changes: str) -> EventContext:
        return msgspec.structs.replace(self, **changes)


class AggregateEvent(
    msgspec.Struct,
    CanMutateAggregate[UUID],
    frozen=True,
    kw_only=True,
    tag_field="type",
    tag=True,
):
    """An event of one aggregate. ``type`` (the class name) tags the payload."""

    # Bumped when a payload changes in a way a default cannot cover; the
    # mapper then runs the ``upcast_vN_vN+1`` class methods on old payloads.
    schema_version: ClassVar[int] = 1
    # The stored, versioned type tag (eventsourcing's "topic"): stable across
    # module moves, unlike eventsourcing's default ``module:qualname``.
    TOPIC: ClassVar[str]
    # The kind of aggregate this event belongs to (set per event family).
    aggregate_type: ClassVar[str] = ""
    # Payload fields that event views must not show (e.g. password hashes).
    REDACTED_FIELDS: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.TOPIC = f"{cls.__name__}.v{cls.schema_version}"
        # Older stored versions of this event decode into this class (upcast).
        for version in range(1, cls.schema_version + 1):
            register_topic(f"{cls.__name__}.v{version}", cls)

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    actor: str
    tenant: str
    correlation_id: str
    causation_id: str

    @classmethod
    def stored_topics(cls) -> tuple[str, ...]:
        """Every topic under which this event has been stored (all schema versions)."""
        return tuple(f"{cls.__name__}.v{v}" for v in range(1, cls.schema_version + 1))

    def summary(self) -> str:
        """One readable line for audit logs; events override it."""
        return self.type_name

    def apply(self, aggregate: Any) -> None:
        aggregate.when(self)

    def _as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__struct_fields__}

    @property
    def type_name(self) -> str:
        return type(self).__name__

    @property
    def context(self) -> EventContext:
        return EventContext(
            actor=self.actor,
            tenant=self.tenant,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
        )


class AggregateCreated(AggregateEvent, CanInitAggregate[UUID], frozen=True, kw_only=True):
    """The first event of an aggregate; names the aggregate class by a stable topic."""

    originator_topic: str

    def mutate(self, aggregate: Any) -> Any:
        """Construct the aggregate: eventsourcing's ``CanInitAggregate.mutate``, with
        the ``__init__`` arguments known per class instead of inspected per event."""
        assert aggregate is None
        cls = resolve_topic(self.originator_topic)
        created = cls.__new__(cls)
        created.__base_init__(self.originator_id, self.originator_version, self.timestamp)
        created.__init__(**{name: getattr(self, name) for name in cls.INIT_FIELDS})
        self.apply(created)
        return created
