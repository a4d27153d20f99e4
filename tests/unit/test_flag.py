"""notesboard.fanout.flag.Flag behaves as asyncio.Event where the server uses it, and makes no Event until a wait."""

from __future__ import annotations

import asyncio

from notesboard.fanout.flag import Flag


async def test_set_clear_wait_like_an_event() -> None:
    flag = Flag()
    assert not flag.is_set() and flag._event is None
    flag.set()
    await asyncio.wait_for(flag.wait(), 1)  # set: returns at once, still no Event
    assert flag._event is None
    flag.clear()
    waiter = asyncio.ensure_future(flag.wait())
    await asyncio.sleep(0.01)
    assert not waiter.done() and flag._event is not None
    flag.set()
    await asyncio.wait_for(waiter, 1)
    flag.clear()
    assert not flag.is_set() and not flag._event.is_set()  # the Event follows clear() once it exists
    again = asyncio.ensure_future(flag.wait())
    await asyncio.sleep(0.01)
    assert not again.done()
    flag.set()
    await asyncio.wait_for(again, 1)


async def test_starts_set_when_asked() -> None:
    flag = Flag(on=True)
    assert flag.is_set()
    await asyncio.wait_for(flag.wait(), 1)
