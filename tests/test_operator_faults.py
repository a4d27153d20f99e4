"""Faults an operator meets, on the real thing: a full disk, the database file deleted or replaced under a
running server, Postgres connections killed during load (docs/deploy.md, section "When things go wrong")."""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.fsmount import tmpfs
from tests.helpers import ServerProcess, connect
from tests.support import POSTGRES_ADMIN, Database, sqlite_url


def fill(disk: Path) -> Path:
    """Write a file until the file system is full; returns it (delete it to give the space back)."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 4096, 512, 1):  # unbuffered, smaller and smaller: not one byte left
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)
    return filler


def notes_of(server: ServerProcess, board: str) -> list[dict[str, object]]:
    page = httpx.get(f"{server.url}/api/boards/{board}/notes", params={"limit": 10000}, timeout=10).json()
    return page["notes"]  # type: ignore[no-any-return]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "disk", "2m") as disk:
        yield disk


async def test_disk_full_gives_unavailable_loses_nothing_and_recovers(small_disk: Path, tmp_path: Path) -> None:
    db = small_disk / "notes.db"
    server = ServerProcess(sqlite_url(db), tmp_path / "server.log").start()
    api = f"{server.url}/api/boards/full/notes"
    acked: list[str] = []
    try:
        for i in range(5):
            r = httpx.post(api, json={"text": f"before {i}"}, timeout=10)
            assert r.status_code == 201
            acked.append(f"before {i}")
        filler = fill(small_disk)
        statuses = []
        for i in range(30):  # a page of text each: whatever room is left in the WAL runs out at once
            r = httpx.post(api, json={"text": f"full {i} " + "x" * 4000}, timeout=30)
            statuses.append(r.status_code)
            if r.status_code == 201:
                acked.append(r.json()["text"])
            else:
                assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable", r.text
        assert statuses.count(503) >= 20, statuses
        async with connect(server, "full") as c:
            err = await c.request({"type": "create", "text": "y" * 4000, "client_id": "full-ws"}, timeout=30)
            assert err["type"] == "error" and err["code"] == "unavailable"
            assert notes_of(server, "full")  # reads still work
            filler.unlink()  # space returns: no restart, no operator action
            deadline = time.monotonic() + 20
            while True:
                ack = await c.request({"type": "create", "text": "after", "client_id": "after"}, timeout=30)
                if ack["type"] == "ack" or time.monotonic() > deadline:
                    break
            assert ack["type"] == "ack", ack
            acked.append("after")
        for i in range(10):
            assert httpx.post(api, json={"text": f"later {i}"}, timeout=10).status_code == 201
            acked.append(f"later {i}")
        texts = [n["text"] for n in notes_of(server, "full")]
        assert set(acked) <= set(texts) and len(texts) == len(set(texts))
        server.stop()
        check = sqlite3.connect(db)
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        check.close()
        server.start()
        after = notes_of(server, "full")
        assert set(acked) <= {n["text"] for n in after}
        assert [n["seq"] for n in after] == list(range(1, len(after) + 1))  # no hole, nothing twice
    finally:
        server.stop()


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_database_file_deleted_or_replaced_is_detected(tmp_path: Path, how: str) -> None:
    db = tmp_path / "notes.db"
    server = ServerProcess(sqlite_url(db), tmp_path / "server.log").start()
    api = f"{server.url}/api/boards/gone/notes"
    try:
        assert httpx.post(api, json={"text": "kept"}).status_code == 201
        if how == "deleted":
            db.unlink()
        else:
            other = tmp_path / "other.db"
            sqlite3.connect(other).close()
            shutil.move(other, db)  # a rename over it: another inode at the same path
        health = httpx.get(f"{server.url}/healthz")
        assert health.status_code == 503 and health.json()["status"] == "unavailable"
        r = httpx.post(api, json={"text": "would be lost"})
        assert r.status_code == 503 and "database file" in r.json()["error"]["message"]
        assert httpx.get(f"{server.url}/healthz").status_code == 503
        lines = [line for line in server.log().splitlines() if f"database file {db}" in line]
        assert len(lines) == 1, server.log()  # one clear line, not one per request
        assert how in lines[0] and "restart" in lines[0] and "ERROR" in lines[0]
    finally:
        server.stop()


async def _terminate_server_backends(database: str) -> int:
    conn = await asyncpg.connect(POSTGRES_ADMIN, timeout=5)
    try:
        rows = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
        return len(rows)
    finally:
        await conn.close()


@pytest.fixture
def pg_server(tmp_path: Path) -> Iterator[tuple[ServerProcess, Database]]:
    db = Database("postgres", tmp_path)
    server = ServerProcess(db.url, tmp_path / "server.log").start()
    yield server, db
    server.kill()
    db.drop()


async def test_postgres_connections_killed_during_load_lose_no_acked_note(
    pg_server: tuple[ServerProcess, Database],
) -> None:
    """`pg_terminate_backend` on every connection of the server, five times during a write load: what a
    Postgres restart does to the server, without restarting the machine's shared Postgres."""
    server, db = pg_server
    acked: dict[str, int] = {}
    refused = 0
    stop = asyncio.Event()

    async def writer(name: str) -> None:
        nonlocal refused
        async with connect(server, "pgkill") as c:
            i = 0
            while not stop.is_set():
                cid = f"{name}-{i}"
                reply = await c.request({"type": "create", "text": cid, "client_id": cid}, timeout=30)
                if reply["type"] == "ack":
                    acked[cid] = reply["seq"]
                    i += 1
                else:
                    assert reply["code"] == "unavailable", reply
                    refused += 1  # retried with the same client_id: at most once in the database
                    await asyncio.sleep(0.05)

    tasks = [asyncio.create_task(writer(f"w{n}")) for n in range(3)]
    try:
        killed = 0
        for _ in range(5):
            target = len(acked) + 30
            while len(acked) < target:  # writes go on between the cuts
                await asyncio.sleep(0.02)
                assert not any(t.done() for t in tasks), [t.exception() for t in tasks if t.done()]
            killed += await _terminate_server_backends(db.name)
        target = len(acked) + 30
        while len(acked) < target:  # and resume after the last one, with no restart
            await asyncio.sleep(0.02)
            assert not any(t.done() for t in tasks), [t.exception() for t in tasks if t.done()]
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert killed >= 5
    assert refused >= 1  # the cuts were felt: writes in flight got `unavailable` and were retried
    assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
    notes = notes_of(server, "pgkill")
    texts = [n["text"] for n in notes]
    assert set(acked) <= set(texts) and len(texts) == len(set(texts))
    assert [n["seq"] for n in notes] == list(range(1, len(notes) + 1))
    by_text = {n["text"]: n["seq"] for n in notes}
    assert all(by_text[cid] == seq for cid, seq in acked.items())
