"""Typing together on `/y/{board}/{note_id}` against a real server (SQLite and Postgres): editors converge,
v1 clients see the merged text (REST, events, snapshots), v1 text edits merge with typing."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import websockets

from notesboard.client import connect as connect_board
from notesboard.client.ytext import TextEditor
from notesboard.ytext import wire
from tests.helpers import connect
from tests.support import ServerProcess

SERVER_ENV = {"NOTESBOARD_MAX_TEXT": "200", "NOTESBOARD_MAX_FRAME_BYTES": "4096"}


def _note(server: ServerProcess, board: str, text: str) -> int:
    r = httpx.post(f"{server.url}/api/boards/{board}/notes", json={"text": text})
    assert r.status_code in (200, 201), r.text
    return int(r.json()["id"])


def _rest_note(server: ServerProcess, board: str, note_id: int) -> dict[str, object]:
    notes = httpx.get(f"{server.url}/api/boards/{board}/notes").json()["notes"]
    return next(n for n in notes if n["id"] == note_id)


async def test_two_editors_typing_at_once_converge_to_one_exact_text(server: ServerProcess) -> None:
    nid = _note(server, "crdt-two", "ab")
    async with (
        await TextEditor.open(server.url, "crdt-two", nid, client_id=1, name="ann") as a,
        await TextEditor.open(server.url, "crdt-two", nid, client_id=2, name="bob") as b,
    ):
        assert str(a) == str(b) == "ab"
        # Both type at the same place before either sees the other: Yjs orders them by client id.
        a.insert(1, "X")
        b.insert(1, "Y")
        await asyncio.gather(a.wait_text(lambda t: t == "aXYb"), b.wait_text(lambda t: t == "aXYb"))
        # Then interleaved keystrokes, each side at its own end.
        for i in range(20):
            a.insert(len(str(a)), "0123456789"[i % 10])
            b.insert(0, "abcdefghij"[i % 10])
            if i % 3 == 0:
                await asyncio.sleep(0)  # let some keystrokes cross in flight
        want = "".join("abcdefghij"[i % 10] for i in reversed(range(20))) + "aXYb" + "01234567890123456789"
        assert await a.wait_text(lambda t: t == want) == await b.wait_text(lambda t: t == want)
    # The plain text every v1 client sees is the merged text, once the last announce is out.
    for _ in range(100):
        if _rest_note(server, "crdt-two", nid)["text"] == want:
            break
        await asyncio.sleep(0.05)
    assert _rest_note(server, "crdt-two", nid)["text"] == want
    async with connect(server, "crdt-two") as c:
        assert [n["text"] for n in c.snapshot["notes"] if n["id"] == nid] == [want]


async def test_v1_clients_get_coalesced_updated_events_and_the_last_one(server: ServerProcess) -> None:
    nid = _note(server, "crdt-events", "")
    async with connect(server, "crdt-events") as watcher:
        async with await TextEditor.open(server.url, "crdt-events", nid, name="typist") as ed:
            for i in range(30):  # ~30 keystrokes in ~0.3 s
                ed.insert(i, "x")
                await asyncio.sleep(0.01)
            events = []
            while True:
                event = await watcher.recv_type("event", timeout=5)
                events.append(event)
                if event["note"]["text"] == "x" * 30:
                    break
        assert all(e["op"] == "updated" and e["note"]["id"] == nid for e in events)
        assert 1 <= len(events) <= 12  # at most one per ~100 ms, not one per keystroke
        assert events[-1]["note"]["updated_by"] == "typist"
        assert [e["seq"] for e in events] == list(range(events[0]["seq"], events[0]["seq"] + len(events)))


async def test_a_v1_update_merges_with_concurrent_typing(server: ServerProcess) -> None:
    nid = _note(server, "crdt-v1", "hello world")
    async with await TextEditor.open(server.url, "crdt-v1", nid) as ed:
        ed.insert(len("hello world"), "!")  # typed while a v1 client replaces a word
        r = httpx.patch(f"{server.url}/api/boards/crdt-v1/notes/{nid}", json={"text": "hello brave world"})
        assert r.status_code == 200, r.text
        await ed.wait_text(lambda t: t == "hello brave world!")
        async with connect(server, "crdt-v1") as c:  # the socket's v1 update merges the same way
            note = await c.request({"type": "update", "id": nid, "text": "HELLO brave world!", "client_id": "u1"})
            assert note["note"]["text"] == "HELLO brave world!"
            await ed.wait_text(lambda t: t == "HELLO brave world!")
            stale = await c.request({"type": "update", "id": nid, "text": "x", "version": 1, "client_id": "u2"})
            assert stale["code"] == "conflict"  # with `version`, v1's rule holds


async def test_a_note_that_is_missing_deleted_or_elsewhere_is_refused(server: ServerProcess) -> None:
    nid = _note(server, "crdt-gone", "bye")
    other = _note(server, "crdt-other", "x")
    for board, note_id, status in [("crdt-gone", 999_999, 404), ("crdt-gone", other, 404), ("crdt-gone", 0, 400)]:
        with pytest.raises(websockets.InvalidStatus) as refused:
            await TextEditor.open(server.url, board, note_id)
        assert refused.value.response.status_code == status
    async with await TextEditor.open(server.url, "crdt-gone", nid) as ed:
        assert httpx.delete(f"{server.url}/api/boards/crdt-gone/notes/{nid}").status_code == 200
        assert await ed.closed() == 1008
    with pytest.raises(websockets.InvalidStatus) as refused:
        await TextEditor.open(server.url, "crdt-gone", nid)
    assert refused.value.response.status_code == 404


async def test_board_edit_text_gives_a_pycrdt_text_bound_to_the_note(server: ServerProcess) -> None:
    async with connect_board(server.url, "crdt-client", name="py") as board:
        note = await board.create("draft")
        editor = await board.edit_text(note["id"])
        async with editor, await TextEditor.open(server.url, "crdt-client", note["id"]) as other:
            editor.text.insert(len("draft"), " two")  # pycrdt's own API (UTF-8 indices) works too
            await other.wait_text(lambda t: t == "draft two")
            other.insert(0, "a ")
            await editor.wait_text(lambda t: t == "a draft two")

        async def updated() -> None:
            if board.notes[note["id"]]["text"] == "a draft two":
                return
            async for _ in board.events():
                if board.notes[note["id"]]["text"] == "a draft two":
                    return

        await asyncio.wait_for(updated(), 10)  # the same board's v1 view follows (coalesced events)


async def test_editors_do_not_count_as_board_connections(server: ServerProcess) -> None:
    nid = _note(server, "crdt-presence", "x")
    async with await TextEditor.open(server.url, "crdt-presence", nid), connect(server, "crdt-presence") as c:
        assert c.snapshot["presence"] == 1  # this v1 connection only: the note's room is not a connection


async def test_metrics_count_rooms_editors_and_commits(server: ServerProcess) -> None:
    nid = _note(server, "crdt-metrics", "")

    def metric(name: str) -> float:
        for line in httpx.get(f"{server.url}/metrics").text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise AssertionError(f"{name} missing")

    commits = metric("notesboard_ytext_commits_total")
    async with (
        await TextEditor.open(server.url, "crdt-metrics", nid) as a,
        await TextEditor.open(server.url, "crdt-metrics", nid) as b,
    ):
        assert metric("notesboard_ytext_rooms") >= 1 and metric("notesboard_ytext_editors") >= 2
        a.insert(0, "hi")
        await b.wait_text(lambda t: t == "hi")
        assert metric("notesboard_ytext_commits_total") >= commits + 1


async def test_awareness_is_relayed_and_cleared_when_its_editor_leaves(server: ServerProcess) -> None:
    nid = _note(server, "crdt-aware", "x")
    async with await TextEditor.open(server.url, "crdt-aware", nid) as b:
        a = await TextEditor.open(server.url, "crdt-aware", nid)
        await a.send_raw(wire.awareness(wire.awareness_update([(77, 1, '{"user":{"name":"ann"}}')])))

        async def seen(editor: TextEditor, state: str) -> None:
            while editor.awareness.get(77) != state:
                await editor.wait_text(lambda _: True, timeout=5)  # wakes on every message
                await asyncio.sleep(0.01)

        await asyncio.wait_for(seen(b, '{"user":{"name":"ann"}}'), 5)
        await asyncio.wait_for(seen(a, '{"user":{"name":"ann"}}'), 5)  # echoed, as the stock server does
        async with await TextEditor.open(server.url, "crdt-aware", nid) as c:  # a newcomer is told at once
            assert c.awareness.get(77) == '{"user":{"name":"ann"}}'
        await a.disconnect()
        await asyncio.wait_for(seen(b, "null"), 5)  # removed for the others
