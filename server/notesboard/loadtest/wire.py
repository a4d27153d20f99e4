"""The load tester's own WebSocket client: just what a load socket needs, with little Python per frame.

websockets' asyncio client cost 29 us of the generator's CPU per frame received in one process, 48 us in six
sharing two cores with the server (its generator-based parser, a future per message, the assembler): at
100,000 sockets receiving 20,000 frames/s, about a core of the two (docs/performance.md, issue #25). Here one
`data_received` splits every frame it holds with a few integer operations, answers pings, and hands text
messages to the reader in batches (18.9 us per frame in all, reading and checking included). The handshake,
masking and close follow RFC 6455; errors are websockets' own exception types, so the load client treats
both clients alike. Not a general client: no extensions, no fragmented sends, server frames of at most
`MAX_FRAME` bytes.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
from collections import deque
from collections.abc import AsyncIterator
from typing import cast
from urllib.parse import urlsplit

from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK, InvalidHandshake, InvalidStatus
from websockets.frames import Close
from websockets.http11 import Response
from websockets.utils import accept_key

from notesboard.loadtest.dial import server_address

try:
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - websockets without its C extension
    from websockets.utils import apply_mask

__all__ = ["MAX_FRAME", "LeanSocket", "open_socket"]

MAX_FRAME = 64 * 1024 * 1024
MAX_HEAD = 16 * 1024  # a handshake response longer than this is refused
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class LeanSocket(asyncio.Protocol):
    """One client socket after its handshake. `recv()`, `async for`, `send()`, `close()`, `close_code` as in
    websockets; a reader that lets more than `max_queue` messages wait stops reading (TCP backpressure)."""

    def __init__(self, max_queue: int) -> None:
        self.transport: asyncio.Transport | None = None
        self.close_code: int | None = None
        self.close_reason = ""
        self._max_queue = max_queue
        self._buf = bytearray()
        self._parts: list[bytes] = []  # a fragmented message so far
        self._part_op = OP_TEXT
        self._messages: deque[str | bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._closing = False  # our close frame was sent
        self._lost = asyncio.get_running_loop().create_future()
        self._handshake: asyncio.Future[bytes] | None = None

    # -- asyncio.Protocol -----------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not its subclasses

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        if self._handshake is not None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > MAX_HEAD:
                    self._handshake.set_exception(InvalidHandshake("handshake response too long"))
                return
            head = bytes(buf[: end + 4])
            del buf[: end + 4]
            self._handshake.set_result(head)
            self._handshake = None
        self._frames()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.close_code is None:
            self.close_code = 1006
        if self._handshake is not None and not self._handshake.done():
            self._handshake.set_exception(exc or ConnectionResetError("closed during the handshake"))
        self._wake()
        if not self._lost.done():
            self._lost.set_result(None)

    # -- frames in --------------------------------------------------------------------------------------------

    def _frames(self) -> None:
        buf = self._buf
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length, head = b1 & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                (length,) = struct.unpack_from("!H", buf, pos + 2)
                head = 4
            elif length == 127:
                if size - pos < 10:
                    break
                (length,) = struct.unpack_from("!Q", buf, pos + 2)
                head = 10
            if b1 & 0x80 or length > MAX_FRAME:
                self._fail(1002, "masked or oversized frame from the server")
                return
            if size - pos < head + length:
                break
            payload = bytes(buf[pos + head : pos + head + length])
            pos += head + length
            self._frame(b0 & 0x80, b0 & 0x0F, payload)
        if pos:
            del buf[:pos]
        if self._messages:
            if not self._paused and len(self._messages) > self._max_queue and self.transport is not None:
                self._paused = True
                self.transport.pause_reading()
            self._wake()

    def _frame(self, fin: int, op: int, payload: bytes) -> None:
        if op == OP_TEXT or op == OP_BINARY or op == OP_CONT:
            if op != OP_CONT:
                self._part_op = op
            if not fin:
                self._parts.append(payload)
                return
            if self._parts:
                payload = b"".join((*self._parts, payload))
                self._parts = []
            self._messages.append(payload.decode() if self._part_op == OP_TEXT else payload)
        elif op == OP_PING:
            self._write(OP_PONG, payload)
        elif op == OP_CLOSE:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            self.close_code, self.close_reason = code, payload[2:].decode(errors="replace")
            if not self._closing:
                self._closing = True
                self._write(OP_CLOSE, payload[:2])
            if self.transport is not None:
                self.transport.close()
        # pongs: nothing (we send no pings)

    def _fail(self, code: int, reason: str) -> None:
        self.close_code, self.close_reason = code, reason
        if self.transport is not None:
            self.transport.abort()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # -- the API the load client uses ----------------------------------------------------------------------

    def _closed_error(self) -> ConnectionClosedOK | ConnectionClosedError:
        code = self.close_code or 1006
        rcvd = None if code in (1005, 1006) else Close(code, self.close_reason)
        return (ConnectionClosedOK if code in (1000, 1001) else ConnectionClosedError)(rcvd, None)

    async def _more(self) -> bool:
        """Wait until a message waits (True) or the socket is closed with none left (False)."""
        while not self._messages:
            if self.close_code is not None or self._lost.done():
                return False
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
            self._waiter = None
        return True

    def _take(self) -> str | bytes:
        message = self._messages.popleft()
        if self._paused and len(self._messages) <= self._max_queue // 2 and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return message

    async def recv(self) -> str | bytes:
        if not await self._more():
            raise self._closed_error()
        return self._take()

    async def __aiter__(self) -> AsyncIterator[str | bytes]:
        """Every message until the close (then it ends, as websockets' does for 1000 and 1001, or raises)."""
        while await self._more():
            yield self._take()
        if self.close_code not in (1000, 1001):
            raise self._closed_error()

    async def send(self, message: str) -> None:
        if self._closing or self.close_code is not None or self.transport is None or self.transport.is_closing():
            raise self._closed_error()
        self._write(OP_TEXT, message.encode())

    async def close(self, code: int = 1000) -> None:
        """Send a close frame (once) and wait for the server to end the connection."""
        if not self._closing and self.close_code is None and self.transport is not None:
            self._closing = True
            self._write(OP_CLOSE, struct.pack("!H", code))
        try:
            await asyncio.wait_for(asyncio.shield(self._lost), 2)
        except TimeoutError:
            if self.transport is not None:
                self.transport.abort()
        if self.close_code is None or self.close_code == 1006:
            self.close_code = code

    def _write(self, op: int, payload: bytes) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | op, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | op, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | op, 0x80 | 127, n)
        mask = os.urandom(4)
        transport.write(head + mask + apply_mask(payload, mask))

    async def _shake(self, url: str) -> None:
        parts = urlsplit(url)
        key = base64.b64encode(os.urandom(16)).decode()
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        self._handshake = asyncio.get_running_loop().create_future()
        assert self.transport is not None
        self.transport.write(
            f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = (await self._handshake).decode("latin-1")
        status_line, *lines = head.split("\r\n")
        try:
            status = int(status_line.split(" ", 2)[1])
        except (IndexError, ValueError):
            raise InvalidHandshake(f"not an HTTP response: {status_line[:80]!r}") from None
        headers = Headers()
        for line in lines:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip()] = value.strip()
        if status != 101:
            raise InvalidStatus(Response(status, status_line.split(" ", 2)[-1], headers))
        if headers.get("Sec-WebSocket-Accept") != accept_key(key):
            raise InvalidHandshake("wrong Sec-WebSocket-Accept")


async def open_socket(url: str, *, sock: socket.socket | None = None, max_queue: int = 256) -> LeanSocket:
    """Connect to ws://host:port/path?query (through `sock` when given, already connected) and shake hands."""
    loop = asyncio.get_running_loop()
    proto = LeanSocket(max_queue)
    if sock is None:
        await loop.create_connection(lambda: proto, *server_address(url))
    else:
        try:
            await loop.create_connection(lambda: proto, sock=sock)
        except BaseException:  # cancelled or refused before a transport took the socket: it is still ours
            if proto.transport is None:
                sock.close()
            raise
    try:
        await proto._shake(url)
    except BaseException:
        if proto.transport is not None:
            proto.transport.abort()
        raise
    return proto
