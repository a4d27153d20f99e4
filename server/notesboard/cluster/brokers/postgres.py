"""PostgreSQL LISTEN/NOTIFY broker (`postgresql://USER@HOST:PORT/DB`), on asyncpg.

One connection listens, another notifies. A NOTIFY payload must be shorter than 8000 bytes (`max_payload`):
the backplane sends a bigger event as its board and seq only, and subscribers read it from the database.
Notifications are only delivered while the listening connection lives, so losing it (a restart, or
`pg_terminate_backend`) surfaces as BrokerError; an idle listener runs `SELECT 1` now and then so a silently
dead connection is noticed too. Channels are LISTENed to and dropped while the listener waits (a lock keeps
those commands and the idle check from overlapping on the one connection, which asyncpg requires).
"""

from __future__ import annotations

import asyncio
from typing import Any

from notesboard.cluster.base import Broker, BrokerError, Message

__all__ = ["PostgresBroker"]

IDLE_CHECK_S = 5.0

QUERY_TIMEOUT_S = 5.0


class PostgresBroker(Broker):
    max_payload = 7999
    channel_per_board = False  # names are identifiers of <= 63 bytes, and each LISTEN costs the server

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._listen: Any = None
        self._notify: Any = None
        self._queue: asyncio.Queue[Message | BrokerError] = asyncio.Queue()
        self._channels: set[str] = set()
        self._lock = asyncio.Lock()  # one command at a time on the listening connection

    async def connect(self) -> None:
        """A new listening connection; the notifying one is kept while it works (and reopened when it does not)."""
        await self._close(self._listen)
        self._listen = None
        self._channels.clear()
        self._queue = asyncio.Queue()
        try:
            self._listen = await self._open("listen")
            self._listen.add_termination_listener(self._terminated)
        except Exception as exc:
            raise BrokerError(f"cannot connect to Postgres: {exc}") from exc

    async def _open(self, role: str) -> Any:
        import asyncpg

        return await asyncpg.connect(
            self.dsn, timeout=QUERY_TIMEOUT_S, server_settings={"application_name": f"{self.name}-{role}"}
        )

    async def _close(self, conn: Any) -> None:
        if conn is None:
            return
        if conn is self._listen:
            conn.remove_termination_listener(self._terminated)
        try:
            await asyncio.wait_for(conn.close(), QUERY_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - it is gone already
            conn.terminate()

    def _terminated(self, conn: Any) -> None:
        if conn is self._listen:
            self._queue.put_nowait(BrokerError("listening connection closed"))

    def _notified(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        if conn is self._listen:
            self._queue.put_nowait(Message(channel, payload))

    async def disconnect(self) -> None:
        listen, notify = self._listen, self._notify
        self._listen = self._notify = None
        self._channels.clear()
        for conn in (listen, notify):
            await self._close(conn)

    async def subscribe(self, channel: str) -> None:
        if self._listen is None:
            raise BrokerError("not connected")
        if channel in self._channels:
            return
        try:
            async with self._lock:
                await self._listen.add_listener(channel, self._notified)  # runs LISTEN; live when it returns
        except Exception as exc:
            raise BrokerError(f"cannot LISTEN: {exc}") from exc
        self._channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        if self._listen is not None and channel in self._channels:
            self._channels.discard(channel)
            try:
                async with self._lock:
                    await self._listen.remove_listener(channel, self._notified)
            except Exception as exc:
                raise BrokerError(f"cannot UNLISTEN: {exc}") from exc

    async def publish(self, channel: str, data: str) -> None:
        await self.publish_many(channel, [data])

    async def publish_many(self, channel: str, data: list[str]) -> None:
        await self.publish_batch([(channel, item) for item in data])

    async def publish_batch(self, items: list[tuple[str, str]]) -> None:
        try:
            if self._notify is None or self._notify.is_closed():
                self._notify = await self._open("notify")
            # One statement, one round trip; notifications of one transaction arrive in the order sent.
            await self._notify.execute(
                "SELECT pg_notify(c, m) FROM unnest($1::text[], $2::text[]) AS t(c, m)",
                [c for c, _ in items],
                [m for _, m in items],
                timeout=QUERY_TIMEOUT_S,
            )
        except Exception as exc:
            broken, self._notify = self._notify, None
            if broken is not None:
                broken.terminate()
            raise BrokerError(f"NOTIFY failed: {type(exc).__name__}: {exc}") from exc

    async def next_published(self) -> Message:
        while True:
            try:
                async with asyncio.timeout(IDLE_CHECK_S):  # not wait_for: no inner task to outlive a cancel
                    item = await self._queue.get()
            except TimeoutError:
                if self._listen is None or self._listen.is_closed():
                    raise BrokerError("listening connection closed") from None
                try:
                    async with self._lock:
                        await self._listen.execute("SELECT 1", timeout=QUERY_TIMEOUT_S)
                except Exception as exc:
                    raise BrokerError(f"listening connection failed: {exc}") from exc
                continue
            if isinstance(item, BrokerError):
                raise item
            return item
