"""Issue #23, private writing on a real server (SQLite and Postgres): while a board's writing is private, a
note's text leaves the server to its writer only. Checked on every path out with raw sockets and REST, not
only in the page: events, acks, snapshots (fresh and resumed), REST reads (notes, ?since, ?at, a change's
answer), the history, every export, `/y/`, metrics and the server's log. Then the reveal: every private note
reaches everyone at once as ordinary `updated` events."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import websockets

from notesboard.client.ytext import TextEditor, y_url
from tests.helpers import Client, connect
from tests.support import ServerProcess

SECRET = "the-secret-idea-42"
ANN, BOB = "ann-key", "bob-key"


def put_writing(server: ServerProcess, board: str, writing: str) -> dict[str, Any]:
    r = httpx.put(f"{server.url}/api/boards/{board}/session", json={"writing": writing})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def everything_rest(server: ServerProcess, board: str, note: int) -> str:
    """Every REST read of the board and the note, as one text to search."""
    base = f"{server.url}/api/boards/{board}"
    parts = [
        httpx.get(f"{base}/notes").text,
        httpx.get(f"{base}/notes", params={"since": 0}).text,
        httpx.get(f"{base}/history").text,
        httpx.get(f"{base}/notes/{note}/history").text,
        *(httpx.get(f"{base}/export", params={"format": f}).text for f in ("json", "md", "csv")),
        httpx.get(f"{server.url}/metrics").text,
    ]
    seq = httpx.get(f"{base}/notes").json()["seq"]
    parts += [httpx.get(f"{base}/notes", params={"at": s}).text for s in range(1, seq + 1)]
    return "\n".join(parts)


async def drain(c: Client) -> list[dict[str, Any]]:
    """Every frame that arrives within a moment."""
    out = []
    while True:
        try:
            out.append(await c.recv(timeout=0.3))
        except TimeoutError:
            return out


async def test_private_texts_reach_their_writer_only_until_the_reveal(server: ServerProcess) -> None:
    board = "private-retro"
    async with connect(server, board, key=ANN, name="Ann") as ann, connect(server, board, key=BOB, name="Bob") as bob:
        public = (await ann.request({"type": "create", "text": "written before", "client_id": "p0"}))["note"]
        session = put_writing(server, board, "private")
        assert session["writing"] == "private"
        ack = await ann.request({"type": "create", "text": SECRET, "x": 10, "y": 20, "client_id": "s1"})
        assert ack["type"] == "ack" and ack["note"]["text"] == SECRET  # the writer's own answer
        note = ack["note"]["id"]
        mine = await ann.recv_until(lambda f: f["type"] == "event" and f["note"]["id"] == note)
        assert mine["note"]["text"] == SECRET and mine["note"]["private"] is True and "hidden" not in mine["note"]
        seen = await bob.recv_until(lambda f: f["type"] == "event" and f["note"]["id"] == note)
        assert seen["note"]["text"] == "" and seen["note"]["hidden"] is True  # that someone writes, and where
        assert (seen["note"]["x"], seen["note"]["y"], seen["note"]["author"]) == (10, 20, "Ann")
        # The writer edits on; Bob may move it but not write in it.
        await ann.request({"type": "update", "id": note, "text": SECRET + " and more", "client_id": "s2"})
        refused = await bob.request({"type": "update", "id": note, "text": "overwrite", "client_id": "b1"})
        assert refused["type"] == "error" and refused["code"] == "forbidden" and "private" in refused["message"]
        moved = await bob.request({"type": "update", "id": note, "x": 300, "client_id": "b2"})
        assert moved["type"] == "ack" and moved["note"]["text"] == ""  # even the mover's ack is blank
        rest_write = httpx.patch(f"{server.url}/api/boards/{board}/notes/{note}", json={"text": "via rest"})
        assert rest_write.status_code == 403
        rest_move = httpx.patch(f"{server.url}/api/boards/{board}/notes/{note}", json={"y": 99})
        assert rest_move.status_code == 200 and rest_move.json()["text"] == ""
        frames = await drain(bob)
        assert SECRET not in str(frames) and "and more" not in str(frames)
        assert any(f["type"] == "event" and f["note"]["id"] == note and f["note"]["x"] == 300 for f in frames)

        # Fresh and resumed snapshots: blank for Bob, whole for Ann (her key).
        async with connect(server, board, key=BOB) as again:
            snap = {n["id"]: n for n in again.snapshot["notes"]}
            assert snap[note]["text"] == "" and snap[note]["hidden"] is True
            assert snap[public["id"]]["text"] == "written before" and "hidden" not in snap[public["id"]]
        async with connect(server, board, since=0, epoch=ann.snapshot["epoch"]) as resumed:
            assert SECRET not in str(resumed.snapshot)
        async with connect(server, board, key=ANN) as ann_again:
            assert {n["id"]: n["text"] for n in ann_again.snapshot["notes"]}[note] == SECRET + " and more"

        # Every REST read, the exports, the history, ?at= and metrics: nothing of it.
        everything = everything_rest(server, board, note)
        assert SECRET not in everything and "written before" in everything

        # /y/: Bob is refused; Ann may type in it.
        with pytest.raises(websockets.InvalidStatus) as refused_y:
            async with websockets.connect(y_url(server.url, board, note, key=BOB)):
                pass
        assert refused_y.value.response.status_code == 403
        editor = await TextEditor.open(server.url, board, note, key=ANN)
        assert str(editor.text) == SECRET + " and more"
        await editor.disconnect()

        # A private note deleted before the reveal never shows its text.
        gone = (await ann.request({"type": "create", "text": "deleted-secret", "client_id": "s3"}))["note"]["id"]
        await ann.request({"type": "delete", "id": gone, "client_id": "s4"})
        await drain(bob)

        # The reveal: the session frame, then every private live note as an ordinary `updated` event.
        put_writing(server, board, "open")
        frame = await bob.recv_type("session")
        revealed = await bob.recv_until(lambda f: f["type"] == "event" and f["note"]["id"] == note)
        assert revealed["op"] == "updated" and revealed["seq"] == frame["seq"] + 1
        assert revealed["note"]["text"] == SECRET + " and more" and "hidden" not in revealed["note"]
        assert not any(f["type"] == "event" and f["note"]["id"] == gone for f in await drain(bob))
    notes = {n["id"]: n for n in httpx.get(f"{server.url}/api/boards/{board}/notes").json()["notes"]}
    assert notes[note]["text"] == SECRET + " and more"
    history = httpx.get(f"{server.url}/api/boards/{board}/notes/{note}/history").json()["changes"]
    assert [c["note"]["text"] for c in history][-1] == SECRET + " and more"  # logged from the reveal on
    assert all(c["note"]["text"] == "" for c in history[:-1])  # never before it
    assert "deleted-secret" not in httpx.get(f"{server.url}/api/boards/{board}/notes", params={"since": 0}).text
    assert "deleted-secret" not in httpx.get(f"{server.url}/api/boards/{board}/history").text
    assert SECRET not in server.log() and "deleted-secret" not in server.log()


async def test_notes_from_before_stay_public_and_writing_private_again_starts_over(server: ServerProcess) -> None:
    board = "private-twice"
    async with connect(server, board, key=ANN) as ann, connect(server, board, key=BOB) as bob:
        put_writing(server, board, "private")
        first = (await ann.request({"type": "create", "text": "round one", "client_id": "r1"}))["note"]["id"]
        put_writing(server, board, "open")
        await bob.recv_until(lambda f: f["type"] == "event" and f["note"]["text"] == "round one")
        put_writing(server, board, "private")  # the revealed note stays everyone's
        await ann.request({"type": "update", "id": first, "text": "round one, edited", "client_id": "r2"})
        edited = await bob.recv_until(lambda f: f["type"] == "event" and f["note"]["version"] == 3)
        assert edited["note"]["text"] == "round one, edited"
        # Bob writes privately too: Ann sees only where.
        mine = (await bob.request({"type": "create", "text": "bob-private", "client_id": "r3"}))["note"]["id"]
        theirs = await ann.recv_until(lambda f: f["type"] == "event" and f["note"]["id"] == mine)
        assert theirs["note"]["text"] == "" and theirs["note"]["hidden"] is True


async def test_two_facilitators_revealing_at_once_reveal_once(server: ServerProcess) -> None:
    board = "private-race"
    async with connect(server, board, key=ANN) as ann, connect(server, board, key=BOB) as bob:
        version = put_writing(server, board, "private")["version"]
        note = (await ann.request({"type": "create", "text": "race-secret", "client_id": "q1"}))["note"]["id"]
        url = f"{server.url}/api/boards/{board}/session"
        async with httpx.AsyncClient() as http:
            answers = await asyncio.gather(
                *(http.put(url, json={"writing": "open", "version": version}) for _ in range(2))
            )
        assert sorted(a.status_code for a in answers) == [200, 409]
        reveals = [
            f for f in await drain(bob) if f["type"] == "event" and f["note"]["id"] == note and f["note"]["text"]
        ]
        assert len(reveals) == 1 and reveals[0]["note"]["text"] == "race-secret"
