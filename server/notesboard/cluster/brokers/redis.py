"""Redis pub/sub broker (`redis://HOST:PORT/DB`, `rediss://` for TLS), on redis.asyncio.

redis-py would silently reconnect and resubscribe a broken pub/sub connection, hiding that messages were
lost in between; here its retries are off, so a lost connection surfaces as BrokerError and the backplane
repairs from the database. An idle connection is pinged, so a silently dead one is noticed too.

Channels come and go while the listener waits for messages (a channel per board): once a task reads in
`next_published`, a subscribe only sends the command and waits for that reader to see Redis confirm it;
before, it reads the confirmation itself and keeps any message that came first for `next_published`.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

from notesboard.cluster.base import Broker, BrokerError, Message

__all__ = ["RedisBroker"]

IDLE_PING_S = 5.0  # ping a quiet subscription this often
PONG_WAIT_S = 5.0  # and give up on it if the pong is this late
SUBSCRIBE_WAIT_S = 5.0


class RedisBroker(Broker):
    max_payload = 512 * 1024  # Redis takes up to 512 MB; we split long bursts to keep each message small

    def __init__(self, url: str) -> None:
        self.url = url
        self._client: Any = None
        self._pubsub: Any = None
        self._ping_sent: float | None = None
        self._reading = False  # a task is (or will be, without awaiting anything else) in next_published
        self._confirm: dict[str, asyncio.Future[None]] = {}  # channels subscribed, not yet confirmed
        self._early: deque[Message] = deque()  # read while confirming a subscription, before anyone listened

    async def connect(self) -> None:
        """A new subscriber connection; the publishing client (a pool that reconnects by itself) is kept."""
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        await self._close_pubsub()
        self._reading = False
        self._early.clear()
        try:
            if self._client is None:
                self._client = aioredis.Redis.from_url(
                    self.url,
                    decode_responses=True,
                    retry=Retry(NoBackoff(), 0),
                    socket_connect_timeout=5,
                    socket_timeout=10,
                    socket_keepalive=True,
                    client_name=self.name,
                )
            await self._client.ping()
            self._pubsub = self._client.pubsub()
            self._ping_sent = None
        except Exception as exc:
            await self._close_pubsub()
            raise BrokerError(f"cannot connect to Redis: {exc}") from exc

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        for future in self._confirm.values():
            if not future.done():
                future.set_exception(BrokerError("connection closed"))
        self._confirm.clear()
        if pubsub is not None:
            try:
                await pubsub.aclose()
            except Exception:  # noqa: BLE001 - it is gone already
                pass

    async def disconnect(self) -> None:
        await self._close_pubsub()
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.aclose()
            except Exception:  # noqa: BLE001 - it is gone already
                pass

    async def subscribe(self, channel: str) -> None:
        if self._pubsub is None:
            raise BrokerError("not connected")
        future = self._confirm.get(channel)
        if future is None or future.done():
            future = self._confirm[channel] = asyncio.get_running_loop().create_future()
        try:
            await self._pubsub.subscribe(channel)
            if self._reading:
                async with asyncio.timeout(SUBSCRIBE_WAIT_S):
                    await asyncio.shield(future)
                return
            deadline = time.monotonic() + SUBSCRIBE_WAIT_S
            while time.monotonic() < deadline and not future.done():  # live once Redis confirms
                message = self._take(await self._pubsub.get_message(timeout=0.5))
                if message is not None:
                    self._early.append(message)
            if future.done():
                future.result()  # the connection closed meanwhile: BrokerError
                return
        except BrokerError:
            raise
        except Exception as exc:
            raise BrokerError(f"cannot subscribe: {type(exc).__name__}: {exc}") from exc
        finally:
            if self._confirm.get(channel) is future and not future.done():
                del self._confirm[channel]
                future.cancel()
        raise BrokerError("Redis did not confirm the subscription")

    async def unsubscribe(self, channel: str) -> None:
        if self._pubsub is not None:
            try:
                await self._pubsub.unsubscribe(channel)
            except Exception as exc:
                raise BrokerError(f"cannot unsubscribe: {exc}") from exc

    async def publish(self, channel: str, data: str) -> None:
        await self.publish_many(channel, [data])

    async def publish_many(self, channel: str, data: list[str]) -> None:
        await self.publish_batch([(channel, item) for item in data])

    async def publish_batch(self, items: list[tuple[str, str]]) -> None:
        if self._client is None:
            raise BrokerError("not connected")
        try:
            if len(items) == 1:
                await self._client.publish(*items[0])
                return
            async with self._client.pipeline(transaction=False) as pipe:
                for channel, item in items:
                    pipe.publish(channel, item)
                await pipe.execute()
        except Exception as exc:
            raise BrokerError(f"publish failed: {exc}") from exc

    def _take(self, msg: dict[str, Any] | None) -> Message | None:
        """A published message, or None after handling a control reply (a confirmation, a pong)."""
        if msg is None:
            return None
        kind = msg["type"]
        if kind == "message":
            return Message(msg["channel"], msg["data"])
        if kind == "subscribe":
            future = self._confirm.pop(msg["channel"], None)
            if future is not None and not future.done():
                future.set_result(None)
        elif kind == "pong":
            self._ping_sent = None
        elif kind == "unsubscribe" and not msg["data"]:
            raise BrokerError("unsubscribed")
        return None

    async def next_published(self) -> Message:
        if self._pubsub is None:
            raise BrokerError("not connected")
        self._reading = True
        if self._early:
            return self._early.popleft()
        while True:
            try:
                msg = await self._pubsub.get_message(timeout=IDLE_PING_S)
                if msg is None:
                    now = time.monotonic()
                    if self._ping_sent is None:
                        self._ping_sent = now
                        await self._pubsub.ping()
                    elif now - self._ping_sent > PONG_WAIT_S:
                        raise BrokerError("Redis did not answer a ping")
                    continue
                message = self._take(msg)
            except BrokerError:
                raise
            except Exception as exc:
                raise BrokerError(f"subscription lost: {type(exc).__name__}: {exc}") from exc
            if message is not None:
                return message
