"""Hardening against real attacks and faults: tokens, Origins, connection and rate limits, metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from notesboard.core.auth import mint
from tests.helpers import connect
from tests.support import ServerProcess, sqlite_url
from tests.support.cli import run as run_command

SECRET = "test-secret-of-sufficient-length-for-hs256"


def _server(tmp: Path, **env: str) -> ServerProcess:
    return ServerProcess(sqlite_url(tmp / "notes.db"), tmp / "server.log", env=env).start()


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = _server(
        tmp_path_factory.mktemp("secure"),
        NOTESBOARD_AUTH_SECRET=SECRET,
        NOTESBOARD_ALLOWED_ORIGINS="https://notes.example.com",
    )
    yield srv
    srv.stop()


def refused_status(server: ServerProcess, board: str, headers: dict[str, str] | None = None, **query: str) -> int:
    async def attempt() -> int:
        try:
            async with websockets.connect(server.ws_url(board, **query), additional_headers=headers, open_timeout=5):
                return 101
        except websockets.InvalidStatus as exc:
            return exc.response.status_code

    return asyncio.run(attempt())


def test_socket_needs_a_valid_token_for_the_board(secure: ServerProcess) -> None:
    assert refused_status(secure, "team-a") == 401
    assert refused_status(secure, "team-a", token="garbage") == 401
    assert refused_status(secure, "team-a", token=mint("other-secret-other-secret-other!!", "*", "write", 60)) == 401
    assert refused_status(secure, "team-a", token=mint(SECRET, "team-a", "write", -5)) == 401  # expired
    assert refused_status(secure, "team-a", token=mint(SECRET, "team-b*", "write", 60)) == 403
    assert refused_status(secure, "team-a", token=mint(SECRET, "team-*", "read", 60)) == 101


def test_tokens_and_refusal_noise_stay_out_of_the_log(secure: ServerProcess) -> None:
    token = mint(SECRET, "logged", "read", 60)
    assert refused_status(secure, "logged", token=token) == 101
    assert refused_status(secure, "logged", token="not-a-real-token") == 401
    log = secure.log()
    assert "token=***" in log
    assert token not in log and "not-a-real-token" not in log
    assert "without completing handshake" not in log


async def test_read_token_reads_but_cannot_write(secure: ServerProcess) -> None:
    writer = mint(SECRET, "ro-*", "write", 60)
    reader = mint(SECRET, "ro-*", "read", 60)
    async with connect(secure, "ro-board", token=writer) as w, connect(secure, "ro-board", token=reader) as r:
        ack = await w.request({"type": "create", "text": "visible", "client_id": "w1"})
        assert ack["type"] == "ack"
        assert (await r.recv_type("event"))["note"]["text"] == "visible"
        for frame in (
            {"type": "create", "text": "nope", "client_id": "r1"},
            {"type": "update", "id": ack["note"]["id"], "text": "nope", "client_id": "r2"},
            {"type": "delete", "id": ack["note"]["id"], "client_id": "r3"},
        ):
            err = await r.request(frame)
            assert err["type"] == "error" and err["code"] == "forbidden"
        await r.ping()
    page = httpx.get(f"{secure.url}/api/boards/ro-board/notes", headers={"Authorization": f"Bearer {reader}"}).json()
    assert [n["text"] for n in page["notes"]] == ["visible"]


async def test_live_socket_is_closed_1008_when_its_token_expires(secure: ServerProcess) -> None:
    async with connect(secure, "expiring", token=mint(SECRET, "expiring", "read", 2)) as c:
        with pytest.raises(websockets.ConnectionClosed) as info:
            await c.recv_type("never", timeout=8)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1008


def test_rest_needs_tokens_and_write_role(secure: ServerProcess) -> None:
    url = f"{secure.url}/api/boards/rest-auth/notes"
    assert httpx.get(url).status_code == 401
    assert httpx.post(url, json={"text": "x"}).json()["error"]["code"] == "forbidden"
    read = {"Authorization": f"Bearer {mint(SECRET, 'rest-*', 'read', 60)}"}
    write = {"Authorization": f"Bearer {mint(SECRET, 'rest-*', 'write', 60)}"}
    assert httpx.post(url, json={"text": "x"}, headers=read).status_code == 403
    assert httpx.post(url, json={"text": "x"}, headers=write).status_code == 201
    assert httpx.get(url, headers=read).status_code == 200
    other = {"Authorization": f"Bearer {mint(SECRET, 'other-*', 'write', 60)}"}
    assert httpx.post(url, json={"text": "x"}, headers=other).status_code == 403
    boards = httpx.get(f"{secure.url}/api/boards", headers=other).json()
    assert all(b["board"].startswith("other-") for b in boards)
    assert any(b["board"] == "rest-auth" for b in httpx.get(f"{secure.url}/api/boards", headers=write).json())


def test_token_command_mints_a_working_token(secure: ServerProcess) -> None:
    r = run_command("token", "cli-*", "--role", "write", "--ttl", "10m", "--secret", SECRET)
    assert r.returncode == 0, r.stderr
    headers = {"Authorization": f"Bearer {r.stdout.strip()}"}
    assert httpx.post(f"{secure.url}/api/boards/cli-x/notes", json={"text": "t"}, headers=headers).status_code == 201
    r = run_command("token", "b", "--ttl", "soon", "--secret", SECRET)
    assert r.returncode == 1 and "--ttl" in r.stderr


def test_foreign_origins_are_refused(secure: ServerProcess) -> None:
    token = mint(SECRET, "*", "write", 60)
    assert refused_status(secure, "o", {"Origin": "https://evil.example"}, token=token) == 403
    assert refused_status(secure, "o", {"Origin": "https://notes.example.com"}, token=token) == 101
    assert refused_status(secure, "o", {"Origin": f"http://127.0.0.1:{secure.port}"}, token=token) == 101
    headers = {"Authorization": f"Bearer {token}", "Origin": "https://evil.example"}
    r = httpx.post(f"{secure.url}/api/boards/o/notes", json={"text": "csrf"}, headers=headers)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = _server(
        tmp_path_factory.mktemp("limited"),
        NOTESBOARD_MAX_CONNECTIONS="6",
        NOTESBOARD_MAX_CONNECTIONS_PER_IP="4",
        # A slow refill (5/s) so that "over the burst" does not depend on how fast this machine sends: at 50/s
        # a loaded run refilled the bucket while the test was still sending, and its create was accepted.
        NOTESBOARD_RATE_LIMIT="5",
        NOTESBOARD_RATE_BURST="20",
        NOTESBOARD_MAX_BOARDS="3",
    )
    yield srv
    srv.stop()


async def test_connections_per_address_are_capped(limited: ServerProcess) -> None:
    conns = [await websockets.connect(limited.ws_url("cap")) for _ in range(4)]
    try:
        with pytest.raises(websockets.InvalidStatus) as info:
            await websockets.connect(limited.ws_url("cap"), open_timeout=5)
        assert info.value.response.status_code == 429
    finally:
        for c in conns:
            await c.close()
    await asyncio.sleep(0.3)
    async with connect(limited, "cap") as c:  # freed again
        await c.ping()


async def _open_together(server: ServerProcess, board: str, sources: list[str]) -> tuple[list[Any], list[int]]:
    """Handshakes from `sources` (loopback addresses) all at once: the sockets opened and the refusal statuses."""

    async def one(source: str) -> Any:
        return await websockets.connect(server.ws_url(board), open_timeout=10, local_addr=(source, 0))

    results = await asyncio.gather(*(one(s) for s in sources), return_exceptions=True)
    opened = [r for r in results if not isinstance(r, BaseException)]
    refused = [r.response.status_code for r in results if isinstance(r, websockets.InvalidStatus)]
    assert len(opened) + len(refused) == len(sources), results  # nothing else went wrong
    return opened, refused


async def _all_places_given_back(server: ServerProcess) -> None:
    """Wait until the server counts no socket against its caps (a closed socket's place is given back when its
    endpoint returns, a moment after the client's close completes)."""
    deadline = time.monotonic() + 10
    while True:
        metrics = httpx.get(f"{server.url}/metrics").text
        if "\nnotesboard_connections_admitted 0.0" in metrics:
            return
        assert time.monotonic() < deadline, "sockets still counted 10 s after they closed"
        await asyncio.sleep(0.02)


async def test_handshakes_arriving_together_never_pass_the_caps(limited: ServerProcess) -> None:
    """The caps count a socket at admission: 10 handshakes at once from one address open exactly 4 (the
    per-address cap), and 12 from four addresses exactly 6 (the process's cap), the rest refused."""
    await _all_places_given_back(limited)
    opened, refused = await _open_together(limited, "together", ["127.0.0.1"] * 10)
    try:
        assert len(opened) == 4 and refused == [429] * 6
    finally:
        await asyncio.gather(*(c.close() for c in opened))
    await _all_places_given_back(limited)
    sources = [f"127.0.0.{2 + i % 4}" for i in range(12)]
    opened, refused = await _open_together(limited, "together", sources)
    try:
        assert len(opened) == 6 and sorted(set(refused)) == [503] and len(refused) == 6
    finally:
        await asyncio.gather(*(c.close() for c in opened))
    await _all_places_given_back(limited)  # and the module's next tests find every place free


async def test_rate_limit_answers_rate_limited_then_closes_abusers(limited: ServerProcess) -> None:
    async with connect(limited, "flood") as c:
        for _ in range(30):  # 20 allowed (the burst), 10 refused: not yet "sustained" abuse
            await c.send({"type": "ping"})
        await c.send({"type": "create", "text": "t", "client_id": "limited-1"})  # still over: refused
        err = await c.recv_type("error")
        assert err["code"] == "rate_limited"
        err = await c.recv_until(lambda f: f.get("client_id") == "limited-1")
        assert err["code"] == "rate_limited"  # the refusal names the request it refused
        await asyncio.sleep(1.0)  # the bucket refills (5 tokens): a polite client is served again
        c._pending.clear()
        await c.ping()
        with pytest.raises(websockets.ConnectionClosed) as info:
            for _ in range(2000):
                await c.send({"type": "ping"})
            await c.recv_type("never", timeout=5)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1008


def test_board_count_is_capped(limited: ServerProcess) -> None:
    for board in ("b1", "b2", "b3"):
        assert httpx.post(f"{limited.url}/api/boards/{board}/notes", json={"text": "x"}).status_code == 201
    r = httpx.post(f"{limited.url}/api/boards/b4/notes", json={"text": "x"})
    assert r.status_code == 403 and "limit" in r.json()["error"]["message"]
    assert httpx.post(f"{limited.url}/api/boards/b1/notes", json={"text": "still fine"}).status_code == 201


def test_metrics_are_exposed(limited: ServerProcess) -> None:
    httpx.post(f"{limited.url}/api/boards/b1/notes", content=b"not json")
    text = httpx.get(f"{limited.url}/metrics").text
    for name in (
        "notesboard_connections",
        "notesboard_events_delivered_total",
        "notesboard_writes_committed_total",
        "notesboard_queue_overflows_total",
        "notesboard_write_seconds_bucket",
        'notesboard_errors_total{code="bad_request"}',
    ):
        assert name in text, name


async def test_shutdown_is_bounded_even_with_a_stalled_reader(tmp_path: Path) -> None:
    import socket

    server = _server(tmp_path, NOTESBOARD_SHUTDOWN_TIMEOUT="2")
    try:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        stalled = await websockets.connect(server.ws_url("bounded"), sock=sock, max_queue=1)
        async with connect(server, "bounded") as w:
            for i in range(300):
                await w.send({"type": "create", "text": "z" * 2000, "client_id": f"z{i}"})
                if i % 50 == 49:  # read our own acks and events as we go: a polite client
                    await w.recv_until(lambda f, i=i: f["type"] == "ack" and f["client_id"] == f"z{i}", 20)
        started = time.monotonic()
        server.stop(timeout=30)
        assert time.monotonic() - started < 15
        stalled.transport.abort()
    finally:
        server.kill()  # never leave a server behind, whatever failed above
