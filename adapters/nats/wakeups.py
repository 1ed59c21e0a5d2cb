"""Wakeups over NATS: workers sleep until a claimable task is announced (or they poll)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime

import msgspec
import structlog

from adapters.nats.bridge import NatsBridge
from schemas.messages import Wakeup
from services.wakeups import LocalWakeups

__all__ = ["NatsWakeups", "wakeup_subject"]

log = structlog.get_logger(__name__)

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Wakeup).decode
_SEEN = 10_000


def wakeup_subject(queue: str) -> str:
    return f"synaps.wakeup.{queue}"


class NatsWakeups:
    """Implements services.wakeups.Wakeups with NATS, deduplicating by ledger position."""

    def __init__(self, bridge: NatsBridge) -> None:
        self._bridge = bridge
        self._local = LocalWakeups()
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._lock = threading.Lock()
        self.received = 0
        bridge.subscribe("synaps.wakeup.>", self._on_message)

    def notify(self, queue: str) -> None:
        """Wake local waiters now and announce it to every worker (a best-effort hint)."""
        self._local.notify(queue)
        self._bridge.publish_soon(wakeup_subject(queue), _encode(Wakeup(queue=queue)))

    def wait(self, queues: Iterable[str], timeout: float) -> bool:
        return self._local.wait(queues, timeout)

    def _on_message(self, subject: str, data: bytes) -> None:
        wakeup = _decode(data)
        if wakeup.position is not None:
            with self._lock:
                if wakeup.position in self._seen:
                    return  # the relay and the API both announced it, or a redelivery
                self._seen[wakeup.position] = None
                while len(self._seen) > _SEEN:
                    self._seen.popitem(last=False)
        self.received += 1
        delay = 0.0
        if wakeup.available_at is not None:
            delay = (wakeup.available_at - datetime.now(UTC)).total_seconds()
        if delay > 0.001:
            timer = threading.Timer(delay, self._local.notify, args=(wakeup.queue,))
            timer.daemon = True
            timer.start()
        else:
            self._local.notify(wakeup.queue)
