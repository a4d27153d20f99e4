"""Bad input on `/y/...` against a real server: each refused as the contract says (1003 malformed, 1009 too
big, 1008 policy), nothing applied or half-saved, never 1011, and the note's other editors unaffected."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from pycrdt import Doc, Text

from notesboard.client.ytext import TextEditor, y_url
from notesboard.core.auth import mint
from notesboard.ytext import wire
from tests.support import ServerProcess, sqlite_url

SERVER_ENV = {"NOTESBOARD_MAX_TEXT": "200", "NOTESBOARD_MAX_FRAME_BYTES": "4096"}
SECRET = "test-secret-of-sufficient-length-for-hs256"


def _note(server: ServerProcess, board: str, text: str, headers: dict[str, str] | None = None) -> int:
    r = httpx.post(f"{server.url}/api/boards/{board}/notes", json={"text": text}, headers=headers)
    assert r.status_code in (200, 201), r.text
    return int(r.json()["id"])


def _forged(base_text: str, edit: str) -> bytes:
    """Updates a client could only make from a document the server never had."""
    doc: Doc[Text] = Doc(client_id=424242)
    text = doc.get("text", type=Text)
    text += base_text
    state = doc.get_state()
    if edit == "depends-on-missing":
        text.insert(len(base_text), "Z")
        return doc.get_update(state)  # clocks 3.. of a client the server has never seen
    del text[0 : len(base_text)]
    return doc.get_update(state)  # deletes content the server does not have ("past the end")


def _bad_messages() -> dict[str, tuple[bytes | str, int]]:
    return {
        "garbage": (b"\xff\xff\xff", 1003),
        "unknown-type": (b"\x07\x00", 1003),
        "truncated": (wire.sync_update(b"\x01\x01\x05\x00\x04")[:-2], 1003),
        "bad-update": (wire.sync_update(b"\x01\x01\x05\x00\x04"), 1003),
        "depends-on-missing": (wire.sync_update(_forged("abc", "depends-on-missing")), 1003),
        "delete-past-end": (wire.sync_update(_forged("abc", "delete")), 1003),
        "text-frame": ("hello", 1003),
        "bad-state-vector": (wire.sync_step1(b"\xff\xff"), 1003),
        "bad-awareness": (wire.awareness(b"\x05\x01"), 1003),
        "awareness-not-json": (wire.awareness(wire.awareness_update([(5, 1, "{nope")])), 1003),
        "awareness-too-many-clients": (wire.awareness(wire.awareness_update([(i, 1, "{}") for i in range(9)])), 1008),
        "frame-too-big": (wire.sync_update(b"\x00" * 5000), 1009),
    }


@pytest.mark.parametrize("case", list(_bad_messages()))
async def test_bad_messages_close_the_sender_only_and_apply_nothing(server: ServerProcess, case: str) -> None:
    board = f"crdt-bad-{case}"
    nid = _note(server, board, "keep me")
    message, code = _bad_messages()[case]
    async with (
        await TextEditor.open(server.url, board, nid) as good,
        await TextEditor.open(server.url, board, nid) as bad,
    ):
        good.insert(0, ">")
        await bad.wait_text(lambda t: t == ">keep me")
        await bad.send_raw(message)  # type: ignore[arg-type]
        assert await bad.closed() == code
        # The room goes on. `good` closes right after this keystroke, while the server may still be sending it
        # `bad`'s departure: a send failing on a closing peer once made the server drop the keystroke.
        good.insert(len(str(good)), "<")
    async with await TextEditor.open(server.url, board, nid) as again:
        await again.wait_text(lambda t: t == ">keep me<")


async def test_an_update_past_max_text_is_refused_whole(server: ServerProcess) -> None:
    nid = _note(server, "crdt-long", "x" * 190)
    async with (
        await TextEditor.open(server.url, "crdt-long", nid) as good,
        await TextEditor.open(server.url, "crdt-long", nid) as big,
    ):
        big.insert(0, "y" * 20)  # 210 > max_text 200
        assert await big.closed() == 1009
        good.insert(0, "ok")
        await good.wait_text(lambda t: t == "ok" + "x" * 190)
    assert await _eventually(server, "crdt-long", "ok" + "x" * 190)


async def _eventually(server: ServerProcess, board: str, text: str) -> bool:
    for _ in range(100):
        if [n["text"] for n in httpx.get(f"{server.url}/api/boards/{board}/notes").json()["notes"]] == [text]:
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp: Path = tmp_path_factory.mktemp("secure")
    env = {
        "NOTESBOARD_AUTH_SECRET": SECRET,
        "NOTESBOARD_ALLOWED_ORIGINS": "https://notes.example.com",
        "NOTESBOARD_RATE_LIMIT": "5",
        "NOTESBOARD_RATE_BURST": "10",
    }
    srv = ServerProcess(sqlite_url(tmp / "notes.db"), tmp / "server.log", env=env).start()
    yield srv
    srv.stop()


async def test_tokens_origins_and_rate_limits_apply(secure: ServerProcess) -> None:
    write = mint(SECRET, "team-*", "write", 60)
    nid = _note(secure, "team-y", "abc", headers={"Authorization": f"Bearer {write}"})
    for query, headers, status in [
        ({}, None, 401),
        ({"token": mint(SECRET, "other", "write", 60)}, None, 403),
        ({"token": write}, {"Origin": "https://evil.example.com"}, 403),
    ]:
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(y_url(secure.url, "team-y", nid, **query), additional_headers=headers)
        assert refused.value.response.status_code == status
    read = mint(SECRET, "team-*", "read", 60)
    async with await TextEditor.open(secure.url, "team-y", nid, token=read) as reader:
        assert str(reader) == "abc"  # a read token may follow the text
        reader.insert(0, "no")
        assert await reader.closed() == 1008
    async with await TextEditor.open(secure.url, "team-y", nid, token=write) as fast:
        for i in range(40):  # far over 5/s with a burst of 10
            fast.insert(0, str(i % 10))
        assert await fast.closed() == 1008
    async with await TextEditor.open(secure.url, "team-y", nid, token=write) as later:
        assert str(later).endswith("abc") and len(str(later)) <= 3 + 11  # what got in, got in whole


async def test_a_token_that_expires_closes_the_editor(secure: ServerProcess) -> None:
    write = mint(SECRET, "team-*", "write", 60)
    nid = _note(secure, "team-exp", "abc", headers={"Authorization": f"Bearer {write}"})
    async with await TextEditor.open(secure.url, "team-exp", nid, token=mint(SECRET, "team-*", "write", 2)) as ed:
        assert await ed.closed(timeout=10) == 1008
