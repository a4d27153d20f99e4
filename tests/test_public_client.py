"""The public client (notesboard.client.connect) against a real server, including a SIGKILL mid-burst."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from notesboard.client import Conflict, NotFound, connect
from notesboard.testing import ServerProcess

pytestmark = pytest.mark.parametrize("fresh_server", ["sqlite"], indirect=True)


async def until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)


async def test_changes_resolve_after_the_ack_and_errors_are_typed(fresh_server: ServerProcess) -> None:
    server = fresh_server.start()
    async with connect(server.url, "pub", name="ann") as a, connect(server.url, "pub") as b:
        note = await a.create("hello", x=10, y=20)
        assert note["text"] == "hello" and note["version"] == 1 and note["seq"] == 1
        assert a.notes[note["id"]]["text"] == "hello"
        seen = await asyncio.wait_for(anext(b.events()), 5)
        assert seen["note"]["id"] == note["id"] and b.notes[note["id"]]["text"] == "hello"
        edited = await b.update(note["id"], text="edited", version=1)
        assert edited["version"] == 2
        with pytest.raises(Conflict):
            await a.update(note["id"], text="stale", version=1)
        with pytest.raises(NotFound):
            await a.delete(999_999)
        await a.delete(note["id"])
        assert note["id"] not in a.notes and a.seq == 3 and a.epoch is not None


async def test_every_create_of_a_burst_resolves_once_through_a_sigkill_and_restart(
    fresh_server: ServerProcess,
) -> None:
    server = fresh_server.start()
    total = 400
    async with connect(server.url, "burst") as board:
        creates = [asyncio.ensure_future(board.create(f"n{i}")) for i in range(total)]
        await until(lambda: sum(c.done() for c in creates) >= 50)  # some acknowledged, the rest in flight
        server.kill()
        assert not all(c.done() for c in creates)
        server.start()  # same port: the client reconnects, resumes, and sends the unacknowledged again
        notes = await asyncio.wait_for(asyncio.gather(*creates), 60)
        assert sorted(n["text"] for n in notes) == sorted(f"n{i}" for i in range(total))
        assert len({n["id"] for n in notes}) == total
        stored = httpx.get(f"{server.url}/api/boards/burst/notes", params={"limit": 10_000}).json()
        assert len(stored["notes"]) == total and stored["seq"] == total  # each change made once
        await until(lambda: board.seq >= total)
        assert len(board.notes) == total


async def test_changes_made_while_the_server_is_down_are_sent_after_the_reconnect(
    fresh_server: ServerProcess,
) -> None:
    server = fresh_server.start()
    async with connect(server.url, "offline") as board:
        await board.create("before")
        server.stop()
        await until(lambda: not board.connected.is_set())
        waiting = asyncio.ensure_future(board.create("while down"))
        await asyncio.sleep(0.3)  # the server is down: nothing can acknowledge it
        assert not waiting.done()
        server.start()
        note = await asyncio.wait_for(waiting, 30)
        assert note["seq"] == 2 and {n["text"] for n in board.notes.values()} == {"before", "while down"}
