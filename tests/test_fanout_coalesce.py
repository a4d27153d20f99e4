"""Fan-out coalescing under load: a busy big board is flushed at most once per window, a quiet one (or a small
one) at once. The hub's timing in-process (the sockets are recorders), then a real server with real sockets."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import orjson
import pytest
import websockets

from notesboard.fanout.hub import Hub
from tests.backplane.fakes import Sub
from tests.helpers import ServerProcess
from tests.support.databases import sqlite_url

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


def _metric(server: ServerProcess, name: str) -> int:
    for line in httpx.get(f"{server.url}/metrics").text.splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    raise AssertionError(f"no {name} in /metrics")


@pytest.mark.parametrize("window", ["0", "0.05"])
async def test_a_real_server_coalesces_a_busy_board_and_loses_nothing(tmp_path: Path, window: str) -> None:
    """40 batching sockets, 60 creates 5 ms apart: every event once and in order either way; with a 50 ms window
    they arrive in far fewer messages than events (without it, one message per commit batch)."""
    env = {"NOTESBOARD_FANOUT_COALESCE": window, "NOTESBOARD_FANOUT_COALESCE_MIN": "32"}
    server = ServerProcess(sqlite_url(tmp_path / "c.db"), tmp_path / "server.log", env=env).start()
    try:
        readers = [await websockets.connect(server.ws_url("busy", batch=1), max_queue=None) for _ in range(40)]
        for ws in readers:
            assert orjson.loads(await ws.recv())["type"] == "snapshot"
        async with websockets.connect(server.ws_url("busy"), max_queue=None) as writer:
            await writer.recv()
            for i in range(60):
                await writer.send(orjson.dumps({"type": "create", "text": f"n{i}", "client_id": f"c{i}"}).decode())
                await asyncio.sleep(0.005)
            messages = []
            for ws in readers:
                seqs: list[int] = []
                count = 0
                while len(seqs) < 60:
                    raw = await asyncio.wait_for(ws.recv(), 10)
                    frames = [orjson.loads(line) for line in str(raw).split("\n")]
                    events = [f["seq"] for f in frames if f["type"] == "event"]
                    count += bool(events)
                    seqs += events
                assert seqs == list(range(1, 61))
                messages.append(count)
        batches = _metric(server, "notesboard_write_batches_total")
        if window == "0":
            # Without the window a board is flushed once per commit: one message per group-commit batch (on a
            # quiet machine that is about one per event; under load the writer joins several creates).
            assert max(messages) == batches, (messages, batches)
        else:
            assert max(messages) <= 30, messages  # several events per send, however the creates were committed
        for ws in readers:
            await ws.close()
    finally:
        server.stop()
