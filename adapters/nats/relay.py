"""The relay: follows the ledger and announces on NATS what workers care about.

A projection processor whose "read model" is NATS: a page is published (with
JetStream acknowledgements) before its position is committed, so every
announcement is made at least once, and a restart resumes where it stopped:
it neither loses nor floods.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
import psycopg

from adapters.nats.bridge import NatsBridge
from adapters.nats.wakeups import wakeup_subject
from domain.control import CONTROL_EVENTS
from domain.events import (
    LeaseExpired,
    TaskHoldReleased,
    TaskQueued,
    TaskReleased,
    TaskRetryScheduled,
)
from projections.processor import Changes, Entry, Tables
from schemas.messages import ControlChanged, Wakeup

__all__ = ["NatsRelay", "control_subject"]

_encode = msgspec.json.Encoder().encode
_CLAIMABLE = (TaskQueued, TaskRetryScheduled, LeaseExpired, TaskReleased, TaskHoldReleased)


class NatsRelay:
    name = "relay"
    tables: tuple[str, ...] = ()
    decodes = True

    def __init__(self, bridge: NatsBridge) -> None:
        self._bridge = bridge
        self.topics: tuple[str, ...] | None = tuple(
            t for cls in (*_CLAIMABLE, *CONTROL_EVENTS) for t in cls.stored_topics()
        )

    def apply(self, cur: psycopg.Cursor[Any], entries: Sequence[Entry], tables: Tables) -> Changes:
        for entry in entries:
            for subject, payload in self._messages(entry):
                self._bridge.publish(subject, payload, durable=True)
        return Changes()

    def _messages(self, entry: Entry) -> list[tuple[str, bytes]]:
        event = entry.event
        if isinstance(event, CONTROL_EVENTS):
            changed = ControlChanged(
                tenant=event.tenant, kind=event.kind, name=event.name, position=entry.position
            )
            return [(control_subject(event.kind), _encode(changed))]
        queue, available_at = _claimable(event)
        if queue is None:
            return []
        wakeup = Wakeup(
            queue=queue,
            task_id=event.originator_id,
            position=entry.position,
            available_at=available_at,
        )
        return [(wakeup_subject(queue), _encode(wakeup))]


def control_subject(kind: str) -> str:
    return f"synaps.ctrl.{kind}"


def _claimable(event: Any) -> tuple[str | None, Any]:
    """The queue on which this event makes a task claimable, and from when."""
    if isinstance(event, TaskQueued):
        return (None, None) if event.held else (event.queue, event.available_at)
    if isinstance(event, TaskRetryScheduled):
        return event.queue or "default", event.available_at
    if isinstance(event, LeaseExpired | TaskReleased | TaskHoldReleased):
        return event.queue or "default", None
    return None, None
