"""A bounded outgoing queue and its writer task, one per connection.

The fan-out only appends already-encoded frames here (never awaits a socket), so a slow or dead client
delays nobody else. If a client falls further behind than `max_frames` or `max_bytes`, the outbox drops
what it holds and reports overflow: the connection is closed with 1013 and the client resumes with `since`.
With batching on, everything waiting is sent as one message of newline-separated frames.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

__all__ = ["Outbox"]

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
        self._frames: deque[tuple[str, int]] = deque()  # (frame or chunk, frames in it)
        self._size = 0
        self._count = 0  # frames waiting (a chunk counts as the frames it holds)
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self.closed = False
        self.sent_messages = 0
        self.blocked_since: float | None = None  # monotonic time the current send started, while it waits

    def push(self, frame: str, count: int = 1) -> None:
        """Queue a frame (or a chunk of `count` newline-joined frames)."""
        if self.closed:
            return
        self._frames.append((frame, count))
        self._size += len(frame)
        self._count += count
        if self._count > self._max_frames or self._size > self._max_bytes:
            self.close()
            self._on_overflow()
            return
        self._idle.clear()
        self._ready.set()

    def close(self) -> None:
        """Stop accepting frames and free what is waiting."""
        self.closed = True
        self._frames.clear()
        self._size = 0
        self._count = 0
        self._ready.set()
        self._idle.set()

    async def flushed(self) -> None:
        """Wait until everything pushed so far has been handed to the transport."""
        await self._idle.wait()

    async def run(self) -> None:
        """The writer task: send frames in order until closed."""
        frames = self._frames
        while not self.closed:
            if not frames:
                self._idle.set()
                self._ready.clear()
                await self._ready.wait()
                continue
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
