"""Moments from the wire, in UTC.

ISO 8601 lets a client send any UTC offset (msgspec accepts up to ±23:59);
PostgreSQL's timestamptz takes offsets up to ±15:59 only. Requests' moments are
made UTC before they reach an event, so every stored moment is one PostgreSQL
can read back.
"""

from __future__ import annotations

from datetime import UTC, datetime

from domain.errors import InvalidArgument

__all__ = ["in_utc"]


def in_utc(moment: datetime | None, name: str) -> datetime | None:
    if moment is None:
        return None
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidArgument(f"{name} {moment.isoformat()} is out of range") from None
