"""A small socket client for tests that speak raw notesboard frames (servers: notesboard.testing)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
import websockets
from websockets.asyncio.client import ClientConnection

from notesboard.testing import ServerProcess


class Client:
    """A thin wrapper over a `websockets` connection that speaks notesboard frames."""

    def __init__(self, ws: ClientConnection):
        self.ws = ws
        self.snapshot: dict[str, Any] = {}
        self._pending: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any] | str | bytes) -> None:
        if isinstance(frame, dict):
            frame = orjson.dumps(frame).decode()
        await self.ws.send(frame)

    async def _read(self, timeout: float) -> None:
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        self._pending.extend(orjson.loads(line) for line in str(raw).split("\n"))

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next frame not yet consumed (frames skipped by `recv_until` come first, in order)."""
        if not self._pending:
            await self._read(timeout)
        return self._pending.pop(0)

    async def recv_until(self, pred: Any, timeout: float = 5.0) -> dict[str, Any]:
        """The first frame matching `pred`; the frames it passes over stay queued for later calls."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        checked = 0
        while True:
            for i in range(checked, len(self._pending)):
                if pred(self._pending[i]):
                    return self._pending.pop(i)
            checked = len(self._pending)
            await self._read(max(0.01, deadline - loop.time()))

    async def recv_type(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next frame of this type; others stay queued."""
        return await self.recv_until(lambda f: f["type"] == kind, timeout)

    async def request(self, frame: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
        """Send and wait for the ack or error carrying this frame's client_id."""
        cid = frame.get("client_id")
        assert cid, "request() needs a client_id"
        await self.send(frame)
        return await self.recv_until(lambda f: f["type"] in ("ack", "error") and f.get("client_id") == cid, timeout)

    async def ping(self, timeout: float = 5.0) -> None:
        await self.send({"type": "ping"})
        await self.recv_type("pong", timeout)

    async def close(self) -> None:
        await self.ws.close()


@contextlib.asynccontextmanager
async def connect(server: ServerProcess, board: str, **query: Any) -> AsyncIterator[Client]:
    """Open a socket, read the snapshot into `client.snapshot`, close at the end."""
    # max_queue=None: frames a test never reads must not stall the close handshake (10 s each).
    async with websockets.connect(server.ws_url(board, **query), max_size=None, max_queue=None, open_timeout=10) as ws:
        client = Client(ws)
        client.snapshot = await client.recv()
        assert client.snapshot["type"] == "snapshot", client.snapshot
        yield client
