"""The base of synaps aggregates: eventsourcing's BaseAggregate with our envelope."""

from __future__ import annotations

import inspect
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self
from uuid import UUID

from eventsourcing.domain import BaseAggregate
from eventsourcing.utils import register_topic

from domain.envelope import AggregateCreated, AggregateEvent, EventContext

__all__ = ["Aggregate"]


class Aggregate(BaseAggregate[UUID]):
    """An event-sourced aggregate whose events carry an :class:`EventContext`.

    Subclasses change state only in :meth:`when`, which every event calls
    (directly on replay, through ``trigger_event`` on a new decision).
    """

    if TYPE_CHECKING:  # not at run time: eventsourcing treats annotations as fields
        TOPIC: ClassVar[str]

        INIT_FIELDS: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.TOPIC = f"synaps.{cls.__name__}"
        # What the creation event hands to __init__, worked out once per class
        # rather than by signature inspection on every replay.
        cls.INIT_FIELDS = tuple(inspect.signature(cls.__init__).parameters)[1:]
        register_topic(cls.TOPIC, cls)

    @classmethod
    def start(
        cls,
        created: type[AggregateCreated],
        *,
        id: UUID,
        ctx: EventContext,
        now: datetime,
        **fields: Any,
    ) -> Self:
        """Create the aggregate with its first event (as eventsourcing's ``_create``)."""
        event = created(
            originator_id=id,
            originator_version=cls.INITIAL_VERSION,
            originator_topic=cls.TOPIC,
            timestamp=now,
            actor=ctx.actor,
            tenant=ctx.tenant,
            correlation_id=ctx.correlation_id,
            causation_id=ctx.causation_id,
            **fields,
        )
        aggregate: Self = event.mutate(None)
        aggregate.pending_events.append(event)
        return aggregate

    def record(
        self, event: type[AggregateEvent], *, ctx: EventContext, now: datetime, **fields: Any
    ) -> None:
        """Decide: the next event, applied and kept pending (as ``trigger_event``)."""
        new_event = event(
            originator_id=self.id,
            originator_version=self.version + 1,
            timestamp=now,
            actor=ctx.actor,
            tenant=ctx.tenant,
            correlation_id=ctx.correlation_id,
            causation_id=ctx.causation_id,
            **fields,
        )
        new_event.mutate(self)
        self.pending_events.append(new_event)

    def when(self, event: AggregateEvent) -> None:
        """Apply one event to the state. The creation event goes to ``__init__``."""
