"""When "now" is, and whether something is still going on.

A kubectl dump has no clock. The latest timestamp in it (events, conditions,
container states, node heartbeats, and the time stamps at the start of the
last log lines) is when it was taken, give or take a minute.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from domain.incidents.logs import LogExcerpt
from domain.incidents.package import EvidencePackage

__all__ = ["RECENT", "is_recent", "latest_log_time", "reference_time"]

# Events are garbage-collected about an hour after their last update, so an hour is
# also what "current" means for a restart or a warning.
RECENT = timedelta(hours=1)
# A log line may carry a date that is not a clock reading; never let it move "now"
# further than this past the latest object timestamp.
_LOG_LEAD_LIMIT = timedelta(days=30)

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\s?(Z|[+-]\d{2}:?\d{2})?"
)
_SLASHED = re.compile(r"(\d{4})/(\d{2})/(\d{2}) (\d{2}):(\d{2}):(\d{2})")
_CLF = re.compile(r"(\d{2})/(\w{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})")
_DAY_MONTH = re.compile(r"\b(\d{1,2}) (\w{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2})")
_EPOCH = re.compile(r'"(?:time|ts|timestamp|@timestamp)"\s*:\s*(\d{10})(\d{3})?\b')


def _offset(text: str | None) -> timedelta:
    if not text or text == "Z":
        return timedelta(0)
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4]))


def _line_time(line: str) -> datetime | None:
    head = line[:64]
    try:
        if m := _ISO.search(head):
            y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
            return datetime(y, mo, d, h, mi, s, tzinfo=UTC) - _offset(m.group(8))
        if m := _EPOCH.search(line):
            return datetime.fromtimestamp(int(m.group(1)), tz=UTC)
        if m := _SLASHED.search(head):
            y, mo, d, h, mi, s = (int(g) for g in m.groups())
            return datetime(y, mo, d, h, mi, s, tzinfo=UTC)
        if m := _CLF.search(head):
            month = _MONTHS.get(m.group(2).lower())
            if month:
                d, y, h, mi, s = (int(m.group(i)) for i in (1, 3, 4, 5, 6))
                return datetime(y, month, d, h, mi, s, tzinfo=UTC) - _offset(m.group(7))
        if m := _DAY_MONTH.search(head):
            month = _MONTHS.get(m.group(2).lower())
            if month:
                d, y, h, mi, s = (int(m.group(i)) for i in (1, 3, 4, 5, 6))
                return datetime(y, month, d, h, mi, s, tzinfo=UTC)
    except ValueError:
        return None
    return None


def latest_log_time(log: LogExcerpt, lines: int = 5) -> datetime | None:
    """The newest time stamp among the last lines of a log, if they carry one."""
    times = [t for line in log.tail(lines) if (t := _line_time(line)) is not None]
    return max(times, default=None)


def _object_times(package: EvidencePackage) -> Iterable[datetime | None]:
    for event in package.events:
        yield event.last_seen
        yield event.first_seen
    for node in package.nodes:
        yield node.last_heartbeat
        yield from (c.last_transition for c in node.conditions)
    for pod in package.pods:
        yield pod.created_at
        yield pod.started_at
        yield from (c.last_transition for c in pod.conditions)
        for container in pod.containers:
            for state in (container.state, container.last_state):
                yield state.started_at
                yield state.finished_at
    for workload in package.workloads:
        yield workload.created_at
        yield from (c.last_transition for c in workload.conditions)


def reference_time(package: EvidencePackage) -> datetime | None:
    """When the package was taken: the collector's clock, else the latest time in it."""
    if package.collected_at is not None:
        return package.collected_at
    latest = max((t for t in _object_times(package) if t is not None), default=None)
    log_times = [
        t
        for pod in package.pods
        for container in pod.containers
        if container.log is not None and (t := latest_log_time(container.log)) is not None
    ]
    log_latest = max(log_times, default=None)
    if log_latest is not None and (
        latest is None or latest < log_latest <= latest + _LOG_LEAD_LIMIT
    ):
        return log_latest
    return latest


def is_recent(moment: datetime | None, now: datetime | None, window: timedelta = RECENT) -> bool:
    """Unknown times count as recent: without a clock, assume the problem is current."""
    if moment is None or now is None:
        return True
    return moment >= now - window
