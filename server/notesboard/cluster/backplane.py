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
    A <origin>\n<board>\n<lines>              awareness entries of one board (`awareness_wire.py`)

Frames are JSON, which never contains a raw newline, and board names have no spaces, so lines split safely.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from typing import Any, Protocol

import orjson

from notesboard.awareness.service import Awareness
from notesboard.cluster.awareness_wire import awareness_items, split_awareness
from notesboard.cluster.base import Backplane, Broker, BrokerError
from notesboard.cluster.outgoing import Outgoing
from notesboard.cluster.repair import Relay
from notesboard.cluster.roster import Roster
from notesboard.cluster.watch import Watch
from notesboard.cluster.wire import Channels, event_messages, presence_messages, query_messages
from notesboard.fanout.hub import Hub
from notesboard.fanout.presence import Presence

__all__ = ["ClusterBackplane", "HasEpoch"]

log = logging.getLogger("notesboard.backplane")

TICK_S = 0.5
CONNECT_WAIT_S = 5.0
BACKOFF_S = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class HasEpoch(Protocol):
    epoch: str  # the database's; known once the store is open


class ClusterBackplane(Backplane):
    """Built by the runtime from its parts; `connect` once the store is open (the channel names its epoch)."""

    def __init__(
        self,
        broker: Broker,
        *,
        relay: Relay,
        roster: Roster,
        presence: Presence,
        outgoing: Outgoing,
        database: HasEpoch,
        hub: Hub,
        channel: str | None = None,
        check_interval: float = 5.0,
        subscribe_grace: float = 30.0,
        buckets: int = 256,
        awareness: Awareness | None = None,
    ) -> None:
        self.broker = broker
        self.relay = relay
        self.roster = roster
        self._presence = presence
        self._awareness = awareness
        if awareness is not None:
            awareness.publish = outgoing.awareness
            roster.on_gone = awareness.remote_gone
        self._out = outgoing
        self._database = database
        self.origin = uuid.uuid4().hex[:12]
        self._channel_option = channel
        self.channel = channel or ""
        self._check_interval = check_interval
        self._buckets = None if broker.channel_per_board else buckets
        self.channels = Channels(self.channel, self._buckets)
        self._messages: list[tuple[str, str]] = []  # (channel, query message) waiting to be published
        self.watch = Watch(
            broker,
            grace=subscribe_grace,
            on_live=self._subscribed,
            on_drop=self._dropped_board,
            still_used=lambda board: hub.local_count(board) > 0,
        )
        hub.on_watch = self.watch.changed  # the hub tells which boards have local connections
        self._live = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._checks: set[asyncio.Task[None]] = set()
        self._closing = False
        self.up = False
        self._failed_at = -1e9  # when a publish last failed (monotonic)
        self.published = 0
        self._dropped = 0  # events never sent to the broker (it was down); the others repaired them
        self.outages = 0
        self.received = 0  # broker messages received (all channels, own echoes included)

    @property
    def dropped(self) -> int:
        return self._dropped + self._out.dropped

    # -- lifecycle -------------------------------------------------------------------------------------

    async def connect(self) -> None:
        if not self._channel_option:
            self.channel = f"notesboard_{self._database.epoch}"
        self.broker.name = re.sub(r"[^A-Za-z0-9_.-]", "_", self.channel)[:50]
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
        self.watch.close()
        self.roster.close()
        if self.up:
            self.roster.goodbye()
        self._out.wake.set()
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
        await self.relay.close()
        await self.broker.disconnect()
        log.info(
            "backplane closed: %d events published, %d dropped, %d outages, %d messages received, relay %s, watch %s",
            self.published,
            self.dropped,
            self.outages,
            self.received,
            self.relay.stats(),
            self.watch.stats(),
        )

    # -- out ---------------------------------------------------------------------------------------------

    def publish(self, board: str, seq: int, frame: str) -> None:
        self.relay.receive(board, seq, frame)
        self._out.event(f"{board} {seq} {frame}")

    def _by_channel(self, items: Any) -> dict[str, list[Any]]:
        """Group `(board, ...)` tuples by the board's channel, keeping their order."""
        grouped: dict[str, list[Any]] = {}
        of = self.channels.of
        for item in items:
            grouped.setdefault(of(item[0]), []).append(item)
        return grouped

    def _presence_items(self, message: dict[str, Any]) -> list[tuple[str, str]]:
        head, limit = f"P {self.origin}", self.broker.max_payload
        if "b" not in message:  # a goodbye: everyone who may hold our entries
            return [(self.channels.control, m) for m in presence_messages(head, message, limit)]
        items: list[tuple[str, str]] = []
        for channel, boards in self._by_channel(message["b"].items()).items():
            part = {"ttl": message["ttl"], "b": dict(boards)}
            items += [(channel, m) for m in presence_messages(head, part, limit)]
        return items

    def _event_items(self, lines: list[str]) -> list[tuple[str, str]]:
        """Each board's lines on its channel, packed into as few messages as the payload limit allows."""
        head, limit = f"E {self.origin}", self.broker.max_payload
        grouped: dict[str, list[str]] = {}
        of = self.channels.of
        for line in lines:
            grouped.setdefault(of(line[: line.index(" ")]), []).append(line)
        return [(c, m) for c, part in grouped.items() for m in event_messages(head, part, limit)]

    async def _send(self) -> None:
        while True:
            if not self._out and not self._messages:
                if self._closing:
                    return
                self._out.wake.clear()
                await self._out.wake.wait()
                continue
            lines, presence = self._out.take()
            messages, self._messages = self._messages, []
            messages += self._awareness_items(self._out.take_awareness())
            messages += [item for message in presence for item in self._presence_items(message)]
            if not self.up and time.monotonic() - self._failed_at < 1.0:
                self._dropped += len(lines)  # the broker is down: try again in a second, not for every batch
                continue
            try:
                await self.broker.publish_batch(self._event_items(lines) + messages)
                self.published += len(lines)
            except BrokerError as exc:
                self._dropped += len(lines)
                if time.monotonic() - self._failed_at > 10.0:
                    log.warning("publish failed (%s); subscribers will repair from the database", exc)
                self._failed_at = time.monotonic()

    def _awareness_items(self, aware: list[tuple[str, list[str]]]) -> list[tuple[str, str]]:
        items, too_big = awareness_items(self.origin, aware, self.channels.of, self.broker.max_payload)
        if too_big and self._awareness is not None:
            self._awareness.dropped["broker_payload"] += too_big
        return items

    # -- subscriptions ---------------------------------------------------------------------------------------

    def _subscribed(self, boards: list[str]) -> None:
        """These boards' channels are live: read what we may have missed, and ask the others who is there."""
        self.relay.subscribed(boards)
        head, limit = f"Q {self.origin}", self.broker.max_payload
        for channel, items in self._by_channel((b,) for b in boards).items():
            self._messages += [(channel, m) for m in query_messages(head, [b for (b,) in items], limit)]
        self._out.wake.set()

    def channels_live(self) -> int:
        """Channels subscribed on the current broker connection, the control channel included."""
        return self.watch.live_count() + self.up

    def _dropped_board(self, board: str) -> None:
        self.relay.forget(board)
        self.roster.forget(board)
        if self._awareness is not None:
            self._awareness.forget(board)

    # -- in ----------------------------------------------------------------------------------------------

    async def _listen(self) -> None:
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
            self._out.wake.set()
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
                for board in self.roster.apply(origin, message):
                    self._presence.changed(board)
            elif kind == "Q":
                for board in body.split("\n"):
                    if board in watched:
                        self.roster.asked(board)
                        if self._awareness is not None:
                            self._awareness.asked(board)
            elif kind == "A" and self._awareness is not None:
                board, lines = split_awareness(body)
                if board in watched:
                    self._awareness.remote(origin, board, lines)
        except (ValueError, IndexError, TypeError, AttributeError):
            log.warning("ignoring a malformed broker message: %.200r", data)

    async def _tick(self) -> None:
        """Presence expiry and heartbeats, and the periodic check of watched boards against the database."""
        now = time.monotonic()
        next_beat = next_check = now
        while True:
            await asyncio.sleep(TICK_S)
            now = time.monotonic()
            for board in self.roster.expire():
                self._presence.changed(board)
            if self._awareness is not None:
                self._awareness.expire(self.roster.ttl, self.roster.listed)
            if self.up and (self.roster.heartbeat_due or now >= next_beat):
                self.roster.heartbeat()
                next_beat = now + self.roster.ttl / 3
            if now >= next_check:
                # While the broker is down the check is how other processes' changes arrive: do it often.
                next_check = now + (self._check_interval if self.up else min(1.0, self._check_interval))
                await self.relay.check(urgent=not self.up)
