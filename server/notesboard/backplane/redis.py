"""Redis pub/sub broker (`redis://HOST:PORT/DB`, `rediss://` for TLS), on redis.asyncio.

redis-py would silently reconnect and resubscribe a broken pub/sub connection, hiding that messages were
lost in between; here its retries are off, so a lost connection surfaces as BrokerError and the backplane
repairs from the database. An idle connection is pinged, so a silently dead one is noticed too.
"""

from __future__ import annotations

import time
from typing import Any

from notesboard.backplane.base import Broker, BrokerError, Message

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

    async def connect(self) -> None:
        """A new subscriber connection; the publishing client (a pool that reconnects by itself) is kept."""
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        await self._close_pubsub()
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
        try:
            await self._pubsub.subscribe(channel)
            deadline = time.monotonic() + SUBSCRIBE_WAIT_S
            while time.monotonic() < deadline:  # live once Redis confirms
                msg = await self._pubsub.get_message(timeout=0.5)
                if msg is not None and msg["type"] == "subscribe" and msg["channel"] == channel:
                    return
        except Exception as exc:
            raise BrokerError(f"cannot subscribe: {exc}") from exc
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
        if self._client is None:
            raise BrokerError("not connected")
        try:
            if len(data) == 1:
                await self._client.publish(channel, data[0])
                return
            async with self._client.pipeline(transaction=False) as pipe:
                for item in data:
                    pipe.publish(channel, item)
                await pipe.execute()
        except Exception as exc:
            raise BrokerError(f"publish failed: {exc}") from exc

    async def next_published(self) -> Message:
        if self._pubsub is None:
            raise BrokerError("not connected")
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
            except BrokerError:
                raise
            except Exception as exc:
                raise BrokerError(f"subscription lost: {type(exc).__name__}: {exc}") from exc
            kind = msg["type"]
            if kind == "message":
                return Message(msg["channel"], msg["data"])
            if kind == "pong":
                self._ping_sent = None
            elif kind == "unsubscribe" and not msg["data"]:
                raise BrokerError("unsubscribed")
