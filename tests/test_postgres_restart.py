"""A Postgres restart under writers (issue #25, the short version of that fault): the server recovers its
database connections without being restarted, says so in its log, loses no acknowledged note, and every
client leaves its `async with connect(...)` block. The Postgres is the test's own (restarting the machine's
shared one would cut every other test's database)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from notesboard.client import NotesError, connect
from tests.ports import free_port
from tests.support import ServerProcess
from tests.support.databases import Unreachable
from tests.support.pgcluster import PrivatePostgres


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    try:
        pg = PrivatePostgres(free_port()).start()
    except Unreachable as exc:
        pytest.skip(str(exc))
    try:
        yield pg
    finally:
        pg.close()


async def test_writes_recover_after_a_postgres_restart(private_postgres: PrivatePostgres, tmp_path: Path) -> None:
    server = ServerProcess(private_postgres.url, tmp_path / "server.log").start()
    acked: list[int] = []
    refused = 0

    async def writer(i: int) -> None:
        nonlocal refused
        async with connect(server.url, "restart", name=f"w{i}") as board:
            for n in range(40):
                while True:
                    try:
                        acked.append((await board.create(f"w{i}-{n}"))["id"])
                        break
                    except NotesError:  # `unavailable` while the database restarts: the same create again
                        refused += 1
                        await asyncio.sleep(0.1)
                await asyncio.sleep(0.01)

    try:
        writers = [asyncio.create_task(writer(i)) for i in range(6)]
        await asyncio.sleep(0.3)
        started = time.monotonic()
        await asyncio.to_thread(private_postgres.restart)
        restarted = time.monotonic() - started
        done, pending = await asyncio.wait(writers, timeout=60)
        assert not pending, "a writer never left its `async with connect(...)` block"
        for task in done:
            task.result()
        assert len(acked) == 240 and len(set(acked)) == 240
        reply = httpx.get(f"{server.url}/api/boards/restart/notes", params={"limit": 1000})
        assert reply.status_code == 200, reply.text  # the first read after the restart is served too
        stored = reply.json()["notes"]
        assert {n["id"] for n in stored} == set(acked)  # every acknowledged note survived, none twice
        assert len({n["text"] for n in stored}) == 240
        log = (tmp_path / "server.log").read_text()
        if refused:  # a batch was in flight when the connections were cut: the log names the cause
            assert "the database connection was lost" in log, log[-2000:]
        assert "Traceback" not in log and restarted < 30
    finally:
        server.stop()
