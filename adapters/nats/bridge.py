"""One NATS connection per process, on its own asyncio thread, usable from sync code.

It keeps trying to connect (and nats-py reconnects after an outage), so a
process starts and works without NATS: wakeups then simply do not arrive and
workers fall back to polling.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import nats
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

__all__ = ["STREAM", "NatsBridge"]

log = structlog.get_logger(__name__)

STREAM = "SYNAPS"
SUBJECTS = ["synaps.wakeup.>", "synaps.ctrl.>"]


class NatsBridge:
    def __init__(self, url: str, *, name: str = "synaps") -> None:
        self.url = url
        self.name = name
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="synaps-nats", daemon=True
        )
        self._client: Client | None = None
        self._connected = threading.Event()
        self._closing = False
        self._subscriptions: list[tuple[str, Callable[[str, bytes], None]]] = []
        self._stream_ready = False

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._connect_forever(), self._loop)

    def close(self) -> None:
        self._closing = True
        if self._client is not None:
            future = asyncio.run_coroutine_threadsafe(self._client.close(), self._loop)
            try:
                future.result(timeout=5)
            except Exception as exc:  # noqa: BLE001 - closing anyway
                log.info("closing nats", error=str(exc))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._loop.is_running():
            self._loop.close()

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    async def _connect_forever(self) -> None:
        delay = 0.1
        while not self._closing:
            try:
                self._client = await nats.connect(
                    self.url,
                    name=self.name,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    connect_timeout=2,
                    disconnected_cb=self._disconnected,
                    reconnected_cb=self._reconnected,
                )
            except Exception as exc:  # noqa: BLE001 - keep trying; polling covers meanwhile
                log.info("nats not reachable yet", url=self.url, error=str(exc))
                await asyncio.sleep(delay)
                delay = min(2.0, delay * 2)
                continue
            for subject, handler in list(self._subscriptions):
                await self._subscribe(subject, handler)
            self._connected.set()
            log.info("nats connected", url=self.url)
            return

    async def _disconnected(self) -> None:
        log.info("nats disconnected")

    async def _reconnected(self) -> None:
        log.info("nats reconnected")

    # -- publishing -----------------------------------------------------------

    def publish(
        self, subject: str, payload: bytes, *, durable: bool = False, timeout: float = 5.0
    ) -> None:
        """Publish; ``durable`` waits for JetStream's acknowledgement (raises if none)."""
        future: Future[None] = asyncio.run_coroutine_threadsafe(
            self._publish(subject, payload, durable, timeout), self._loop
        )
        future.result(timeout=timeout + 1)

    def publish_soon(self, subject: str, payload: bytes) -> None:
        """Fire and forget (a hint: losing it costs latency, never work)."""
        if self.connected:
            asyncio.run_coroutine_threadsafe(
                self._publish(subject, payload, False, 1.0), self._loop
            )

    async def _publish(
        self, subject: str, payload: bytes, durable: bool, ack_timeout: float
    ) -> None:
        client = self._client
        if client is None or not client.is_connected:
            raise ConnectionError("not connected to NATS")
        if not durable:
            await client.publish(subject, payload)
            return
        js = client.jetstream(timeout=ack_timeout)
        if not self._stream_ready:
            await self._ensure_stream(client)
        await js.publish(subject, payload, timeout=ack_timeout)

    async def _ensure_stream(self, client: Client) -> None:
        js = client.jetstream()
        config = StreamConfig(
            name=STREAM,
            subjects=SUBJECTS,
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=3600.0,  # wakeups and invalidations are worth nothing after an hour
        )
        try:
            await js.add_stream(config)
        except BadRequestError:
            await js.update_stream(config)
        self._stream_ready = True

    # -- subscribing ----------------------------------------------------------

    def subscribe(self, subject: str, handler: Callable[[str, bytes], None]) -> None:
        """Call ``handler(subject, data)`` (on the NATS thread) for every message."""
        self._subscriptions.append((subject, handler))
        if self.connected:
            asyncio.run_coroutine_threadsafe(self._subscribe(subject, handler), self._loop)

    async def _subscribe(self, subject: str, handler: Callable[[str, bytes], None]) -> None:
        assert self._client is not None

        async def deliver(msg: Msg) -> None:
            try:
                handler(msg.subject, msg.data)
            except Exception as exc:  # noqa: BLE001 - one bad message must not stop the rest
                log.warning("nats handler failed", subject=msg.subject, error=str(exc))

        await self._client.subscribe(subject, cb=deliver)

    def run(self, coroutine: Any, timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)
