"""Fan-out coalescing under load, in-process: a busy big board is flushed at most once per window, a quiet
one (or a small one) at once. The hub's timing is pure logic on the event loop; the sockets are recorders."""

from __future__ import annotations

import asyncio

from notesboard.fanout import Hub
from tests.backplane.fakes import Sub

WINDOW = 0.05


def room(hub: Hub, n: int) -> list[Sub]:
    subs = [Sub("b") for _ in range(n)]
    for sub in subs:
        hub.join(sub)
    return subs


async def turn() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def test_a_quiet_board_s_event_goes_out_at_once_and_a_busy_one_s_wait_for_the_window() -> None:
    hub = Hub(coalesce=WINDOW, coalesce_min=4)
    subs = room(hub, 4)
    loop = asyncio.get_running_loop()
    hub.deliver("b", 1, "e1")
    await turn()
    assert subs[0].got == [1] and hub.flushes == 1  # quiet until now: immediately
    flushed = loop.time()
    hub.deliver("b", 2, "e2")
    await turn()
    assert subs[0].got == [1]  # right after a flush: held for the rest of the window
    hub.deliver("b", 3, "e3")
    while subs[0].got != [1, 2, 3]:
        assert loop.time() - flushed < WINDOW * 4, "never flushed"
        await asyncio.sleep(0.005)
    assert loop.time() - flushed >= WINDOW * 0.9
    assert hub.flushes == 2 and all(s.got == [1, 2, 3] and not s.gaps for s in subs)  # two events, one push
    await asyncio.sleep(WINDOW * 1.5)
    hub.deliver("b", 4, "e4")  # quiet for a window again: at once
    await turn()
    assert subs[0].got == [1, 2, 3, 4]


async def test_a_small_board_is_never_held() -> None:
    hub = Hub(coalesce=WINDOW, coalesce_min=4)
    subs = room(hub, 3)
    for seq in range(1, 6):
        hub.deliver("b", seq, f"e{seq}")
        await turn()
        assert subs[0].got == list(range(1, seq + 1))
    assert hub.flushes == 5


async def test_coalescing_off_flushes_every_loop_turn() -> None:
    hub = Hub(coalesce=0.0, coalesce_min=1)
    subs = room(hub, 10)
    for seq in range(1, 4):
        hub.deliver("b", seq, f"e{seq}")
        await turn()
    assert subs[0].got == [1, 2, 3] and hub.flushes == 3
