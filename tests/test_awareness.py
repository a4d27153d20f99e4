"""Awareness on one server process (issue #21): real server, real sockets. Cluster cases: test_awareness_cluster."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from notesboard.core.auth import mint
from tests.helpers import Client, connect
from tests.support import ServerProcess, sqlite_url

SECRET = "test-secret-of-sufficient-length-for-hs256"
Frame = dict[str, Any]


def _server(tmp: Path, **env: str) -> ServerProcess:
    return ServerProcess(sqlite_url(tmp / "notes.db"), tmp / "server.log", env=env).start()


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = _server(tmp_path_factory.mktemp("aware"))
    yield server
    server.stop()


def is_aware(frame: Frame) -> bool:
    return frame["type"] == "awareness"


def entry(frame: Frame, peer: str) -> Frame | None:
    return next((p for p in frame["peers"] if p["peer"] == peer), None)


async def peer_of(watcher: Client, name: str) -> str:
    """The peer id the watcher was told for the connection called `name`."""
    frame = await watcher.recv_until(lambda f: is_aware(f) and any(p["name"] == name for p in f["peers"]))
    return str(next(p["peer"] for p in frame["peers"] if p["name"] == name))


async def until_state(watcher: Client, peer: str, key: str, value: Any, timeout: float = 5.0) -> Frame:
    def seen(f: Frame) -> bool:
        found = entry(f, peer) if is_aware(f) else None
        return found is not None and found[key] == value

    return await watcher.recv_until(seen, timeout)


def metric(server: ServerProcess, name: str, label: str = "") -> float:
    text = httpx.get(f"{server.url}/metrics").text
    found = re.search(rf"^{name}(?:_total)?{re.escape(label)} (\S+)$", text, re.M)
    assert found, f"{name}{label} not in /metrics"
    return float(found.group(1))


async def test_full_frame_after_snapshot_then_join_and_no_own_echo(srv: ServerProcess) -> None:
    async with connect(srv, "aw-join", name="alice") as a:
        first = await a.recv()
        assert first == {"type": "awareness", "peers": [], "gone": []}  # the full frame, nobody else yet
        async with connect(srv, "aw-join", name="bob") as b:
            full = await b.recv()
            assert is_aware(full) and [p["name"] for p in full["peers"]] == ["alice"]
            alice = full["peers"][0]
            assert alice["cursor"] is None and alice["selected"] == [] and alice["editing"] is None
            assert re.fullmatch(r"#[0-9a-f]{6}", alice["color"])
            bob = await peer_of(a, "bob")
            await b.send({"type": "awareness", "cursor": {"x": 5, "y": 6}})
            await until_state(a, bob, "cursor", {"x": 5, "y": 6})
            await a.send({"type": "awareness", "cursor": {"x": 1, "y": 1}})
            await until_state(b, alice["peer"], "cursor", {"x": 1, "y": 1})
            # Bob never hears of himself: everything he got names alice only.
            await b.ping()
            assert all(p["peer"] != bob for f in b._pending if is_aware(f) for p in f["peers"])
            assert bob != alice["peer"]
            assert entry(full, alice["peer"]) is not None


async def test_colours_differ_among_the_first_twelve(srv: ServerProcess) -> None:
    clients = [await Client.open(srv.url, "aw-colours", name=f"p{i}") for i in range(12)]
    try:
        last = clients[-1]
        full = await last.recv_until(is_aware)
        colours = [p["color"] for p in full["peers"]] + [None]
        seen_last = await clients[0].recv_until(lambda f: is_aware(f) and any(p["name"] == "p11" for p in f["peers"]))
        colours[-1] = next(p["color"] for p in seen_last["peers"] if p["name"] == "p11")
        assert len(colours) == 12 and len(set(colours)) == 12
    finally:
        for c in clients:
            await c.close()


async def test_a_tick_coalesces_to_the_newest_state(srv: ServerProcess) -> None:
    async with connect(srv, "aw-tick", name="a") as a, connect(srv, "aw-tick", name="b") as b:
        bob = await peer_of(a, "b")
        await b.recv_until(is_aware)
        for x in range(8):  # within the burst: none is dropped for rate
            await b.send({"type": "awareness", "cursor": {"x": x, "y": 0}, "selected": [x + 1]})
        await until_state(a, bob, "cursor", {"x": 7, "y": 0})
        got = [f for f in a._pending if is_aware(f) and entry(f, bob)]
        await a.ping()
        later = [f for f in a._pending if is_aware(f) and entry(f, bob)]
        # 8 frames sent inside (at most) two ticks reach the other side as at most two entries, the last the newest.
        assert len(got) + len(later) <= 1
        assert metric(srv, "notesboard_awareness_frames_in") >= 8


async def test_gone_on_close(srv: ServerProcess) -> None:
    async with connect(srv, "aw-gone", name="a") as a:
        b = await Client.open(srv.url, "aw-gone", name="b")
        bob = await peer_of(a, "b")
        await b.close()
        gone = await a.recv_until(lambda f: is_aware(f) and bob in f["gone"], timeout=2.0)
        assert entry(gone, bob) is None


BAD: list[Any] = [
    {"cursor": {"x": 1e7, "y": 0}},
    {"cursor": {"x": -1000001, "y": 0}},
    {"cursor": {"x": "1", "y": 0}},
    {"cursor": {"x": True, "y": 0}},
    {"cursor": {"x": 1}},
    {"cursor": [1, 2]},
    {"editing": "7"},
    {"editing": 0},
    {"editing": 999999},  # not a note on this board
    {"selected": list(range(1, 1002))},
    {"selected": "1,2"},
    {"selected": [1, "2"]},
    {"view": {"x": 0, "y": 0, "w": -1, "h": 10}},
    {"view": {"x": 0, "y": 0, "w": 10}},
    {"view": 5},
]


async def test_bad_input_is_bad_request_and_not_relayed(srv: ServerProcess) -> None:
    async with connect(srv, "aw-bad", name="a") as a, connect(srv, "aw-bad", name="b") as b:
        bob = await peer_of(a, "b")
        await b.recv_until(is_aware)
        for i, bad in enumerate(BAD):
            await asyncio.sleep(0.11)  # two frames per 0.11 s: the rate limit is not what is tested here
            await b.send({"type": "awareness", **bad})
            error = await b.recv_type("error")
            assert error["code"] == "bad_request", (bad, error)
            await b.send({"type": "awareness", "cursor": {"x": i, "y": -1}})
            await until_state(a, bob, "cursor", {"x": i, "y": -1})
        # A number JSON cannot hold (1e999) is not valid JSON: bad_request too.
        await b.send('{"type":"awareness","cursor":{"x":1e999,"y":0}}')
        assert (await b.recv_type("error"))["code"] == "bad_request"
        # Nothing bad ever reached a: every entry it saw for bob holds only sane values.
        await a.ping()
        for f in a._pending:
            if is_aware(f) and (e := entry(f, bob)):
                assert e["cursor"]["y"] == -1 and e["selected"] == [] and e["view"] is None and e["editing"] is None
        assert metric(srv, "notesboard_awareness_dropped", '{reason="invalid"}') >= len(BAD)


async def test_unknown_keys_are_ignored(srv: ServerProcess) -> None:
    async with connect(srv, "aw-unknown", name="a") as a, connect(srv, "aw-unknown", name="b") as b:
        bob = await peer_of(a, "b")
        await b.send({"type": "awareness", "cursor": {"x": 3, "y": 4}, "colour": "#000000", "mood": "happy"})
        seen = await until_state(a, bob, "cursor", {"x": 3, "y": 4})
        assert set(entry(seen, bob) or {}) == {"peer", "name", "color", "cursor", "editing", "selected", "view"}


async def test_editing_a_note_of_this_board_only(srv: ServerProcess) -> None:
    async with connect(srv, "aw-edit", name="a") as a, connect(srv, "aw-edit", name="b") as b:
        bob = await peer_of(a, "b")
        mine = (await b.request({"type": "create", "text": "x", "client_id": "c1"}))["note"]["id"]
        other = httpx.post(f"{srv.url}/api/boards/aw-edit-other/notes", json={"text": "y"}).json()["id"]
        await b.send({"type": "awareness", "editing": other})
        assert (await b.recv_type("error"))["code"] == "bad_request"
        await asyncio.sleep(0.06)
        await b.send(
            {"type": "awareness", "editing": mine, "selected": [mine], "view": {"x": 0, "y": 0, "w": 800, "h": 600}}
        )
        seen = await until_state(a, bob, "editing", mine)
        assert entry(seen, bob) == {
            **(entry(seen, bob) or {}),
            "selected": [mine],
            "view": {"x": 0, "y": 0, "w": 800, "h": 600},
        }
        await asyncio.sleep(0.06)
        await b.send({"type": "awareness", "editing": None, "selected": None})  # null clears (and [] too)
        cleared = await until_state(a, bob, "editing", None)
        assert (entry(cleared, bob) or {})["selected"] == []


async def test_over_twenty_a_second_is_dropped_never_an_error(srv: ServerProcess) -> None:
    async with connect(srv, "aw-rate", name="a") as a, connect(srv, "aw-rate", name="b") as b:
        bob = await peer_of(a, "b")
        before = metric(srv, "notesboard_awareness_dropped", '{reason="rate"}')
        for x in range(60):
            await b.send({"type": "awareness", "cursor": {"x": x, "y": 0}})
        await b.ping()
        assert not [f for f in b._pending if f["type"] == "error"]
        assert metric(srv, "notesboard_awareness_dropped", '{reason="rate"}') - before >= 40
        await asyncio.sleep(0.2)  # tokens come back: the next frame is relayed
        await b.send({"type": "awareness", "cursor": {"x": -5, "y": 0}})
        await until_state(a, bob, "cursor", {"x": -5, "y": 0})


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = _server(tmp_path_factory.mktemp("aware-secure"), NOTESBOARD_AUTH_SECRET=SECRET)
    yield srv
    srv.stop()


async def test_read_only_token_may_send_awareness(secure: ServerProcess) -> None:
    writer, reader = mint(SECRET, "*", "write", 60), mint(SECRET, "*", "read", 60)
    async with (
        connect(secure, "aw-ro", name="w", token=writer) as w,
        connect(secure, "aw-ro", name="r", token=reader) as r,
    ):
        reader_peer = await peer_of(w, "r")
        await r.send({"type": "awareness", "cursor": {"x": 9, "y": 9}})
        await until_state(w, reader_peer, "cursor", {"x": 9, "y": 9})


async def test_expired_token_stops_being_relayed(secure: ServerProcess) -> None:
    async with connect(secure, "aw-exp", name="w", token=mint(SECRET, "*", "write", 60)) as w:
        short = await Client.open(secure.url, "aw-exp", name="short", token=mint(SECRET, "*", "write", 2))
        peer = await peer_of(w, "short")
        await w.recv_until(lambda f: is_aware(f) and peer in f["gone"], timeout=5.0)
        await short.close()


async def test_awareness_off(tmp_path: Path) -> None:
    srv = _server(tmp_path, NOTESBOARD_AWARENESS="false")
    try:
        async with connect(srv, "aw-off", name="a") as a, connect(srv, "aw-off", name="b") as b:
            await b.send({"type": "awareness", "cursor": {"x": 1, "y": 1}})
            await b.send({"type": "awareness", "cursor": "nonsense"})  # ignored as a whole: not even checked
            await b.ping()
            await a.ping()
            assert not [f for f in a._pending + b._pending if f["type"] in ("awareness", "error")]
            assert metric(srv, "notesboard_awareness_dropped", '{reason="off"}') == 2
    finally:
        srv.stop()


async def test_a_slow_reader_keeps_only_the_newest_state_and_is_not_closed(tmp_path: Path) -> None:
    """Awareness far beyond the outbox bound (64 KiB here) while one client does not read: no 1013, the change
    made meanwhile arrives, and then each peer's newest state."""
    import orjson
    import websockets

    srv = _server(tmp_path, NOTESBOARD_QUEUE_BYTES=str(64 * 1024))
    try:
        slow = await websockets.connect(srv.ws_url("aw-slow", name="slow"), max_queue=1, max_size=None)
        assert orjson.loads(await slow.recv())["type"] == "snapshot"
        assert orjson.loads(await slow.recv())["type"] == "awareness"
        senders = [await Client.open(srv.url, "aw-slow", name=f"s{i}") for i in range(4)]
        big = [10**17 + i for i in range(1000)]  # ~19 KB per entry: 4 peers at 20 Hz is ~1.5 MB/s to `slow`
        last = 0
        for k in range(60):  # 3 s at 20 Hz, `slow` reading nothing
            for s in senders:
                await s.send({"type": "awareness", "cursor": {"x": k, "y": 0}, "selected": big})
            if k == 30:
                note = httpx.post(f"{srv.url}/api/boards/aw-slow/notes", json={"text": "meanwhile"}).json()
            last = k
            await asyncio.sleep(0.05)
        newest: dict[str, int] = {}
        event_seen = False
        received = 0
        while len(newest) < 4 or min(newest.values()) < last or not event_seen:
            frame = orjson.loads(await asyncio.wait_for(slow.recv(), 10))
            received += 1
            if frame["type"] == "event":
                event_seen = event_seen or frame["note"]["id"] == note["id"]
            elif frame["type"] == "awareness":
                for p in frame["peers"]:
                    newest[p["name"]] = p["cursor"]["x"] if p["cursor"] else -1
        assert event_seen and newest == {f"s{i}": last for i in range(4)}
        await slow.send('{"type":"ping"}')
        assert orjson.loads(await asyncio.wait_for(slow.recv(), 5))["type"] in ("pong", "awareness")
        assert metric(srv, "notesboard_queue_overflows") == 0
        await slow.close()
        for s in senders:
            await s.close()
    finally:
        srv.stop()


async def wait_for(check: Any, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_python_client_board_awareness(srv: ServerProcess) -> None:
    from notesboard import client

    async with client.connect(srv.url, "aw-client", name="ann") as ann:
        async with client.connect(srv.url, "aw-client", name="ben") as ben:
            await wait_for(lambda: [p["name"] for p in ann.awareness.values()] == ["ben"])
            await ben.aware(cursor={"x": 1.5, "y": -2}, view={"x": 0, "y": 0, "w": 100, "h": 50})
            await wait_for(lambda: next(iter(ann.awareness.values()))["cursor"] == {"x": 1.5, "y": -2})
            await ben.aware(cursor=None)  # None clears; the view is kept
            await wait_for(lambda: next(iter(ann.awareness.values()))["cursor"] is None)
            assert next(iter(ann.awareness.values()))["view"] == {"x": 0, "y": 0, "w": 100, "h": 50}
            assert [p["name"] for p in ben.awareness.values()] == ["ann"]  # never itself
            with pytest.raises(ValueError):
                await ben.aware(cursor={"x": float("nan"), "y": 0})
        await wait_for(lambda: not ann.awareness)  # ben's socket closed: gone
