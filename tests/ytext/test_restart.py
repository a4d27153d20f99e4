"""Restarts and offline typing, against a server of its own (SQLite and Postgres): no text is ever
duplicated when editors come back with their own copies, and what was typed offline merges."""

from __future__ import annotations

import asyncio

import httpx

from notesboard.client.ytext import TextEditor
from tests.support import ServerProcess


def _note(server: ServerProcess, board: str, text: str) -> int:
    r = httpx.post(f"{server.url}/api/boards/{board}/notes", json={"text": text})
    assert r.status_code in (200, 201), r.text
    return int(r.json()["id"])


async def _rest_text(server: ServerProcess, board: str, want: str) -> str:
    text = ""
    for _ in range(100):
        text = httpx.get(f"{server.url}/api/boards/{board}/notes").json()["notes"][0]["text"]
        if text == want:
            break
        await asyncio.sleep(0.05)
    return text


async def test_a_restart_in_the_middle_duplicates_nothing_and_offline_typing_merges(
    fresh_server: ServerProcess,
) -> None:
    server = fresh_server.start()
    nid = _note(server, "crdt-restart", "shared")
    a = await TextEditor.open(server.url, "crdt-restart", nid)
    b = await TextEditor.open(server.url, "crdt-restart", nid)
    a.insert(0, "A")
    await b.wait_text(lambda t: t == "Ashared")
    await a.disconnect()
    await b.disconnect()

    server.restart()  # the document is rebuilt from the database, not from the plain text
    a.insert(len(str(a)), "-a")  # typed offline, while the server was away
    b.insert(0, "b-")
    await a.connect()
    await b.connect()
    want = "b-Ashared-a"
    assert await a.wait_text(lambda t: t == want) == await b.wait_text(lambda t: t == want)
    fresh = await TextEditor.open(server.url, "crdt-restart", nid)
    assert str(fresh) == want
    await asyncio.gather(a.disconnect(), b.disconnect(), fresh.disconnect())
    assert await _rest_text(server, "crdt-restart", want) == want


async def test_a_note_with_only_plain_text_rebuilds_the_same_document_after_a_restart(
    fresh_server: ServerProcess,
) -> None:
    """Editors that got the document made from plain text come back after a restart (the document was
    stored when made): their copies hold the same items, so the text is not doubled."""
    server = fresh_server.start()
    nid = _note(server, "crdt-plain", "plain text")
    ed = await TextEditor.open(server.url, "crdt-plain", nid)
    await ed.disconnect()
    server.restart()
    await ed.connect()
    other = await TextEditor.open(server.url, "crdt-plain", nid)
    assert str(ed) == str(other) == "plain text"
    ed.insert(0, "1 ")
    await other.wait_text(lambda t: t == "1 plain text")
    await asyncio.gather(ed.disconnect(), other.disconnect())
    assert await _rest_text(server, "crdt-plain", "1 plain text") == "1 plain text"


async def test_a_stop_before_the_announce_is_announced_at_the_next_start(fresh_server: ServerProcess) -> None:
    """Quiet commits (within the announce window) leave the note's version due; a kill before the announce
    leaves it flagged in the database, and the next start announces it (v1 clients resuming get it)."""
    fresh_server.env["NOTESBOARD_YTEXT_ANNOUNCE_WINDOW"] = "5"  # room enough to kill it before the announce
    server = fresh_server.start()
    nid = _note(server, "crdt-kill", "")
    ed = await TextEditor.open(server.url, "crdt-kill", nid)
    ed.insert(0, "abc")
    assert await _rest_text(server, "crdt-kill", "abc") == "abc"  # the first commit announces itself
    for ch in "def":
        ed.insert(len(str(ed)), ch)
    assert await _rest_text(server, "crdt-kill", "abcdef") == "abcdef"  # committed quietly, within the window
    (note,) = httpx.get(f"{server.url}/api/boards/crdt-kill/notes").json()["notes"]
    assert note["version"] == 2  # the announce waits for the window's end
    await ed.disconnect()
    server.kill()
    server.start()
    (note,) = httpx.get(f"{server.url}/api/boards/crdt-kill/notes").json()["notes"]
    assert (note["text"], note["version"]) == ("abcdef", 3)
    again = await TextEditor.open(server.url, "crdt-kill", nid)
    assert str(again) == "abcdef"
    await again.disconnect()
