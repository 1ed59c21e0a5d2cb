"""Rate limits: how many requests a subject may make per window, per role.

Windows start at a subject's first request and last their period (a fixed
window per subject): N quick requests in a row always see the (N+1)th refused,
whatever the wall clock says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from domain.errors import InvalidArgument

__all__ = ["Limit", "RateLimitPolicy", "WindowCount", "binding", "parse_limits"]

_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True, slots=True)
class Limit:
    requests: int
    seconds: int

    def __str__(self) -> str:
        name = next((k for k, v in _PERIODS.items() if v == self.seconds), None)
        return f"{self.requests}/{name}" if name else f"{self.requests}/{self.seconds}s"


@dataclass(frozen=True, slots=True)
class WindowCount:
    """A subject's requests in its current window of one limit."""

    limit: Limit
    hits: int
    reset_seconds: float  # until the window ends (and the count starts again)

    @property
    def remaining(self) -> int:
        return max(0, self.limit.requests - self.hits)

    @property
    def exceeded(self) -> bool:
        return self.hits > self.limit.requests


def parse_limits(text: str) -> tuple[Limit, ...]:
    """``"60/minute,1000/hour"`` (also ``second``, ``day`` and ``N/30s``)."""
    limits = []
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        count, _, period = (s.strip() for s in part.partition("/"))
        seconds = _PERIODS.get(period)
        if seconds is None and period.endswith("s") and period[:-1].isdigit():
            seconds = int(period[:-1])
        if not count.strip().isdigit() or not seconds or int(count) < 1:
            raise InvalidArgument(f"not a rate limit: {part!r} (e.g. 60/minute,1000/hour)")
        limits.append(Limit(int(count), seconds))
    if len({limit.seconds for limit in limits}) != len(limits):
        raise InvalidArgument(f"two limits for the same period in {text!r}")
    return tuple(limits)


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    default: tuple[Limit, ...]
    by_role: Mapping[str, tuple[Limit, ...]]
    anonymous: tuple[Limit, ...]

    def for_roles(self, roles: Iterable[str]) -> tuple[Limit, ...]:
        """A principal's limits: its most generous configured role, else the default."""
        configured = [self.by_role[r] for r in roles if r in self.by_role]
        if not configured:
            return self.default
        return max(configured, key=lambda limits: min(x.requests / x.seconds for x in limits))

    @classmethod
    def parse(cls, default: str, by_role: str, anonymous: str) -> RateLimitPolicy:
        """``by_role``: ``"admin=600/minute,10000/hour;worker=1200/minute"``."""
        roles: dict[str, tuple[Limit, ...]] = {}
        for entry in by_role.split(";"):
            if not entry.strip():
                continue
            role, sep, limits = entry.partition("=")
            if not sep or not role.strip():
                raise InvalidArgument(f"not a role's rate limit: {entry!r} (role=60/minute)")
            roles[role.strip()] = parse_limits(limits)
        return cls(parse_limits(default), roles, parse_limits(anonymous))


def binding(counts: Iterable[WindowCount]) -> WindowCount | None:
    """The window that decides: an exceeded one (the latest to reset), else the one
    with the fewest requests left."""
    counts = list(counts)
    exceeded = [c for c in counts if c.exceeded]
    if exceeded:
        return max(exceeded, key=lambda c: c.reset_seconds)
    return min(counts, key=lambda c: (c.remaining, -c.reset_seconds), default=None)
