"""Faults for real: SIGKILL mid-stream, the database cut off behind a TCP proxy, SQLite locked by another process."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import connect
from tests.support import Database, ServerProcess, sqlite_url
from tests.support.databases import postgres_port
from tests.support.proxy import CuttableProxy


async def test_sigkill_mid_stream_keeps_every_acked_note_once(fresh_server: ServerProcess) -> None:
    server = fresh_server.start()
    acked: dict[str, int] = {}
    async with connect(server, "crash-stream") as c:
        for i in range(2000):
            await c.send({"type": "create", "text": f"k{i}", "client_id": f"k{i}"})
            if i % 50 == 49:
                while f"k{i - 25}" not in acked:  # keep ~25 in flight, and kill while they are
                    f = await c.recv(timeout=10)
                    if f["type"] == "ack":
                        acked[f["client_id"]] = f["seq"]
            if len(acked) >= 600:
                break
        server.kill()
    assert len(acked) >= 600
    server.start()
    page = httpx.get(f"{server.url}/api/boards/crash-stream/notes", params={"limit": 10000}).json()
    texts = [n["text"] for n in page["notes"]]
    assert len(texts) == len(set(texts)), "a note was stored twice"
    assert set(acked) <= set(texts), "an acknowledged note was lost"
    assert [n["seq"] for n in page["notes"]] == list(range(1, page["seq"] + 1))
    for n in page["notes"]:
        if n["text"] in acked:
            assert n["seq"] == acked[n["text"]]


@pytest.fixture
def proxied_postgres(tmp_path: Path) -> Iterator[tuple[ServerProcess, CuttableProxy]]:
    db = Database("postgres", tmp_path)
    port = postgres_port()
    proxy = CuttableProxy(port)
    server = ServerProcess(db.url.replace(f":{port}/", f":{proxy.port}/"), tmp_path / "server.log")
    try:
        yield server.start(), proxy
    finally:
        server.kill()
        proxy.close()
        db.drop()


def wait_for(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


async def test_postgres_outage_gives_unavailable_and_recovers(
    proxied_postgres: tuple[ServerProcess, CuttableProxy],
) -> None:
    server, proxy = proxied_postgres
    api = f"{server.url}/api/boards/outage/notes"
    async with connect(server, "outage") as c:
        assert (await c.request({"type": "create", "text": "before", "client_id": "b"}))["type"] == "ack"
        proxy.cut()
        err = await c.request({"type": "create", "text": "during", "client_id": "d"}, timeout=30)
        assert err["type"] == "error" and err["code"] == "unavailable"
        r = httpx.post(api, json={"text": "during-rest"}, timeout=30)
        assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"
        assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 503
        await c.ping()  # the socket and the server stay up
        proxy.restore()
        assert wait_for(lambda: httpx.get(f"{server.url}/healthz", timeout=30).status_code == 200, 30)
        ack = await c.request({"type": "create", "text": "during", "client_id": "d"}, timeout=30)
        assert ack["type"] == "ack" and ack["seq"] == 2
    notes = httpx.get(api).json()["notes"]
    assert [n["text"] for n in notes] == ["before", "during"]


def test_sqlite_locked_past_the_busy_timeout_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    server = ServerProcess(sqlite_url(path), tmp_path / "server.log", env={"NOTESBOARD_BUSY_TIMEOUT": "0.5"}).start()
    try:
        api = f"{server.url}/api/boards/locked/notes"
        assert httpx.post(api, json={"text": "one"}).status_code == 201
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        r = httpx.post(api, json={"text": "two"}, timeout=30)
        assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"
        assert httpx.get(api).status_code == 200  # reads still work (WAL)
        other.execute("ROLLBACK")
        other.close()
        assert httpx.post(api, json={"text": "two"}).status_code == 201
        assert [n["seq"] for n in httpx.get(api).json()["notes"]] == [1, 2]
    finally:
        server.stop()
