"""`/metrics` in the Prometheus text format.

Counters that the hot path already keeps as plain integers (events delivered, writes committed, queue
overflows) are read at scrape time by a collector, so delivering an event costs nothing extra; only errors
and commit latency are recorded as they happen.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from notesboard.app import Runtime

__all__ = ["Metrics", "router"]

router = APIRouter()


class _RuntimeCollector(Collector):
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        rt = self.rt
        yield GaugeMetricFamily("notesboard_connections", "Open WebSocket connections.", value=len(rt.connections))
        boards = GaugeMetricFamily(
            "notesboard_boards_by_connections", "Boards with open connections, by how many.", labels=["connections"]
        )
        sizes: dict[str, int] = {}
        for n in rt.hub.room_sizes():
            bucket = "1" if n == 1 else "2-10" if n <= 10 else "11-100" if n <= 100 else ">100"
            sizes[bucket] = sizes.get(bucket, 0) + 1
        for bucket in ("1", "2-10", "11-100", ">100"):
            boards.add_metric([bucket], sizes.get(bucket, 0))
        yield boards
        yield CounterMetricFamily(
            "notesboard_events_delivered", "Event frames handed to connections.", value=rt.hub.delivered
        )
        yield CounterMetricFamily("notesboard_writes_committed", "Changes committed.", value=rt.writer.committed)
        yield CounterMetricFamily("notesboard_write_batches", "Group-commit transactions.", value=rt.writer.batches)
        yield CounterMetricFamily(
            "notesboard_queue_overflows", "Connections closed 1013 for reading too slowly.", value=rt.overflows
        )
        yield CounterMetricFamily(
            "notesboard_broker_messages_received",
            "Messages this process got from the broker (several processes).",
            value=rt.backplane.received,
        )
        yield GaugeMetricFamily(
            "notesboard_broker_channels",
            "Broker channels this process listens to: its boards', and the control channel.",
            value=rt.backplane.channels_live(),
        )


class Metrics:
    def __init__(self, runtime: Runtime) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(_RuntimeCollector(runtime))
        self._errors = Counter(
            "notesboard_errors", "Errors sent to clients, by contract code.", ["code"], registry=self.registry
        )
        self.write_latency = Histogram(
            "notesboard_write_seconds",
            "Time to commit one group-commit batch.",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )

    def error(self, code: str) -> None:
        self._errors.labels(code).inc()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)
