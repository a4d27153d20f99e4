"""The services of one server process, each built with its dependencies, opened and closed in one place.

`Runtime(settings)` only constructs (no I/O). Each service gets its dependencies in its constructor, but for
one pair that needs each other: with a broker, the hub tells the cluster backplane which boards have local
connections (`hub.on_watch`, set by `ClusterBackplane`) and the roster keeps the hub's counts of connections
on other processes (`hub.elsewhere`). `open_runtime()` is the lifespan:
one `AsyncExitStack` opens, in order, the store -> the backplane -> presence -> the socket registry (stall
watchdog) -> the writer, then admits sockets; it closes them in reverse. A failure during start-up unwinds
whatever was opened. Shutdown (`Runtime.drain`, also called by the server before uvicorn closes sockets)
is the inner part of that stack: refuse new sockets and writes, commit and ack what is queued, close every
socket with 1001; then presence, the backplane and the database close.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from notesboard.awareness.service import Awareness
from notesboard.cluster import Backplane, MemoryBackplane, broker_from_url
from notesboard.cluster.backplane import ClusterBackplane
from notesboard.cluster.outgoing import Outgoing
from notesboard.cluster.repair import Relay
from notesboard.cluster.roster import Roster
from notesboard.core.usecases import Notes
from notesboard.fanout.hub import Hub
from notesboard.fanout.presence import Presence
from notesboard.fanout.publish import Publisher
from notesboard.ingress.registry import Registry
from notesboard.ingress.services import Services
from notesboard.ingress.snapshot import SharedReads
from notesboard.runtime.config import Settings
from notesboard.runtime.metrics import Metrics, Recorder
from notesboard.runtime.uvicorn_adapter import FastPaths
from notesboard.storage import Store
from notesboard.storage.retention import Retention
from notesboard.storage.writer import Writer
from notesboard.ytext.service import YText

__all__ = ["Runtime", "open_runtime"]

log = logging.getLogger("notesboard")


def _presence_and_backplane(
    settings: Settings, hub: Hub, store: Store, awareness: Awareness
) -> tuple[Presence, Backplane]:
    """One process: presence is local and delivery a direct call. Several: both go through a broker."""
    found = broker_from_url(settings.broker)
    if found is None:
        return Presence(hub, settings.presence_interval), MemoryBackplane(hub.deliver)
    broker, channel = found
    outgoing = Outgoing()
    # Announce soon (0.1 s): each receiving process coalesces again over its own presence_interval.
    roster = Roster(
        hub,
        ttl=settings.presence_ttl,
        interval=min(0.1, settings.presence_interval),
        send=outgoing.presence_message,
    )
    presence = Presence(hub, settings.presence_interval, remote=roster)
    backplane = ClusterBackplane(
        broker,
        relay=Relay(hub, store, gap_wait=settings.gap_wait),
        roster=roster,
        presence=presence,
        outgoing=outgoing,
        database=store,
        hub=hub,
        channel=channel,
        check_interval=settings.seq_check_interval,
        subscribe_grace=settings.subscribe_grace,
        buckets=settings.notify_buckets,
        awareness=awareness,
    )
    return presence, backplane


class Runtime:
    """Everything a request handler may touch; built by `open_runtime` (transports read what they need)."""

    def __init__(self, settings: Settings, fast: FastPaths | None = None) -> None:
        self.settings = settings
        self.fast = fast or FastPaths.unchecked(
            "not started by `notesboard serve`", direct_writes=settings.direct_writes
        )
        self.recorder = Recorder()
        self.store = Store(
            settings.database_url,
            busy_timeout=settings.busy_timeout,
            synchronous=settings.sqlite_synchronous,
            readers=settings.read_connections,
            max_boards=settings.max_boards,
            history=settings.history,
        )
        self.retention = Retention(self.store, settings.history_days, settings.history_prune_interval)
        self.hub = Hub(
            settings.fanout_delay, coalesce=settings.fanout_coalesce, coalesce_min=settings.fanout_coalesce_min
        )
        self.awareness = Awareness(
            tick=settings.awareness_tick,
            enabled=settings.awareness,
            note_check=self.store.note_live,
            # One awareness frame stays a small part of a slow reader's outbox bound (never a 1013 by itself).
            chunk=min(64 * 1024, settings.queue_bytes // 4),
        )
        self.presence, self.backplane = _presence_and_backplane(settings, self.hub, self.store, self.awareness)
        self.writer = Writer(
            self.store,
            Publisher(self.backplane),
            batch_max=settings.batch_max,
            queue_max=settings.write_queue,
            drain_timeout=settings.shutdown_timeout,
            on_commit=self.recorder.committed,
        )
        self.notes = Notes(self.store, self.writer)
        self.registry = Registry(
            max_connections=settings.max_connections,
            max_per_address=settings.max_connections_per_ip,
            stall_timeout=settings.stall_timeout,
            shutdown_timeout=settings.shutdown_timeout,
        )
        self.sockets = Services(
            settings,
            self.hub,
            self.presence,
            self.store,
            self.notes,
            self.registry,
            self.recorder.error,
            self.fast,
            SharedReads(
                self.store,
                self.hub,
                share=settings.share_snapshot_reads,
                cache_bytes=settings.snapshot_cache_bytes,
            ),
            self.awareness,
        )
        self.ytext = YText(settings, self.hub, self.store, self.notes, self.registry, self.recorder.error)
        self.metrics = Metrics(
            self.recorder,
            hub=self.hub,
            writer=self.writer,
            registry=self.registry,
            fast=self.fast,
            backplane=self.backplane,
            snapshots=self.sockets.snapshots,
            awareness=self.awareness,
            ytext=self.ytext,
            history=self.retention,
        )
        self._serving = AsyncExitStack()

    async def drain(self) -> None:
        """Graceful shutdown of the serving part; safe to call twice (the server calls it before uvicorn's)."""
        await self._serving.aclose()

    @asynccontextmanager
    async def open(self) -> AsyncIterator[Runtime]:
        """Open every service in order, admit sockets, yield; close in reverse (also if start-up fails)."""
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(self.store)
            await stack.enter_async_context(self.retention)  # history pruning, in the background
            await stack.enter_async_context(self.backplane)
            stack.enter_context(self.presence)
            serving = await stack.enter_async_context(self._serving)
            serving.callback(self._drained)
            await serving.enter_async_context(self.registry)
            await serving.enter_async_context(self.writer)
            serving.callback(self.registry.refuse)
            await self.ytext.start()
            self.registry.open()
            log.info("fast paths: %s", self.fast.summary())
            yield self

    def _drained(self) -> None:
        closed = self.registry.closed_at_shutdown
        log.info("drained: %d writes committed, %d sockets closed 1001", self.writer.committed, closed)


def open_runtime(settings: Settings, fast: FastPaths | None = None) -> AbstractAsyncContextManager[Runtime]:
    """The lifespan: a new runtime, opened; closed on exit."""
    return Runtime(settings, fast).open()
