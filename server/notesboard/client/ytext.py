"""A note's text for programs: a pycrdt `Text` bound to `/y/{board}/{note_id}` (the y-websocket protocol).

    async with await TextEditor.open(url, board, note_id) as ed:
        ed.insert(0, "hi ")          # code-point indices; sent at once
        await ed.wait_text(lambda t: "bye" in t)

Local edits are sent as they happen; remote ones are applied as they arrive. `disconnect()` keeps the
document (edits made meanwhile stay local) and `connect()` syncs both ways again: the server's step 1 is
answered with everything it lacks, so offline typing merges on reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from types import TracebackType
from typing import Any
from urllib.parse import urlencode, urlsplit

import websockets
from pycrdt import Doc, Text, TransactionEvent
from websockets.asyncio.client import ClientConnection

from notesboard.ytext import wire

__all__ = ["TextEditor", "y_url"]


def y_url(base: str, board: str, note_id: int, **query: Any) -> str:
    """ws(s)://host/y/BOARD/ID?query from an http(s) (or ws(s)) base URL."""
    parts = urlsplit(base)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    qs = urlencode({k: v for k, v in query.items() if v is not None})
    return f"{scheme}://{parts.netloc}/y/{board}/{note_id}" + (f"?{qs}" if qs else "")


class TextEditor:
    def __init__(self, url: str, client_id: int | None = None) -> None:
        self.url = url
        self.doc: Doc[Text] = Doc(client_id=client_id)
        self.text: Text = self.doc.get("text", type=Text)
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._outgoing: asyncio.Queue[bytes] = asyncio.Queue()
        self._applying = False
        self._changed = asyncio.Event()
        self.synced = asyncio.Event()
        self.close_code: int | None = None
        self.awareness: dict[int, str] = {}
        self.doc.observe(self._on_change)

    @classmethod
    async def open(cls, base: str, board: str, note_id: int, client_id: int | None = None, **query: Any) -> TextEditor:
        editor = cls(y_url(base, board, note_id, **query), client_id)
        await editor.connect()
        return editor

    async def connect(self, timeout: float = 10.0) -> None:
        """Open the socket and sync both ways (returns once the server's state arrived)."""
        self.synced.clear()
        self.close_code = None
        self._ws = await websockets.connect(self.url, max_size=None)
        self._outgoing = asyncio.Queue()  # what was typed offline goes with the sync, not from here
        self._reader = asyncio.get_running_loop().create_task(self._read(self._ws))
        self._sender = asyncio.get_running_loop().create_task(self._send(self._ws, self._outgoing))
        await self._ws.send(wire.sync_step1(self.doc.get_state()))
        await asyncio.wait_for(self.synced.wait(), timeout)

    async def disconnect(self, flush: float = 5.0) -> None:
        """Close the socket after sending what was typed (waiting at most `flush` seconds for that)."""
        if self._ws is not None and self._sender is not None and not self._sender.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outgoing.join(), flush)
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def __aenter__(self) -> TextEditor:
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        await self.disconnect()

    # -- editing (indices in code points; pycrdt counts UTF-8 bytes) -----------------------------------------

    def __str__(self) -> str:
        return str(self.text)

    def insert(self, index: int, value: str) -> None:
        self.text.insert(len(str(self.text)[:index].encode()), value)

    def delete(self, index: int, length: int) -> None:
        current = str(self.text)
        start = len(current[:index].encode())
        del self.text[start : start + len(current[index : index + length].encode())]

    async def wait_text(self, check: Callable[[str], bool], timeout: float = 10.0) -> str:
        """Wait until the text passes `check`; TimeoutError with the last text if it does not."""

        async def until() -> str:
            while not check(str(self.text)):
                self._changed.clear()
                await self._changed.wait()
            return str(self.text)

        try:
            return await asyncio.wait_for(until(), timeout)
        except TimeoutError:
            raise TimeoutError(f"text is {str(self.text)!r}") from None

    async def send_raw(self, data: bytes) -> None:
        """A message as is (tests of the server's refusals)."""
        assert self._ws is not None
        await self._ws.send(data)

    async def closed(self, timeout: float = 10.0) -> int | None:
        """Wait for the server to close the socket; its close code."""
        if self._reader is not None:
            await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        return self.close_code

    # -- wire ----------------------------------------------------------------------------------------------

    def _on_change(self, event: TransactionEvent) -> None:
        self._changed.set()
        if self._applying or self._ws is None:
            return  # remote, or offline: sent by the next sync
        self._outgoing.put_nowait(wire.sync_update(event.update))

    def _apply(self, update: bytes) -> None:
        self._applying = True
        try:
            self.doc.apply_update(update)
        finally:
            self._applying = False
        self._changed.set()

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for data in ws:
                assert isinstance(data, bytes)
                msg = wire.parse(data)
                if msg.kind == "step1":
                    await ws.send(wire.sync_step2(self.doc.get_update(msg.payload)))
                elif msg.kind in ("step2", "update"):
                    self._apply(msg.payload)
                    if msg.kind == "step2":
                        self.synced.set()
                elif msg.kind == "awareness":
                    for client, _, state in wire.awareness_entries(msg.payload):
                        self.awareness[client] = state
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = ws.close_code
            self._changed.set()

    async def _send(self, ws: ClientConnection, queue: asyncio.Queue[bytes]) -> None:
        """One sender, so updates leave in the order they were made."""
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                data = await queue.get()
                await ws.send(data)
                queue.task_done()
