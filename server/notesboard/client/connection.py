"""One socket to a board: open reads the snapshot; frames are queued in arrival order and fed to a tracker.

Every event is checked by the connection's `SeqTracker` as it arrives (`verdicts` keeps what each one was),
so a caller that consumes frames out of order (`recv_until`) still sees the ordering the server produced.
The connection does not reconnect by itself: callers decide (tail retries with `Backoff`, strict test
watchers move to another server), passing the same tracker so the new socket resumes where this one was.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from notesboard.client.frames import decode, encode
from notesboard.client.stream import SeqTracker, SnapshotKind, Verdict
from notesboard.client.urls import ws_url

__all__ = ["Connection"]

Frame = dict[str, Any]


class Connection:
    """A notesboard socket; use `await Connection.open(...)`, or `async with await Connection.open(...)`."""

    def __init__(self, ws: ClientConnection, tracker: SeqTracker | None = None) -> None:
        self.ws = ws
        self.tracker = tracker or SeqTracker()
        self.snapshot: Frame = {}
        self.snapshot_kind: SnapshotKind | None = None
        self.verdicts: list[tuple[int, Verdict]] = []  # (seq, verdict) of every event, as it arrived
        self._pending: list[Frame] = []

    @classmethod
    async def open(
        cls,
        base_url: str,
        board: str,
        *,
        tracker: SeqTracker | None = None,
        open_timeout: float = 10.0,
        snapshot_timeout: float = 10.0,
        max_queue: int | None = None,
        **query: Any,
    ) -> Connection:
        """Connect and read the snapshot. `query` adds URL parameters (name, token, batch, limit, or an explicit
        since/epoch, which win over the tracker's). `max_queue=None`: frames nobody reads never stall the
        close handshake."""
        tracker = tracker or SeqTracker()
        params = {**tracker.resume_query(), **query}
        if "since" in query and "epoch" not in query:
            params.pop("epoch", None)
        ws = await websockets.connect(
            ws_url(base_url, board, **params), max_size=None, max_queue=max_queue, open_timeout=open_timeout
        )
        conn = cls(ws, tracker)
        try:
            async with asyncio.timeout(snapshot_timeout):
                first = decode(await ws.recv())
            conn.snapshot = first[0]
            asked = {k: params[k] for k in ("since", "epoch") if params.get(k) is not None}
            conn.snapshot_kind = tracker.snapshot(conn.snapshot, asked)
            conn._arrived(first[1:])
        except BaseException:
            await ws.close()
            raise
        return conn

    def _arrived(self, frames: list[Frame]) -> None:
        for frame in frames:
            if frame.get("type") in ("event", "session", "vote"):  # a session change and a vote take a seq too
                self.verdicts.append((int(frame["seq"]), self.tracker.event(frame)))
        self._pending.extend(frames)

    async def _read(self, timeout: float) -> None:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns the frame and drops a cancellation that
        # arrives as the frame does, so `Board`'s close (which cancels its reader) could wait for the next frame
        # or the full timeout instead of ending (seen after a Postgres restart: writers stuck in `async with`).
        async with asyncio.timeout(timeout):
            raw = await self.ws.recv()
        self._arrived(decode(raw))

    async def send(self, frame: Frame | str | bytes) -> None:
        await self.ws.send(encode(frame) if isinstance(frame, dict) else frame)

    async def recv(self, timeout: float = 5.0) -> Frame:
        """The next frame not yet consumed (frames skipped by `recv_until` come first, in order)."""
        if not self._pending:
            await self._read(timeout)
        return self._pending.pop(0)

    async def recv_until(self, pred: Callable[[Frame], bool], timeout: float = 5.0) -> Frame:
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

    async def recv_type(self, kind: str, timeout: float = 5.0) -> Frame:
        """The next frame of this type; others stay queued."""
        return await self.recv_until(lambda f: f["type"] == kind, timeout)

    async def request(self, frame: Frame, timeout: float = 5.0) -> Frame:
        """Send and wait for the ack or error carrying this frame's client_id."""
        cid = frame.get("client_id")
        if not cid:
            raise ValueError("request() needs a client_id")
        await self.send(frame)
        return await self.recv_until(lambda f: f["type"] in ("ack", "error") and f.get("client_id") == cid, timeout)

    async def ping(self, timeout: float = 5.0) -> None:
        await self.send({"type": "ping"})
        await self.recv_type("pong", timeout)

    async def close(self) -> None:
        await self.ws.close()

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
