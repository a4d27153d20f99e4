"""`/metrics` in the Prometheus text format.

Counters that the hot path already keeps as plain integers (events delivered, writes committed, queue
overflows) are read at scrape time by a collector, so delivering an event costs nothing extra; only errors
and commit latency are recorded as they happen (`Recorder`, built first and handed to those who record).
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from notesboard.awareness.service import Awareness
from notesboard.cluster import Backplane
from notesboard.fanout.hub import Hub
from notesboard.ingress.registry import Registry
from notesboard.ingress.snapshot import SharedReads
from notesboard.runtime.uvicorn_adapter import FAST_PATHS, FastPaths
from notesboard.storage.retention import Retention
from notesboard.storage.writer import Writer
from notesboard.ytext.service import YText

__all__ = ["Metrics", "Recorder", "router"]

router = APIRouter()


class Recorder:
    """What is recorded as it happens: errors sent to clients (by code) and group-commit latency."""

    def __init__(self) -> None:
        self.errors = Counter("notesboard_errors", "Errors sent to clients, by contract code.", ["code"], registry=None)
        self.write_latency = Histogram(
            "notesboard_write_seconds",
            "Time to commit one group-commit batch.",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=None,
        )

    def error(self, code: str) -> None:
        self.errors.labels(code).inc()

    def committed(self, seconds: float) -> None:
        self.write_latency.observe(seconds)


class _Counters(Collector):
    """Read at scrape time from the services that keep them."""

    def __init__(
        self, hub: Hub, writer: Writer, registry: Registry, fast: FastPaths, backplane: Backplane, snaps: SharedReads
    ) -> None:
        self._snaps = snaps
        self._hub = hub
        self._backplane = backplane
        self._writer = writer
        self._registry = registry
        self._fast = fast
        self.awareness: Awareness | None = None

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        hub, writer = self._hub, self._writer
        yield GaugeMetricFamily(
            "notesboard_connections", "Open WebSocket connections.", value=len(self._registry.connections)
        )
        yield GaugeMetricFamily(
            "notesboard_connections_admitted",
            "Sockets counted against the connection caps (handshakes in flight and sockets closing included).",
            value=self._registry.admitted,
        )
        boards = GaugeMetricFamily(
            "notesboard_boards_by_connections", "Boards with open connections, by how many.", labels=["connections"]
        )
        sizes: dict[str, int] = {}
        for n in hub.room_sizes():
            bucket = "1" if n == 1 else "2-10" if n <= 10 else "11-100" if n <= 100 else ">100"
            sizes[bucket] = sizes.get(bucket, 0) + 1
        for bucket in ("1", "2-10", "11-100", ">100"):
            boards.add_metric([bucket], sizes.get(bucket, 0))
        yield boards
        yield CounterMetricFamily(
            "notesboard_events_delivered", "Event frames handed to connections.", value=hub.delivered
        )
        yield CounterMetricFamily("notesboard_writes_committed", "Changes committed.", value=writer.committed)
        yield CounterMetricFamily("notesboard_write_batches", "Group-commit transactions.", value=writer.batches)
        yield CounterMetricFamily(
            "notesboard_queue_overflows",
            "Connections closed 1013 for reading too slowly.",
            value=self._registry.overflows,
        )
        yield CounterMetricFamily(
            "notesboard_broker_messages_received",
            "Messages this process got from the broker (several processes).",
            value=self._backplane.received,
        )
        yield GaugeMetricFamily(
            "notesboard_broker_channels",
            "Broker channels this process listens to: its boards', and the control channel.",
            value=self._backplane.channels_live(),
        )
        yield CounterMetricFamily(
            "notesboard_snapshot_reads",
            "Database reads for socket snapshots (a shared read once).",
            value=self._snaps.reads,
        )
        yield CounterMetricFamily(
            "notesboard_snapshot_requests", "Snapshot reads socket connects asked for.", value=self._snaps.requests
        )
        yield GaugeMetricFamily(
            "notesboard_snapshot_kept_bytes",
            "About how much memory the kept snapshots of watched boards take (snapshot_cache_bytes caps it).",
            value=self._hub.kept_bytes,
        )
        yield CounterMetricFamily(
            "notesboard_snapshot_kept_hits",
            "Socket snapshots served from a board's kept snapshot, without a database read.",
            value=self._snaps.kept_hits,
        )
        yield CounterMetricFamily(
            "notesboard_snapshot_session_hits",
            "Socket snapshots whose board session came from beside the kept snapshot, without a database read.",
            value=self._snaps.session_hits,
        )
        fast = GaugeMetricFamily(
            "notesboard_fast_path", "uvicorn fast paths in use (1) or not (0); see the start-up log.", labels=["path"]
        )
        for path in FAST_PATHS:
            fast.add_metric([path], 1 if self._fast.enabled(path) else 0)
        yield fast
        if self.awareness is not None:
            yield from _awareness(self.awareness)


def _awareness(aw: Awareness) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
    yield CounterMetricFamily(
        "notesboard_awareness_frames_in",
        "Awareness frames received from clients (dropped ones too).",
        value=aw.frames_in,
    )
    yield CounterMetricFamily(
        "notesboard_awareness_frames_out", "Awareness frames handed to connections.", value=aw.frames_out
    )
    yield CounterMetricFamily(
        "notesboard_awareness_entries_encoded",
        "Peer entries encoded (once per changed peer per tick).",
        value=aw.entries_encoded,
    )
    dropped = CounterMetricFamily(
        "notesboard_awareness_dropped",
        "Awareness frames (or entries, for broker_payload) not relayed, by reason: rate (over 20/s), invalid "
        "(bad_request sent), off, expired (token), broker_payload (too big for the broker).",
        labels=["reason"],
    )
    for reason in ("rate", "invalid", "off", "expired", "broker_payload"):
        dropped.add_metric([reason], aw.dropped.get(reason, 0))
    yield dropped


class _YText(Collector):
    """Note text as a CRDT (ytext/): rooms, editors, commits, v1 announces."""

    def __init__(self, ytext: YText) -> None:
        self._ytext = ytext

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        rooms = self._ytext.rooms.rooms
        yield GaugeMetricFamily(
            "notesboard_ytext_rooms", "Notes being edited on /y/ on this process.", value=len(rooms)
        )
        editors = sum(len(r.peers) for r in rooms.values())
        yield GaugeMetricFamily("notesboard_ytext_editors", "Open /y/ sockets on this process.", value=editors)
        yield CounterMetricFamily(
            "notesboard_ytext_updates", "Yjs updates received on /y/ (before merging).", value=self._ytext.updates
        )
        yield CounterMetricFamily(
            "notesboard_ytext_commits", "Yjs commits (a connection's waiting updates merged into one).",
            value=self._ytext.commits,
        )  # fmt: skip
        yield CounterMetricFamily(
            "notesboard_ytext_announces", "Deferred v1 announces of quietly committed typing.",
            value=self._ytext.announcer.announces,
        )  # fmt: skip


class _History(Collector):
    """The change log's retention (storage/retention.py)."""

    def __init__(self, retention: Retention) -> None:
        self._retention = retention

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily(
            "notesboard_history_pruned", "Changes forgotten by history retention on this process.",
            value=self._retention.pruned,
        )  # fmt: skip


class Metrics:
    """The registry `/metrics` renders; built last, from the recorder and the services it reads."""

    def __init__(
        self,
        recorder: Recorder,
        *,
        hub: Hub,
        writer: Writer,
        registry: Registry,
        fast: FastPaths,
        backplane: Backplane,
        snapshots: SharedReads,
        awareness: Awareness | None = None,
        ytext: YText | None = None,
        history: Retention | None = None,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        counters = _Counters(hub, writer, registry, fast, backplane, snapshots)
        counters.awareness = awareness
        self.registry.register(counters)
        if ytext is not None:
            self.registry.register(_YText(ytext))
        if history is not None:
            self.registry.register(_History(history))
        self.registry.register(recorder.errors)
        self.registry.register(recorder.write_latency)

    def render(self) -> bytes:
        return generate_latest(self.registry)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    rendered: Metrics = request.app.state.runtime.metrics
    return Response(rendered.render(), media_type=CONTENT_TYPE_LATEST)
