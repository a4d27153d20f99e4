"""The WebSocket endpoint against a real server: snapshot, acks, events, errors, resume, presence."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
import websockets

from tests.helpers import connect
from tests.support import ServerProcess

NOTE_KEYS = {
    "id",
    "board",
    "text",
    "author",
    "color",
    "x",
    "y",
    "version",
    "seq",
    "created_at",
    "updated_at",
    "deleted",
    "w",  # size and stacking, and who changed it last: docs/protocol.md, extensions
    "h",
    "z",
    "updated_by",
    "kind",  # "note" or "section" (protocol-collab, issue #23)
}


async def test_snapshot_is_the_first_frame(server: ServerProcess) -> None:
    async with connect(server, "snap-first") as c:
        snap = c.snapshot
        assert snap["type"] == "snapshot" and snap["board"] == "snap-first"
        assert snap["seq"] == 0 and snap["notes"] == [] and snap["presence"] == 1 and snap["reset"] is False
        assert isinstance(snap["epoch"], str) and snap["epoch"]


async def test_create_acks_sender_and_broadcasts_to_everyone(server: ServerProcess) -> None:
    async with connect(server, "create", name="alice") as a, connect(server, "create") as b:
        await a.send({"type": "create", "text": "hello", "client_id": "c-1", "color": "#AbCdEf", "x": 10, "y": -2.5})
        frames = [await a.recv_until(lambda f: f["type"] in ("ack", "event")) for _ in range(2)]
        ack = next(f for f in frames if f["type"] == "ack")
        event = next(f for f in frames if f["type"] == "event")
        note = ack["note"]
        assert set(note) == NOTE_KEYS
        assert ack["client_id"] == "c-1" and ack["seq"] == note["seq"] == 1
        assert note["author"] == "alice" and note["color"] == "#AbCdEf" and note["x"] == 10 and note["y"] == -2.5
        assert note["version"] == 1 and note["deleted"] is False
        assert note["created_at"].endswith(("Z", "+00:00"))
        assert event == {"type": "event", "op": "created", "seq": 1, "note": note}
        assert await b.recv_type("event") == event


async def test_seq_and_version_advance_on_update_and_delete(server: ServerProcess) -> None:
    async with connect(server, "seqs") as c:
        created = await c.request({"type": "create", "text": "a", "client_id": "k1"})
        nid = created["note"]["id"]
        updated = await c.request({"type": "update", "id": nid, "text": "b", "x": 5, "client_id": "k2"})
        assert updated["type"] == "ack" and updated["seq"] == 2 and updated["note"]["version"] == 2
        assert updated["note"]["text"] == "b" and updated["note"]["x"] == 5
        cleared = await c.request({"type": "update", "id": nid, "x": None, "color": "#000000", "client_id": "k3"})
        assert cleared["note"]["x"] is None and cleared["note"]["text"] == "b" and cleared["seq"] == 3
        deleted = await c.request({"type": "delete", "id": nid, "client_id": "k4"})
        assert deleted["type"] == "ack" and deleted["seq"] == 4 and deleted["note"]["deleted"] is True
        assert deleted["note"]["version"] == 4
        ops = []
        while len(ops) < 4:
            ev = await c.recv_type("event")
            ops.append((ev["op"], ev["seq"]))
        assert ops == [("created", 1), ("updated", 2), ("updated", 3), ("deleted", 4)]


async def test_stale_version_conflicts_and_socket_keeps_working(server: ServerProcess) -> None:
    async with connect(server, "conflict") as c:
        nid = (await c.request({"type": "create", "text": "v1", "client_id": "a"}))["note"]["id"]
        await c.request({"type": "update", "id": nid, "text": "v2", "version": 1, "client_id": "b"})
        err = await c.request({"type": "update", "id": nid, "text": "stale", "version": 1, "client_id": "c"})
        assert err["type"] == "error" and err["code"] == "conflict" and err["client_id"] == "c"
        err = await c.request({"type": "delete", "id": nid, "version": 1, "client_id": "d"})
        assert err["code"] == "conflict"
        ok = await c.request({"type": "update", "id": nid, "text": "fresh", "version": 2, "client_id": "e"})
        assert ok["type"] == "ack" and ok["note"]["text"] == "fresh" and ok["seq"] == 3
    page = httpx.get(f"{server.url}/api/boards/conflict/notes").json()
    assert [n["text"] for n in page["notes"]] == ["fresh"] and page["seq"] == 3


async def test_not_found_for_unknown_deleted_or_other_boards_note(server: ServerProcess) -> None:
    async with connect(server, "nf-a") as a, connect(server, "nf-b") as b:
        nid = (await a.request({"type": "create", "text": "mine", "client_id": "x1"}))["note"]["id"]
        err = await b.request({"type": "update", "id": nid, "text": "theirs", "client_id": "x2"})
        assert err["code"] == "not_found"
        err = await a.request({"type": "update", "id": 999_999, "text": "?", "client_id": "x3"})
        assert err["code"] == "not_found"
        await a.request({"type": "delete", "id": nid, "client_id": "x4"})
        for frame in ({"type": "delete", "id": nid}, {"type": "update", "id": nid, "text": "zombie"}):
            err = await a.request({**frame, "client_id": "x5"})
            assert err["code"] == "not_found"
        await a.ping()


async def test_delete_leaves_a_tombstone_for_resume_only(server: ServerProcess) -> None:
    async with connect(server, "tomb") as c:
        keep = (await c.request({"type": "create", "text": "keep", "client_id": "t1"}))["note"]
        gone = (await c.request({"type": "create", "text": "gone", "client_id": "t2"}))["note"]
        await c.request({"type": "delete", "id": gone["id"], "client_id": "t3"})
    async with connect(server, "tomb") as fresh:
        assert [n["id"] for n in fresh.snapshot["notes"]] == [keep["id"]]
    async with connect(server, "tomb", since=0) as resumed:
        notes = resumed.snapshot["notes"]
        assert [(n["id"], n["deleted"]) for n in notes] == [(keep["id"], False), (gone["id"], True)]
        assert [n["seq"] for n in notes] == [1, 3] and resumed.snapshot["reset"] is False


async def test_idempotent_create_makes_one_note_and_one_event(server: ServerProcess) -> None:
    async with connect(server, "idem") as a, connect(server, "idem") as watcher:
        first = await a.request({"type": "create", "text": "once", "client_id": "same"})
        again = await a.request({"type": "create", "text": "twice?", "client_id": "same"})
        assert again["type"] == "ack" and again["seq"] == first["seq"] and again["note"] == first["note"]
        nid = first["note"]["id"]
        await a.request({"type": "update", "id": nid, "text": "edited", "client_id": "upd"})
        replay = await a.request({"type": "create", "text": "thrice?", "client_id": "same"})
        assert replay["seq"] == first["seq"] and replay["note"]["text"] == "edited" and replay["note"]["version"] == 2
        events = [await watcher.recv_type("event"), await watcher.recv_type("event")]
        assert [e["op"] for e in events] == ["created", "updated"]
        with pytest.raises(TimeoutError):
            await watcher.recv_type("event", timeout=0.5)
    page = httpx.get(f"{server.url}/api/boards/idem/notes").json()
    assert len(page["notes"]) == 1 and page["seq"] == 2


async def test_resume_with_since_gets_exactly_the_missed_changes(server: ServerProcess) -> None:
    async with connect(server, "resume") as c:
        for i in range(3):
            await c.request({"type": "create", "text": f"n{i}", "client_id": f"r{i}"})
        epoch, seq = c.snapshot["epoch"], 3
    async with connect(server, "resume") as other:
        nid = (await other.request({"type": "create", "text": "missed-1", "client_id": "m1"}))["note"]["id"]
        await other.request({"type": "update", "id": nid, "text": "missed-2", "client_id": "m2"})
        await other.request({"type": "create", "text": "missed-3", "client_id": "m3"})
    async with connect(server, "resume", since=seq, epoch=epoch) as back:
        snap = back.snapshot
        assert snap["reset"] is False and snap["seq"] == 6
        assert [(n["text"], n["seq"]) for n in snap["notes"]] == [("missed-2", 5), ("missed-3", 6)]
        async with connect(server, "resume") as writer:
            await writer.request({"type": "create", "text": "live", "client_id": "lv"})
        assert (await back.recv_type("event"))["seq"] == 7


async def test_stale_epoch_or_future_since_gets_a_reset_snapshot(server: ServerProcess) -> None:
    async with connect(server, "reset") as c:
        await c.request({"type": "create", "text": "a", "client_id": "a"})
        epoch = c.snapshot["epoch"]
    async with connect(server, "reset", since=0, epoch="not-the-epoch") as stale:
        assert stale.snapshot["reset"] is True and [n["text"] for n in stale.snapshot["notes"]] == ["a"]
        assert stale.snapshot["epoch"] == epoch
    async with connect(server, "reset", since=99, epoch=epoch) as ahead:
        assert ahead.snapshot["reset"] is True and ahead.snapshot["seq"] == 1 and len(ahead.snapshot["notes"]) == 1
    async with connect(server, "reset", since=1, epoch=epoch) as current:
        assert current.snapshot["reset"] is False and current.snapshot["notes"] == []


BAD_FRAMES: list[tuple[str | bytes, str]] = [
    ("not json", "bad_request"),
    ("[1, 2]", "bad_request"),
    ('"text"', "bad_request"),
    ("{}", "bad_request"),
    ('{"type": "explode"}', "bad_request"),
    ('{"type": 5}', "bad_request"),
    ('{"type": "create"}', "bad_request"),
    ('{"type": "create", "text": null}', "bad_request"),
    ('{"type": "create", "text": 42}', "bad_request"),
    ('{"type": "create", "text": "a", "color": "red"}', "bad_request"),
    ('{"type": "create", "text": "a", "color": "#12345"}', "bad_request"),
    ('{"type": "create", "text": "a", "client_id": "has space"}', "bad_request"),
    ('{"type": "create", "text": "a", "client_id": ""}', "bad_request"),
    ('{"type": "create", "text": "a", "client_id": 7}', "bad_request"),
    ('{"type": "create", "text": "a", "x": "1"}', "bad_request"),
    ('{"type": "create", "text": "a", "x": true}', "bad_request"),
    ('{"type": "create", "text": "a", "x": 1000001}', "bad_request"),
    ('{"type": "create", "text": "a", "y": -1e309}', "bad_request"),
    ('{"type": "create", "text": "a", "x": NaN}', "bad_request"),
    ('{"type": "create", "text": "a", "x": Infinity}', "bad_request"),
    ('{"type": "update", "text": "no id"}', "bad_request"),
    ('{"type": "update", "id": "1", "text": "a"}', "bad_request"),
    ('{"type": "update", "id": 1, "text": null}', "bad_request"),
    ('{"type": "update", "id": 1}', "bad_request"),
    ('{"type": "update", "id": 1, "text": "a", "version": "2"}', "bad_request"),
    ('{"type": "delete"}', "bad_request"),
    ('{"type": "delete", "id": 1.5}', "bad_request"),
    ('{"type": "create", "text": "' + "x" * 10_001 + '"}', "too_large"),
    (b'{"type": "ping"}', "bad_request"),
]


@pytest.mark.parametrize(("frame", "code"), BAD_FRAMES, ids=range(len(BAD_FRAMES)))
async def test_bad_input_is_an_error_and_the_socket_still_answers(server: ServerProcess, frame: str, code: str) -> None:
    async with connect(server, "bad-input") as c:
        before = httpx.get(f"{server.url}/api/boards/bad-input/notes").json()["seq"]
        await c.send(frame)
        err = await c.recv_type("error")
        assert err["code"] == code and isinstance(err["message"], str) and "client_id" in err
        await c.ping()
        assert httpx.get(f"{server.url}/api/boards/bad-input/notes").json()["seq"] == before


async def test_error_echoes_the_request_client_id(server: ServerProcess) -> None:
    async with connect(server, "echo") as c:
        await c.send({"type": "create", "text": 1, "client_id": "mine"})
        assert (await c.recv_type("error"))["client_id"] == "mine"


async def test_unknown_fields_are_ignored(server: ServerProcess) -> None:
    async with connect(server, "forward") as c:
        ack = await c.request({"type": "create", "text": "ok", "client_id": "f", "future": {"x": 1}})
        assert ack["type"] == "ack" and "future" not in ack["note"]
    async with connect(server, "forward", unknown_param="1") as c:
        assert c.snapshot["seq"] == 1


async def test_text_is_stored_verbatim(server: ServerProcess) -> None:
    texts = ["<script>alert(1)</script>", "emoji 🧡👩‍💻 ünï", "", 'line\nbreak\ttab \\ "quote"', "x" * 10_000]
    async with connect(server, "verbatim") as c:
        for i, text in enumerate(texts):
            ack = await c.request({"type": "create", "text": text, "client_id": f"v{i}"})
            assert ack["note"]["text"] == text
    async with connect(server, "verbatim") as c:
        assert [n["text"] for n in c.snapshot["notes"]] == texts


@pytest.mark.parametrize(
    "path",
    [
        "/ws/-starts-with-dash",
        "/ws/has.dot",
        "/ws/" + "a" * 65,
        "/ws/sp%20ace",
        "/ws/%F0%9F%92%A9",
        "/ws/a?since=-1",
        "/ws/a?since=1.5",
        "/ws/a?since=",
        "/ws/a?since=abc",
        "/ws/a?name=" + "n" * 65,
        "/ws/a?batch=maybe",
    ],
)
async def test_bad_board_or_query_is_refused_at_the_handshake(server: ServerProcess, path: str) -> None:
    with pytest.raises(websockets.InvalidStatus) as info:
        async with websockets.connect(f"ws://127.0.0.1:{server.port}{path}", open_timeout=5):
            pass
    status = info.value.response.status_code
    assert 400 <= status < 500
    assert orjson.loads(info.value.response.body)["error"]["code"] == "bad_request"


@pytest.mark.parametrize("path", ["/ws/a/b", "/ws/", "/ws", "/wsx/a", "/ws/a%2Fb"])
async def test_other_socket_paths_are_not_found(server: ServerProcess, path: str) -> None:
    """Only `/ws/{board}` is taken by the socket route ahead of FastAPI; the rest still meets its router."""
    with pytest.raises(websockets.InvalidStatus) as info:
        async with websockets.connect(f"ws://127.0.0.1:{server.port}{path}", open_timeout=5):
            pass
    assert info.value.response.status_code == 403


async def test_ping_answers_pong(server: ServerProcess) -> None:
    async with connect(server, "ping") as c:
        await c.send({"type": "ping"})
        # Not simply the next frame: presence may come at any moment (on a cluster, our own join's count
        # arrives after the roster's round trip; it once came between the ping and its pong).
        assert await c.recv_type("pong") == {"type": "pong"}


async def test_presence_counts_and_names(server: ServerProcess) -> None:
    async with connect(server, "presence", name="ann") as a:
        assert a.snapshot["presence"] == 1
        async with connect(server, "presence", name="bob") as b:
            assert b.snapshot["presence"] == 2
            p = await a.recv_until(lambda f: f["type"] == "presence" and f["count"] == 2, timeout=3)
            assert p["names"] == ["ann", "bob"]
        p = await a.recv_until(lambda f: f["type"] == "presence" and f["count"] == 1, timeout=3)
        assert p["names"] == ["ann"]


async def test_batched_connection_gets_newline_separated_frames(server: ServerProcess) -> None:
    async with connect(server, "batch", batch=1) as fast:
        async with connect(server, "batch") as writer:
            for i in range(50):
                await writer.send({"type": "create", "text": f"b{i}", "client_id": f"b{i}"})
            seqs = []
            while len(seqs) < 50:
                ev = await writer.recv_type("event")
                seqs.append(ev["seq"])
        got: list[int] = []
        messages = 0
        while len(got) < 50:
            raw = await asyncio.wait_for(fast.ws.recv(), 5)
            messages += 1
            for line in str(raw).split("\n"):
                frame = orjson.loads(line)
                if frame["type"] == "event":
                    got.append(frame["seq"])
        assert got == list(range(1, 51)) and seqs == got


async def test_oversized_frame_closes_1009(server: ServerProcess) -> None:
    async with connect(server, "huge") as c:
        await c.send('{"type": "create", "text": "' + "x" * (300 * 1024) + '"}')
        with pytest.raises(websockets.ConnectionClosed) as info:
            await c.recv_until(lambda f: False, timeout=5)  # past the awareness frame that follows the snapshot
        assert info.value.rcvd is not None and info.value.rcvd.code == 1009


async def test_concurrent_writers_every_client_sees_all_events_in_order(server: ServerProcess) -> None:
    clients, per_client = 10, 20
    async with asyncio.TaskGroup() as tg:
        conns = [tg.create_task(_open(server, "concurrent")) for _ in range(clients)]
    cs = [t.result() for t in conns]
    try:

        async def run(i: int, c: object) -> list[int]:
            client = cs[i]
            for j in range(per_client):
                await client.send({"type": "create", "text": f"{i}-{j}", "client_id": f"c{i}-{j}"})
            seqs: list[int] = []
            acks = 0
            while len(seqs) < clients * per_client or acks < per_client:
                f = await client.recv(timeout=10)
                if f["type"] == "event":
                    seqs.append(f["seq"])
                elif f["type"] == "ack":
                    acks += 1
                else:
                    assert f["type"] in ("presence", "awareness"), f
            return seqs

        results = await asyncio.gather(*(run(i, c) for i, c in enumerate(cs)))
        for seqs in results:
            assert seqs == list(range(1, clients * per_client + 1))
    finally:
        for c in cs:
            await c.close()


async def _open(server: ServerProcess, board: str):  # type: ignore[no-untyped-def]
    from tests.helpers import Client

    ws = await websockets.connect(server.ws_url(board), max_size=None)
    c = Client(ws)
    c.snapshot = await c.recv()
    return c
