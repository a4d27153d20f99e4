"""A bounded outgoing queue and its writer task, one per connection (while something waits).

The fan-out only appends already-encoded frames here (never awaits a socket), so a slow or dead client
delays nobody else. If a client falls further behind than `max_frames` or `max_bytes`, the outbox drops
what it holds and reports overflow: the connection is closed with 1013 and the client resumes with `since`.
With batching on, everything waiting is sent as one message of newline-separated frames. After `start()`
the writer task exists only while frames wait (an idle socket, or one whose events the direct path wrote,
holds no task: one task fewer per idle connection), and so does the queue itself (an empty deque is 0.7 KiB,
a few per cent of an idle socket: `bench/socket_memory.py`). That task (`_drain`) is the only writer loop.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections import deque
from collections.abc import Awaitable, Callable

from notesboard.fanout.flag import Flag

__all__ = ["Outbox", "text_frame"]

_last_framed: tuple[str, bytes] | None = None


def text_frame(text: str) -> bytes:
    """`text` as one unmasked, final WebSocket text frame (RFC 6455 5.2) — what a server sends.

    The fan-out hands the same chunk object to every connection of a board one after the other, so a
    one-entry cache keyed on the object's identity encodes and frames it once per board, not per client.
    """
    global _last_framed
    if _last_framed is not None and _last_framed[0] is text:
        return _last_framed[1]
    payload = text.encode()
    n = len(payload)
    if n < 126:
        header = bytes((0x81, n))
    elif n < 65536:
        header = struct.pack("!BBH", 0x81, 126, n)
    else:
        header = struct.pack("!BBQ", 0x81, 127, n)
    wire = header + payload
    _last_framed = (text, wire)
    return wire


# One batched message carries at most this many characters (frames are never split).
BATCH_CHARS = 64 * 1024


class Outbox:
    def __init__(
        self,
        send: Callable[[str], Awaitable[None]],
        *,
        max_frames: int,
        max_bytes: int,
        batch: bool,
        on_overflow: Callable[[], None],
    ) -> None:
        self._send = send
        self._max_frames = max_frames
        self._max_bytes = max_bytes
        self._batch = batch
        self._on_overflow = on_overflow
        self._frames: deque[tuple[str, int]] | None = None  # (frame or chunk, frames in it), while any wait
        self._size = 0
        self._count = 0  # frames waiting (a chunk counts as the frames it holds)
        self._idle = Flag(on=True)
        self.closed = False
        self.sent_messages = 0
        self.blocked_since: float | None = None  # monotonic time the current send started, while it waits
        self._direct: Callable[[bytes], bool] | None = None
        self._started = False  # start() was called: push() spawns the writer task when needed
        self._task: asyncio.Task[None] | None = None
        self.on_drained: Callable[[], None] | None = None  # told when queued frames have all gone out (awareness)

    def enable_direct(self, write: Callable[[bytes], bool]) -> None:
        """Let `push` write framed bytes straight to the transport while nothing is queued or sending.

        `write` returns False when it cannot (transport paused or closing); the frame is then queued and
        sent by the writer task as usual, so the order of frames never changes.
        """
        self._direct = write

    def push(self, frame: str, count: int = 1) -> None:
        """Queue a frame (or a chunk of `count` newline-joined frames)."""
        if self.closed:
            return
        if self._direct is not None and not self._frames and self.blocked_since is None:
            if self._direct(text_frame(frame)):
                self.sent_messages += 1
                return
        frames = self._frames
        if frames is None:
            frames = self._frames = deque()
        frames.append((frame, count))
        self._size += len(frame)
        self._count += count
        if self._count > self._max_frames or self._size > self._max_bytes:
            self.close()
            self._on_overflow()
            return
        self._idle.clear()
        if self._started and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain())

    @property
    def busy(self) -> bool:
        """Frames wait or a send is under way: a push now would queue (awareness waits for `on_drained`)."""
        return bool(self._frames) or self.blocked_since is not None or self.closed

    def start(self) -> None:
        """Begin sending what waits and what comes, with a task only while there is something to send."""
        self._started = True
        if self._frames and self._task is None and not self.closed:
            self._task = asyncio.get_running_loop().create_task(self._drain())

    def close(self) -> None:
        """Stop accepting frames and free what is waiting (and stop the writer task)."""
        self.closed = True
        self._frames = None
        self._size = 0
        self._count = 0
        self._idle.set()
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _drain(self) -> None:
        try:
            while self._frames and not self.closed:
                await self._send_next()
        except Exception:  # noqa: BLE001 - the peer went away; the connection's read loop sees the disconnect
            self.close()
        finally:
            if self._task is asyncio.current_task():
                self._task = None
            if not self._frames:
                self._frames = None  # idle again: no queue held
                self._idle.set()
                if self.on_drained is not None and not self.closed:
                    self.on_drained()

    async def flushed(self) -> None:
        """Wait until everything pushed so far has been handed to the transport."""
        await self._idle.wait()

    async def _send_next(self) -> None:
        """Send the next frame, or with batching as many waiting frames as fit one message."""
        frames = self._frames
        if frames:  # None or empty: nothing to send
            first, count = frames.popleft()
            size = len(first)
            if self._batch and frames and size + len(frames[0][0]) < BATCH_CHARS:
                parts = [first]
                while frames and size + len(frames[0][0]) < BATCH_CHARS:
                    frame, n = frames.popleft()
                    size += len(frame)
                    count += n
                    parts.append(frame)
                message = "\n".join(parts)
            else:
                message = first
            self._size -= size
            self._count -= count
            self.blocked_since = time.monotonic()
            await self._send(message)
            self.blocked_since = None
            self.sent_messages += 1
