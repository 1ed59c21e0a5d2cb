"""Stored events <-> domain events with msgspec (no per-field transcoding).

The stored ``topic`` is the event's versioned type tag (``TaskClaimed.v1``);
the stored ``state`` is the msgspec JSON of the whole event struct.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import resolve_topic

import domain.catalog  # noqa: F401 - registers every event and aggregate topic
from domain.envelope import AggregateEvent

__all__ = ["MsgspecMapper", "NullTranscoder"]


class NullTranscoder(Transcoder):
    """The mapper encodes whole structs itself; eventsourcing still wants one."""

    def encode(self, obj: Any) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes) -> Any:
        raise NotImplementedError


class MsgspecMapper(Mapper[UUID]):
    def __init__(self) -> None:
        super().__init__(transcoder=NullTranscoder())
        self._encoder = msgspec.json.Encoder()
        self._decoders: dict[str, tuple[type[AggregateEvent], msgspec.json.Decoder[Any], int]] = {}

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        event: AggregateEvent = domain_event
        return StoredEvent(
            originator_id=event.originator_id,
            originator_version=event.originator_version,
            topic=type(event).TOPIC,
            state=self._encoder.encode(event),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return self.decode(stored_event.topic, stored_event.state)

    def decode(self, topic: str, state: bytes) -> AggregateEvent:
        try:
            cls, decoder, stored_version = self._decoders[topic]
        except KeyError:
            cls = resolve_topic(topic)
            decoder = msgspec.json.Decoder(cls)
            stored_version = int(topic.rsplit(".v", 1)[1])
            self._decoders[topic] = (cls, decoder, stored_version)
        if stored_version == cls.schema_version:
            event: AggregateEvent = decoder.decode(state)
            return event
        data = msgspec.json.decode(state)
        for version in range(stored_version, cls.schema_version):
            data = getattr(cls, f"upcast_v{version}_v{version + 1}")(data)
        upcast: AggregateEvent = msgspec.convert(data, cls)
        return upcast
