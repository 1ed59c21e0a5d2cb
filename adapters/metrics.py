"""Prometheus metrics: counters observed in-process, queue depth read at scrape."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from projections.queue import QueueDepth
from services.observer import Observer

__all__ = ["Metrics"]


class _QueueDepthCollector(Collector):
    def __init__(self, read_depth: Callable[[], list[QueueDepth]]) -> None:
        self._read_depth = read_depth

    def collect(self) -> Iterator[GaugeMetricFamily]:
        ready = GaugeMetricFamily(
            "synaps_queue_ready_tasks", "Tasks claimable now", labels=["queue"]
        )
        scheduled = GaugeMetricFamily(
            "synaps_queue_scheduled_tasks",
            "Tasks waiting for not_before or a retry",
            labels=["queue"],
        )
        in_flight = GaugeMetricFamily(
            "synaps_queue_in_flight_tasks", "Tasks leased to a worker", labels=["queue"]
        )
        oldest = GaugeMetricFamily(
            "synaps_queue_oldest_ready_age_seconds",
            "Age of the oldest ready task",
            labels=["queue"],
        )
        try:
            depths = self._read_depth()
        except Exception:  # noqa: BLE001 - a scrape must not fail because the DB is down
            depths = []
        for d in depths:
            ready.add_metric([d.queue], d.ready)
            scheduled.add_metric([d.queue], d.scheduled)
            in_flight.add_metric([d.queue], d.in_flight)
            oldest.add_metric([d.queue], d.oldest_ready_age_seconds)
        yield from (ready, scheduled, in_flight, oldest)


class Metrics(Observer):
    def __init__(self, read_depth: Callable[[], list[QueueDepth]] | None = None) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.submitted_total = Counter("synaps_commands_submitted", "Commands accepted", registry=r)
        self.claimed_total = Counter("synaps_tasks_claimed", "Tasks claimed", ["queue"], registry=r)
        self.completed_total = Counter("synaps_tasks_completed", "Tasks succeeded", registry=r)
        self.failed_total = Counter("synaps_tasks_failed", "Task attempts failed", registry=r)
        self.dead_total = Counter("synaps_tasks_dead_lettered", "Tasks dead-lettered", registry=r)
        self.expired_total = Counter("synaps_leases_expired", "Leases expired", registry=r)
        self.claim_latency = Histogram(
            "synaps_claim_latency_seconds",
            "From a task becoming claimable to a worker claiming it",
            ["queue"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self._per_queue: dict[str, tuple[Any, Any]] = {}
        if read_depth is not None:
            r.register(_QueueDepthCollector(read_depth))

    def submitted(self, count: int) -> None:
        self.submitted_total.inc(count)

    def claimed(self, queue: str, waited_seconds: float) -> None:
        children = self._per_queue.get(queue)
        if children is None:  # labels() is a locked lookup: do it once per queue
            children = self._per_queue[queue] = (
                self.claimed_total.labels(queue),
                self.claim_latency.labels(queue),
            )
        children[0].inc()
        children[1].observe(waited_seconds)

    def completed(self, count: int) -> None:
        self.completed_total.inc(count)

    def failed(self, count: int) -> None:
        self.failed_total.inc(count)

    def dead_lettered(self, count: int) -> None:
        self.dead_total.inc(count)

    def lease_expired(self, count: int) -> None:
        self.expired_total.inc(count)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
