"""The multi-process backplane: events and presence between server processes through a broker.

Own commits go to local connections at once (through the relay, like everyone else's) and to the broker;
what the broker brings from the other processes goes through the relay too, which orders, dedupes and
repairs from the database (`repair.py`). So a broker outage delays other processes' events but loses and
reorders none, and never stops writes or this process's own events.

A process listens only to the channels of the boards that have local connections (`watch.py`): one per
board on Redis, one per board-hash bucket on Postgres (`wire.py`), next to the control channel
`<base>` (default `notesboard_<database epoch>`, so two databases never mix). Messages:

    E <origin>\n<board> <seq> <frame>\n...      committed events, in commit order (`<board> <seq>` alone
                                               when the frame does not fit the broker's payload limit)
    P <origin>\n{"ttl": s, "b": {board: [count, [names]]}}   presence of the channel's boards (`roster.py`)
    P <origin>\n{"bye": true}                  on the control channel: the process is shutting down
    Q <origin>\n<board>\n...                   "announce these boards now": the sender just subscribed

Frames are JSON, which never contains a raw newline, and board names have no spaces, so lines split safely.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from typing import TYPE_CHECKING, Any

import orjson

from notesboard.backplane.base import Backplane, Broker, BrokerError, Deliver
from notesboard.backplane.repair import Relay
from notesboard.backplane.roster import Roster
from notesboard.backplane.watch import Watch
from notesboard.backplane.wire import Channels, event_messages, presence_messages, query_messages

if TYPE_CHECKING:
    from notesboard.config import Settings
    from notesboard.fanout import Hub
    from notesboard.presence import Presence
    from notesboard.store import Store

__all__ = ["ClusterBackplane"]

log = logging.getLogger("notesboard.backplane")

MAX_QUEUED_LINES = 100_000  # events waiting for a slow or absent broker; older ones are dropped (repair covers)
TICK_S = 0.5
CONNECT_WAIT_S = 5.0
BACKOFF_S = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class ClusterBackplane(Backplane):
    def __init__(self, deliver: Deliver, broker: Broker, *, channel: str | None = None, buckets: int = 256) -> None:
        super().__init__(deliver)
        self.broker = broker
        self.origin = uuid.uuid4().hex[:12]
        self._channel_option = channel
        self.channel = channel or ""
        self.relay: Relay | None = None
        self.roster: Roster | None = None
        self.watch: Watch | None = None
        self._buckets = None if broker.channel_per_board else buckets  # None: a channel per board
        self.channels = Channels(self.channel, buckets)
        self._check_interval = 5.0
        self._lines: list[tuple[str, str]] = []  # (channel, event line) waiting to be published
        self._messages: list[tuple[str, str]] = []  # (channel, presence or query message) waiting to be published
        self._wake = asyncio.Event()
        self._live = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._checks: set[asyncio.Task[None]] = set()
        self._closing = False
        self.up = False
        self._failed_at = -1e9  # when a publish last failed (monotonic)
        self.published = 0
        self.dropped = 0  # events never sent to the broker (it was down); the others repaired them
        self.outages = 0
        self.received = 0  # broker messages received (all channels, own echoes included)

    def bind(self, hub: Hub, store: Store, presence: Presence, settings: Settings) -> None:
        self._store = store
        self.relay = Relay(hub, store, gap_wait=settings.gap_wait)
        # Announce soon (0.1 s): each receiving process coalesces again over its own presence_interval.
        self.roster = Roster(
            hub,
            presence,
            ttl=settings.presence_ttl,
            interval=min(0.1, settings.presence_interval),
            send=self._send_presence,
        )
        presence.remote = self.roster
        self._check_interval = settings.seq_check_interval
        if not self.broker.channel_per_board:
            self._buckets = settings.notify_buckets
        self.watch = Watch(
            self.broker,
            grace=settings.subscribe_grace,
            on_live=self._subscribed,
            on_drop=self._dropped,
            still_used=lambda board: hub.local_count(board) > 0,
        )
        hub.on_watch = self.watch.changed

    # -- lifecycle -------------------------------------------------------------------------------------

    async def connect(self) -> None:
        assert self.relay is not None, "bind() first"
        if not self._channel_option:
            self.channel = f"notesboard_{self._store.epoch}"
        self.broker.name = re.sub(r"[^A-Za-z0-9_.-]", "_", self.channel)[:50]
        assert self.watch is not None
        self.channels = self.watch.channels = Channels(self.channel, self._buckets)
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._listen(), name="backplane-listen"),
            loop.create_task(self._send(), name="backplane-send"),
            loop.create_task(self._tick(), name="backplane-tick"),
            loop.create_task(self.watch.run(), name="backplane-watch"),
        ]
        try:
            async with asyncio.timeout(CONNECT_WAIT_S):
                await self._live.wait()
        except TimeoutError:
            log.error("broker unreachable at start-up; serving this process's own events and retrying")

    async def disconnect(self) -> None:
        self._closing = True
        if self.watch is not None:
            self.watch.close()
        if self.roster is not None:
            self.roster.close()
            if self.up:
                self.roster.goodbye()
        self._wake.set()
        sender = self._tasks[1] if len(self._tasks) > 1 else None
        if sender is not None and self.up:
            try:  # let the last events and the goodbye out
                await asyncio.wait_for(asyncio.shield(sender), 2.0)
            except TimeoutError:
                pass
        tasks = [*self._tasks, *self._checks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.relay is not None:
            await self.relay.close()
        await self.broker.disconnect()
        log.info(
            "backplane closed: %d events published, %d dropped, %d outages, %d messages received, relay %s, watch %s",
            self.published,
            self.dropped,
            self.outages,
            self.received,
            self.relay.stats() if self.relay else {},
            self.watch.stats() if self.watch else {},
        )

    # -- out ---------------------------------------------------------------------------------------------

    def publish(self, board: str, seq: int, frame: str) -> None:
        assert self.relay is not None
        self.relay.receive(board, seq, frame)
        self._lines.append((self.channels.of(board), f"{board} {seq} {frame}"))
        if len(self._lines) > MAX_QUEUED_LINES:
            drop = len(self._lines) - MAX_QUEUED_LINES
            del self._lines[:drop]
            self.dropped += drop
        self._wake.set()

    def _send_presence(self, message: dict[str, Any]) -> None:
        head, limit = f"P {self.origin}", self.broker.max_payload
        if "b" not in message:  # a goodbye: everyone who may hold our entries
            self._messages += [(self.channels.control, m) for m in presence_messages(head, message, limit)]
        else:
            for channel, boards in self._by_channel(message["b"].items()).items():
                part = {"ttl": message["ttl"], "b": dict(boards)}
                self._messages += [(channel, m) for m in presence_messages(head, part, limit)]
        self._wake.set()

    def _by_channel(self, items: Any) -> dict[str, list[Any]]:
        """Group `(board, ...)` tuples by the board's channel, keeping their order."""
        grouped: dict[str, list[Any]] = {}
        of = self.channels.of
        for item in items:
            grouped.setdefault(of(item[0]), []).append(item)
        return grouped

    async def _send(self) -> None:
        while True:
            if not self._lines and not self._messages:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            lines, self._lines = self._lines, []
            messages, self._messages = self._messages, []
            if not self.up and time.monotonic() - self._failed_at < 1.0:
                self.dropped += len(lines)  # the broker is down: try again in a second, not for every batch
                continue
            head, limit = f"E {self.origin}", self.broker.max_payload
            grouped: dict[str, list[str]] = {}
            for channel, line in lines:
                grouped.setdefault(channel, []).append(line)
            items = [(c, m) for c, part in grouped.items() for m in event_messages(head, part, limit)]
            try:
                await self.broker.publish_batch(items + messages)
                self.published += len(lines)
            except BrokerError as exc:
                self.dropped += len(lines)
                if time.monotonic() - self._failed_at > 10.0:
                    log.warning("publish failed (%s); subscribers will repair from the database", exc)
                self._failed_at = time.monotonic()

    # -- subscriptions ---------------------------------------------------------------------------------------

    def _subscribed(self, boards: list[str]) -> None:
        """These boards' channels are live: read what we may have missed, and ask the others who is there."""
        assert self.relay is not None
        self.relay.subscribed(boards)
        head, limit = f"Q {self.origin}", self.broker.max_payload
        for channel, items in self._by_channel((b,) for b in boards).items():
            self._messages += [(channel, m) for m in query_messages(head, [b for (b,) in items], limit)]
        self._wake.set()

    def channels_live(self) -> int:
        """Channels subscribed on the current broker connection, the control channel included."""
        return (self.watch.live_count() if self.watch else 0) + self.up

    def _dropped(self, board: str) -> None:
        assert self.relay is not None and self.roster is not None
        self.relay.forget(board)
        self.roster.forget(board)

    # -- in ----------------------------------------------------------------------------------------------

    async def _listen(self) -> None:
        assert self.relay is not None and self.roster is not None and self.watch is not None
        attempt = 0
        while not self._closing:
            try:
                await self.broker.connect()
                await self.broker.subscribe(self.channel)
                await self.watch.sync(reconnected=True)  # every watched board again, then read from the database
            except BrokerError as exc:
                delay = BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
                if attempt == 0:
                    log.warning("broker unavailable (%s); retrying", exc)
                attempt += 1
                await asyncio.sleep(delay)
                continue
            if attempt or self.outages:
                log.info("broker connection back; repairing watched boards from the database")
            attempt = 0
            self.up = True
            self.watch.connected(True)
            self._live.set()
            self.roster.heartbeat_due = True
            self._wake.set()
            try:
                while True:
                    message = await self.broker.next_published()
                    self._on_message(message.data)
            except BrokerError as exc:
                self.outages += 1
                log.warning("broker connection lost (%s); reconnecting", exc)
            finally:
                self.up = False
                self.watch.connected(False)

    def _on_message(self, data: str) -> None:
        assert self.relay is not None and self.roster is not None and self.watch is not None
        self.received += 1
        head, _, body = data.partition("\n")
        kind, _, origin = head.partition(" ")
        if origin == self.origin:
            return
        watched = self.watch.boards  # a bucket channel carries other boards too; a dropped channel, stragglers
        try:
            if kind == "E":
                receive = self.relay.receive
                for line in body.split("\n"):
                    parts = line.split(" ", 2)
                    if parts[0] in watched:
                        receive(parts[0], int(parts[1]), parts[2] if len(parts) == 3 else None)
            elif kind == "P":
                message = orjson.loads(body)
                if "b" in message:
                    message["b"] = {b: entry for b, entry in message["b"].items() if b in watched}
                self.roster.apply(origin, message)
            elif kind == "Q":
                for board in body.split("\n"):
                    if board in watched:
                        self.roster.local_changed(board)
        except (ValueError, IndexError, TypeError, AttributeError):
            log.warning("ignoring a malformed broker message: %.200r", data)

    async def _tick(self) -> None:
        """Presence expiry and heartbeats, and the periodic check of watched boards against the database."""
        assert self.relay is not None and self.roster is not None
        now = time.monotonic()
        next_beat = next_check = now
        while True:
            await asyncio.sleep(TICK_S)
            now = time.monotonic()
            self.roster.expire()
            if self.up and (self.roster.heartbeat_due or now >= next_beat):
                self.roster.heartbeat()
                next_beat = now + self.roster.ttl / 3
            if now >= next_check:
                # While the broker is down the check is how other processes' changes arrive: do it often.
                next_check = now + (self._check_interval if self.up else min(1.0, self._check_interval))
                await self.relay.check(urgent=not self.up)
