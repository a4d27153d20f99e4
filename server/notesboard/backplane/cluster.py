"""The multi-process backplane: events and presence between server processes through a broker.

Own commits go to local connections at once (through the relay, like everyone else's) and to the broker;
what the broker brings from the other processes goes through the relay too, which orders, dedupes and
repairs from the database (`repair.py`). So a broker outage delays other processes' events but loses and
reorders none, and never stops writes or this process's own events.

Messages on the one channel (default `notesboard_<database epoch>`, so two databases never mix):

    E <origin>\\n<board> <seq> <frame>\\n...      committed events, in commit order (`<board> <seq>` alone
                                               when the frame does not fit the broker's payload limit)
    P <origin>\\n{"ttl": s, "b": {board: [count, [names]]}}   or   {"bye": true}     presence (`roster.py`)

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

from notesboard.backplane.base import Backplane, Broker, BrokerError
from notesboard.backplane.outgoing import Outgoing
from notesboard.backplane.repair import Relay
from notesboard.backplane.roster import Roster
from notesboard.presence import Presence

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
        channel: str | None = None,
        check_interval: float = 5.0,
    ) -> None:
        self.broker = broker
        self.relay = relay
        self.roster = roster
        self._presence = presence
        self._out = outgoing
        self._database = database
        self.origin = uuid.uuid4().hex[:12]
        self._channel_option = channel
        self.channel = channel or ""
        self._check_interval = check_interval
        self._live = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._checks: set[asyncio.Task[None]] = set()
        self._closing = False
        self.up = False
        self._failed_at = -1e9  # when a publish last failed (monotonic)
        self.published = 0
        self._dropped = 0  # events never sent to the broker (it was down); the others repaired them
        self.outages = 0

    @property
    def dropped(self) -> int:
        return self._dropped + self._out.dropped

    # -- lifecycle -------------------------------------------------------------------------------------

    async def connect(self) -> None:
        if not self._channel_option:
            self.channel = f"notesboard_{self._database.epoch}"
        self.broker.name = re.sub(r"[^A-Za-z0-9_.-]", "_", self.channel)[:50]
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._listen(), name="backplane-listen"),
            loop.create_task(self._send(), name="backplane-send"),
            loop.create_task(self._tick(), name="backplane-tick"),
        ]
        try:
            async with asyncio.timeout(CONNECT_WAIT_S):
                await self._live.wait()
        except TimeoutError:
            log.error("broker unreachable at start-up; serving this process's own events and retrying")

    async def disconnect(self) -> None:
        self._closing = True
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
            "backplane closed: %d events published, %d dropped, %d outages, relay %s",
            self.published,
            self.dropped,
            self.outages,
            self.relay.stats(),
        )

    # -- out ---------------------------------------------------------------------------------------------

    def publish(self, board: str, seq: int, frame: str) -> None:
        self.relay.receive(board, seq, frame)
        self._out.event(f"{board} {seq} {frame}")

    async def _send(self) -> None:
        while True:
            if not self._out:
                if self._closing:
                    return
                self._out.wake.clear()
                await self._out.wake.wait()
                continue
            lines, presence = self._out.take()
            messages = [m for message in presence for m in self._presence_messages(message)]
            if not self.up and time.monotonic() - self._failed_at < 1.0:
                self._dropped += len(lines)  # the broker is down: try again in a second, not for every batch
                continue
            try:
                await self.broker.publish_many(self.channel, self._event_messages(lines) + messages)
                self.published += len(lines)
            except BrokerError as exc:
                self._dropped += len(lines)
                if time.monotonic() - self._failed_at > 10.0:
                    log.warning("publish failed (%s); subscribers will repair from the database", exc)
                self._failed_at = time.monotonic()

    def _event_messages(self, lines: list[str]) -> list[str]:
        """Pack lines into as few messages as the broker's payload limit allows."""
        head = f"E {self.origin}"
        limit = self.broker.max_payload
        if limit is None:
            return [head + "\n" + "\n".join(lines)] if lines else []
        out: list[str] = []
        part: list[str] = []
        size = len(head)
        for line in lines:
            n = len(line.encode()) + 1
            if n + len(head) + 1 > limit:  # too big alone: announce it, subscribers read it from the database
                board, seq, _ = line.split(" ", 2)
                line = f"{board} {seq}"
                n = len(line) + 1
            if part and size + n > limit:
                out.append(head + "\n" + "\n".join(part))
                part, size = [], len(head)
            part.append(line)
            size += n
        if part:
            out.append(head + "\n" + "\n".join(part))
        return out

    def _presence_messages(self, message: dict[str, Any]) -> list[str]:
        head = f"P {self.origin}\n"
        whole = head + orjson.dumps(message).decode()
        limit = self.broker.max_payload
        if limit is None or len(whole.encode()) <= limit:
            return [whole]
        out: list[str] = []
        for board, (count, names) in message.get("b", {}).items():  # one board per message, names cut to fit
            while True:
                one = head + orjson.dumps({"ttl": message["ttl"], "b": {board: [count, names]}}).decode()
                if len(one.encode()) <= limit or not names:
                    break
                names = names[: len(names) // 2]
            out.append(one)
        return out

    # -- in ----------------------------------------------------------------------------------------------

    async def _listen(self) -> None:
        attempt = 0
        while not self._closing:
            try:
                await self.broker.connect()
                await self.broker.subscribe(self.channel)
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
            self._live.set()
            self.roster.heartbeat_due = True
            self._out.wake.set()
            check = asyncio.get_running_loop().create_task(self.relay.check(urgent=True))
            self._checks.add(check)
            check.add_done_callback(self._checks.discard)
            try:
                while True:
                    message = await self.broker.next_published()
                    self._on_message(message.data)
            except BrokerError as exc:
                self.outages += 1
                log.warning("broker connection lost (%s); reconnecting", exc)
            finally:
                self.up = False

    def _on_message(self, data: str) -> None:
        head, _, body = data.partition("\n")
        kind, _, origin = head.partition(" ")
        if origin == self.origin:
            return
        try:
            if kind == "E":
                receive = self.relay.receive
                for line in body.split("\n"):
                    parts = line.split(" ", 2)
                    receive(parts[0], int(parts[1]), parts[2] if len(parts) == 3 else None)
            elif kind == "P":
                for board in self.roster.apply(origin, orjson.loads(body)):
                    self._presence.changed(board)
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
            if self.up and (self.roster.heartbeat_due or now >= next_beat):
                self.roster.heartbeat()
                next_beat = now + self.roster.ttl / 3
            if now >= next_check:
                # While the broker is down the check is how other processes' changes arrive: do it often.
                next_check = now + (self._check_interval if self.up else min(1.0, self._check_interval))
                await self.relay.check(urgent=not self.up)
