"""A Thread: a conversation of runs that belong together."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.aggregate import Aggregate
from domain.envelope import AggregateEvent, EventContext
from domain.events import ThreadRunAdded, ThreadStarted

__all__ = ["Thread"]


class Thread(Aggregate):
    def __init__(self, run_id: UUID, tenant: str) -> None:
        self.tenant = tenant
        self.run_ids = [run_id]

    @classmethod
    def begin(cls, *, id: UUID, run_id: UUID, ctx: EventContext, now: datetime) -> Thread:
        return cls.start(ThreadStarted, id=id, ctx=ctx, now=now, run_id=run_id)

    def add_run(self, run_id: UUID, *, ctx: EventContext, now: datetime) -> None:
        self.record(ThreadRunAdded, ctx=ctx, now=now, run_id=run_id)

    def when(self, event: AggregateEvent) -> None:
        if isinstance(event, ThreadRunAdded):
            self.run_ids.append(event.run_id)
