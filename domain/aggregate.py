"""The base of synaps aggregates: eventsourcing's BaseAggregate with our envelope."""

from __future__ import annotations

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

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.TOPIC = f"synaps.{cls.__name__}"
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
        return cls._create(
            created,
            id=id,
            timestamp=now,
            actor=ctx.actor,
            tenant=ctx.tenant,
            correlation_id=ctx.correlation_id,
            causation_id=ctx.causation_id,
            **fields,
        )

    def record(
        self, event: type[AggregateEvent], *, ctx: EventContext, now: datetime, **fields: Any
    ) -> None:
        self.trigger_event(
            event,
            timestamp=now,
            actor=ctx.actor,
            tenant=ctx.tenant,
            correlation_id=ctx.correlation_id,
            causation_id=ctx.causation_id,
            **fields,
        )

    def when(self, event: AggregateEvent) -> None:
        """Apply one event to the state. The creation event goes to ``__init__``."""
