"""How a sender paces its creates: at a fixed rate (never bursting to catch up), or as fast as its window of
unacknowledged creates allows."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from notesboard.client.frames import encode
from notesboard.loadtest.accounting import AckTracker

__all__ = ["Sender", "create_frame", "send_loop", "wait_acks"]


class Sender(Protocol):
    finished: bool  # the run is over
    acks: AckTracker
    window_open: asyncio.Event  # set when an ack (or an error) frees a place in the window

    async def send_one(self) -> bool:
        """Send one create; False if the client cannot send now."""
        ...


def create_frame(cid: str, now: int, pad: int) -> str:
    """A create whose text starts with its send time (readers measure delivery from it), padded to `pad`."""
    head = f"{now} {cid} "
    text = head + "x" * (pad - len(head)) if pad > len(head) else head
    return encode({"type": "create", "text": text, "client_id": cid})


async def send_loop(sender: Sender, rate: float, window: int, t_start: int, t_stop: int, phase: float) -> int:
    """Create notes until t_stop (monotonic ns); returns sends skipped because the window was full."""
    if rate > 0:
        return await at_rate(sender, rate, window, t_start, t_stop, phase)
    return await within_window(sender, window, t_stop)


async def at_rate(sender: Sender, rate: float, window: int, t_start: int, t_stop: int, phase: float) -> int:
    """`rate` creates/s from t_start (shifted by `phase` of an interval) to t_stop; returns those skipped."""
    skipped = 0
    interval = 1e9 / rate
    due = t_start + phase * interval
    while due < t_stop and not sender.finished:
        now = time.monotonic_ns()
        if due > now:
            await asyncio.sleep((due - now) / 1e9)
        elif now - due > 1e9:  # more than a second behind: do not burst, count what was missed
            missed = int((now - due) // interval)
            skipped += missed
            due += missed * interval
        if sender.acks.outstanding >= window or not await sender.send_one():
            skipped += 1
        due += interval
    return skipped


async def within_window(sender: Sender, window: int, t_stop: int) -> int:
    """Keep `window` creates unacknowledged until t_stop; skips none."""
    loop = asyncio.get_running_loop()
    deadline = t_stop / 1e9
    while time.monotonic_ns() < t_stop and not sender.finished:
        if sender.acks.outstanding >= window:
            sender.window_open.clear()
            try:
                await asyncio.wait_for(sender.window_open.wait(), max(0.001, deadline - loop.time()))
            except TimeoutError:
                break
            continue
        if not await sender.send_one():
            await asyncio.sleep(0.01)
    return 0


async def wait_acks(sender: Sender, deadline_ns: int) -> None:
    """After the load phase: until every create is acknowledged, the deadline passes or the run ends."""
    while sender.acks.outstanding and time.monotonic_ns() < deadline_ns and not sender.finished:
        sender.window_open.clear()
        try:
            await asyncio.wait_for(sender.window_open.wait(), 0.05)
        except TimeoutError:
            pass
