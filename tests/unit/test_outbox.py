"""The per-connection outbox, in-process and driven as the connection drives it (`start`, then `push`): order,
batching, the bounds that close a slow client, direct writes."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc

from notesboard.fanout.outbox import BATCH_CHARS, Outbox, text_frame


class Sink:
    """A socket's send: records messages; `gate` holds every send until it is set (a client not reading)."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def send(self, message: str) -> None:
        await self.gate.wait()
        self.messages.append(message)


def outbox(
    sink: Sink, *, batch: bool = False, max_frames: int = 100, max_bytes: int = 10_000
) -> tuple[Outbox, list[int]]:
    overflows: list[int] = []
    box = Outbox(
        sink.send, max_frames=max_frames, max_bytes=max_bytes, batch=batch, on_overflow=lambda: overflows.append(1)
    )
    return box, overflows


async def test_frames_go_out_in_order_one_message_each_without_batching() -> None:
    sink = Sink()
    box, _ = outbox(sink)
    box.start()
    for i in range(5):
        box.push(f'{{"n":{i}}}')
    await box.flushed()
    assert sink.messages == [f'{{"n":{i}}}' for i in range(5)] and box.sent_messages == 5
    box.close()
    await box.flushed()


async def test_batching_joins_what_waits_with_newlines_and_never_splits_a_frame() -> None:
    sink = Sink()
    sink.gate.clear()  # the first send blocks, so the rest pile up behind it
    box, _ = outbox(sink, batch=True, max_bytes=10 * BATCH_CHARS)
    box.start()
    box.push("a")
    await asyncio.sleep(0)
    big = "x" * (BATCH_CHARS - 1)
    for frame in ("b", "c", big, "d"):
        box.push(frame)
    sink.gate.set()
    await box.flushed()
    assert sink.messages == ["a", "b\nc", big, "d"]  # `big` does not fit beside "b\nc" nor "d" beside it
    box.close()
    await box.flushed()


async def test_a_client_too_far_behind_is_dropped_once_and_its_queue_freed() -> None:
    sink = Sink()
    sink.gate.clear()
    box, overflows = outbox(sink, max_frames=3)
    box.start()
    for i in range(10):
        box.push(str(i))
    assert overflows == [1] and box.closed  # the 4th frame over a bound of 3 (one is being sent)
    box.push("after")  # ignored once closed
    sink.gate.set()
    await box.flushed()  # closed: the writer was stopped with what waited
    assert "after" not in sink.messages and len(sink.messages) <= 1


async def test_the_byte_bound_counts_characters_waiting() -> None:
    sink = Sink()
    sink.gate.clear()
    box, overflows = outbox(sink, max_bytes=100)
    box.start()
    box.push("y" * 10)
    await asyncio.sleep(0)  # now being sent (blocked), no longer counted
    box.push("z" * 60)
    assert not overflows
    box.push("z" * 41)
    assert overflows == [1] and box.closed


async def test_a_blocked_send_is_visible_to_the_stall_watchdog() -> None:
    sink = Sink()
    sink.gate.clear()
    box, _ = outbox(sink)
    box.start()
    box.push("stuck")
    await asyncio.sleep(0)
    assert box.blocked_since is not None
    sink.gate.set()
    await box.flushed()
    assert box.blocked_since is None
    box.close()
    await box.flushed()


async def test_direct_writes_only_while_nothing_waits_so_order_holds() -> None:
    sink = Sink()
    box, _ = outbox(sink)
    wire: list[bytes] = []
    writable = [True]

    def write(data: bytes) -> bool:
        if writable[0]:
            wire.append(data)
        return writable[0]

    box.enable_direct(write)
    box.push("one")
    assert wire == [text_frame("one")] and sink.messages == []
    writable[0] = False  # transport paused: queued for the writer task
    box.push("two")
    writable[0] = True
    box.push("three")  # must not overtake "two"
    box.start()
    await box.flushed()
    assert sink.messages == ["two", "three"] and len(wire) == 1
    box.close()
    await box.flushed()


def test_text_frame_headers_follow_rfc_6455() -> None:
    assert text_frame("hi") == b"\x81\x02hi"
    medium = text_frame("m" * 200)
    assert medium[:4] == b"\x81\x7e\x00\xc8" and len(medium) == 204
    large = text_frame("l" * 70_000)
    assert large[:2] == b"\x81\x7f" and int.from_bytes(large[2:10], "big") == 70_000


async def test_an_idle_outbox_holds_no_queue_once_drained() -> None:
    """An idle socket's outbox keeps no deque (0.7 KiB each, a few per cent of an idle socket's memory)."""
    sink = Sink()
    boxes = [outbox(sink)[0] for _ in range(200)]
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for box in boxes:
            box.start()
            box.push("hello")
            box.push("world")  # both queued: no direct writer
        held = tracemalloc.take_snapshot().compare_to(before, "filename")
        assert sum(s.size_diff for s in held if s.traceback[0].filename.endswith("outbox.py")) > 200 * 500
        await asyncio.gather(*(box.flushed() for box in boxes))
        await asyncio.sleep(0)  # the writer tasks end after their last send
        gc.collect()  # a finished task and its coroutine may wait for the collector
        after = tracemalloc.take_snapshot().compare_to(before, "filename")
    finally:
        tracemalloc.stop()
    assert len(sink.messages) == 400
    left = sum(s.size_diff for s in after if s.traceback[0].filename.endswith("outbox.py"))
    assert left < 200 * 100, f"{left / 200:.0f} bytes per drained outbox"
    boxes[0].push("again")  # and it queues again when needed
    await boxes[0].flushed()
    assert sink.messages[-1] == "again"
