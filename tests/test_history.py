"""Issue #24 on a real server, SQLite and Postgres: `GET .../history` equals what the events said, `?at=S`
equals the board a watcher saw at S, a board delete erases the history, `?purge=true`, and every bad input."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from notesboard.client import AsyncRest, BadRequest, Rest
from tests.helpers import Client, connect
from tests.support import ServerProcess
from tests.support.cli import run as run_command

Note = dict[str, Any]


def api(server: ServerProcess, path: str) -> str:
    return f"{server.url}/api/boards/{path}"


def history(server: ServerProcess, board: str, **params: Any) -> dict[str, Any]:
    r = httpx.get(api(server, f"{board}/history"), params=params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def board_at(server: ServerProcess, board: str, at: int, **params: Any) -> dict[str, Any]:
    r = httpx.get(api(server, f"{board}/notes"), params={"at": at, **params})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def replay(events: list[dict[str, Any]], upto: int) -> list[Note]:
    """The live notes a watcher holds after applying the events up to seq `upto`, ascending seq."""
    live: dict[int, Note] = {}
    for e in events:
        if e["seq"] > upto:
            break
        if e["note"]["deleted"]:
            live.pop(e["note"]["id"], None)
        else:
            live[e["note"]["id"]] = e["note"]
    return sorted(live.values(), key=lambda n: n["seq"])


async def events_until(watcher: Client, seq: int) -> list[dict[str, Any]]:
    """Every event the watcher gets up to `seq` (it consumes them)."""
    seen: list[dict[str, Any]] = []
    while not seen or seen[-1]["seq"] < seq:
        seen.append(await watcher.recv_type("event"))
    return seen


async def scripted_mix(server: ServerProcess, board: str) -> list[dict[str, Any]]:
    """Creates, moves, edits, recolours, deletes and a restore, by socket and REST; returns the events."""
    async with connect(server, board) as watcher, connect(server, board, name="ann") as ann:
        a = (await ann.request({"type": "create", "text": "alpha", "client_id": "a", "x": 10, "y": 20}))["note"]
        b = (await ann.request({"type": "create", "text": "beta", "client_id": "b", "color": "#fde68a"}))["note"]
        c = httpx.post(api(server, f"{board}/notes"), json={"text": "gamma", "author": "bob"}).json()
        await ann.request({"type": "update", "id": a["id"], "x": 110, "y": 120, "client_id": "move"})
        await ann.request({"type": "update", "id": a["id"], "text": "alpha, edited", "client_id": "edit"})
        httpx.patch(api(server, f"{board}/notes/{b['id']}"), json={"color": "#bfdbfe", "author": "bob"})
        await ann.request({"type": "delete", "id": c["id"], "client_id": "del"})
        await ann.request({"type": "update", "id": c["id"], "deleted": False, "client_id": "restore"})
        last = await ann.request({"type": "delete", "id": b["id"], "client_id": "del-b"})
        return await events_until(watcher, last["seq"])


async def test_history_and_at_equal_what_the_events_said(server: ServerProcess) -> None:
    events = await scripted_mix(server, "hist-mix")
    assert [e["seq"] for e in events] == list(range(1, 10))
    page = history(server, "hist-mix")
    assert page["board"] == "hist-mix" and page["more"] is False and page["truncated"] is False
    assert page["oldest_at"] == 0
    got = [(c["seq"], c["op"], c["note"]) for c in page["changes"]]
    assert got == [(e["seq"], e["op"], e["note"]) for e in events]
    assert [(c["by"], c["at"]) for c in page["changes"]] == [
        (e["note"]["updated_by"], e["note"]["updated_at"]) for e in events
    ]
    assert [c["op"] for c in page["changes"]] == ["created"] * 3 + ["updated"] * 3 + ["deleted", "created", "deleted"]

    # Paging: since + limit walk the same list; `more` says whether a page was the last.
    pages, since = [], 0
    while True:
        part = history(server, "hist-mix", since=since, limit=4)
        pages.extend(part["changes"])
        if not part["more"]:
            break
        since = part["changes"][-1]["seq"]
    assert pages == page["changes"] and len(pages) == 9

    for at in range(0, 10):
        state = board_at(server, "hist-mix", at)
        assert (state["board"], state["seq"], state["more"]) == ("hist-mix", at, False)
        assert state["notes"] == replay(events, at), f"at={at}"
        assert state["epoch"] == httpx.get(api(server, "hist-mix/notes")).json()["epoch"]
    capped = board_at(server, "hist-mix", 5, limit=1)
    assert capped["more"] is True and capped["notes"] == replay(events, 5)[-1:]


async def test_a_notes_history_is_its_versions(server: ServerProcess) -> None:
    events = await scripted_mix(server, "hist-note")
    for note_id in {e["note"]["id"] for e in events}:
        page = history(server, f"hist-note/notes/{note_id}")
        mine = [(e["seq"], e["op"], e["note"]) for e in events if e["note"]["id"] == note_id]
        assert [(c["seq"], c["op"], c["note"]) for c in page["changes"]] == mine
        assert (page["more"], page["truncated"], page["oldest_at"]) == (False, False, 0)
        first = history(server, f"hist-note/notes/{note_id}", limit=1)
        assert first["changes"] == page["changes"][:1] and first["more"] is (len(mine) > 1)
        later = history(server, f"hist-note/notes/{note_id}", since=mine[0][0])
        assert later["changes"] == page["changes"][1:]
    # Another board's note, or no such note: no versions (as for an unknown board), never another's.
    assert history(server, "hist-other/notes/1")["changes"] == []
    assert history(server, "hist-note/notes/999999")["changes"] == []
    with Rest(server.url) as client:
        a = events[0]["note"]["id"]
        assert [c["note"]["text"] for c in client.history("hist-note", note_id=a)["changes"]] == [
            "alpha",
            "alpha",
            "alpha, edited",
        ]
    for bad in ("0", "x", "-1"):
        r = httpx.get(api(server, f"hist-note/notes/{bad}/history"))
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request", r.text


async def test_a_board_delete_erases_its_history(server: ServerProcess) -> None:
    events = await scripted_mix(server, "hist-gone")
    r = httpx.delete(api(server, "hist-gone"))
    assert r.status_code == 200, r.text
    cleared = r.json()["seq"]
    assert cleared > events[-1]["seq"]
    page = history(server, "hist-gone")
    assert page == {"board": "hist-gone", "changes": [], "more": False, "truncated": True, "oldest_at": cleared}
    assert board_at(server, "hist-gone", cleared)["notes"] == []
    for at in (0, events[-1]["seq"], cleared - 1):
        r = httpx.get(api(server, "hist-gone/notes"), params={"at": at})
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request", r.text
    note = httpx.post(api(server, "hist-gone/notes"), json={"text": "after"}).json()
    page = history(server, "hist-gone")
    assert [(c["seq"], c["op"], c["note"]) for c in page["changes"]] == [(cleared + 1, "created", note)]
    assert history(server, "hist-gone", since=cleared)["truncated"] is False
    assert board_at(server, "hist-gone", cleared + 1)["notes"] == [note]


async def test_purge_erases_a_notes_earlier_texts(server: ServerProcess) -> None:
    board = "hist-purge"
    secret = httpx.post(api(server, f"{board}/notes"), json={"text": "password: hunter2", "x": 5}).json()
    keep = httpx.post(api(server, f"{board}/notes"), json={"text": "keep me"}).json()
    httpx.patch(api(server, f"{board}/notes/{secret['id']}"), json={"text": "password: hunter3", "x": 50})
    r = httpx.delete(api(server, f"{board}/notes/{secret['id']}"), params={"purge": "true", "author": "ann"})
    assert r.status_code == 200, r.text
    tomb = r.json()
    assert tomb["deleted"] is True and tomb["text"] == "" and tomb["updated_by"] == "ann" and tomb["seq"] == 4
    page = history(server, board)
    texts = {c["seq"]: c["note"]["text"] for c in page["changes"]}
    assert texts == {1: "", 2: "keep me", 3: "", 4: ""}
    moved = [c["note"]["x"] for c in page["changes"] if c["note"]["id"] == secret["id"]]
    assert moved == [5, 50, 50]  # what happened stays; only the words go
    assert board_at(server, board, 3)["notes"] == [keep, {**page["changes"][2]["note"]}]
    assert "hunter" not in httpx.get(api(server, f"{board}/notes"), params={"since": 0}).text

    # A note deleted earlier (its tombstone keeps the text) can be purged afterwards: no new change.
    later = httpx.post(api(server, f"{board}/notes"), json={"text": "oops, a secret"}).json()
    gone = httpx.delete(api(server, f"{board}/notes/{later['id']}")).json()
    assert gone["text"] == "oops, a secret"
    r = httpx.delete(api(server, f"{board}/notes/{later['id']}"), params={"purge": "1"})
    assert r.status_code == 200 and r.json()["text"] == "" and r.json()["seq"] == gone["seq"], r.text
    assert "secret" not in str(history(server, board))
    assert httpx.get(api(server, f"{board}/notes")).json()["seq"] == gone["seq"]
    # Without purge a tombstone is still not found; purge=false is an ordinary delete.
    r = httpx.delete(api(server, f"{board}/notes/{later['id']}"), params={"purge": "false"})
    assert r.status_code == 404
    r = httpx.delete(api(server, f"{board}/notes/{keep['id']}"), params={"purge": "false"})
    assert r.status_code == 200 and r.json()["text"] == "keep me"


def test_unknown_boards_have_an_empty_history(server: ServerProcess) -> None:
    assert history(server, "hist-nobody") == {
        "board": "hist-nobody",
        "changes": [],
        "more": False,
        "truncated": False,
        "oldest_at": 0,
    }
    empty = board_at(server, "hist-nobody", 0)
    assert (empty["seq"], empty["notes"], empty["more"]) == (0, [], False)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("history", {"since": "-1"}),
        ("history", {"since": "1.5"}),
        ("history", {"since": ""}),
        ("history", {"limit": "0"}),
        ("history", {"limit": "10001"}),
        ("history", {"limit": "x"}),
        ("notes", {"at": "-1"}),
        ("notes", {"at": "abc"}),
        ("notes", {"at": "3"}),  # the board's seq is 2
        ("notes", {"at": "99999999999999999999"}),
        ("notes", {"at": "1", "since": "0"}),
        ("notes", {"at": "1", "limit": "0"}),
    ],
)
def test_bad_history_input_is_bad_request(server: ServerProcess, path: str, params: dict[str, str]) -> None:
    board = "hist-bad"
    if httpx.get(api(server, f"{board}/notes")).json()["seq"] == 0:
        httpx.post(api(server, f"{board}/notes"), json={"text": "one"})
        httpx.post(api(server, f"{board}/notes"), json={"text": "two"})
    r = httpx.get(api(server, f"{board}/{path}"), params=params)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "bad_request" and r.json()["error"]["message"]


def test_bad_purge_and_bad_board_are_bad_request(server: ServerProcess) -> None:
    note = httpx.post(api(server, "hist-bad-purge/notes"), json={"text": "n"}).json()
    r = httpx.delete(api(server, f"hist-bad-purge/notes/{note['id']}"), params={"purge": "yes"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"
    assert httpx.get(api(server, "hist-bad-purge/notes")).json()["notes"] == [note]  # nothing deleted
    r = httpx.get(f"{server.url}/api/boards/bad%20name/history")
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"


async def test_python_client_reads_history_and_the_board_at_a_seq(server: ServerProcess) -> None:
    events = await scripted_mix(server, "hist-client")
    with Rest(server.url) as api:
        page = api.history("hist-client", since=3, limit=2)
        assert [c["seq"] for c in page["changes"]] == [4, 5] and page["more"] is True
        assert api.notes_at("hist-client", 6)["notes"] == replay(events, 6)
        with pytest.raises(BadRequest):
            api.notes_at("hist-client", 99)
        note = api.create("hist-client", "secret")
        api.delete("hist-client", note["id"], purge=True)
    async with AsyncRest(server.url) as aapi:
        last = (await aapi.history("hist-client", since=9))["changes"]
        assert [(c["op"], c["note"]["text"]) for c in last] == [("created", ""), ("deleted", "")]
        assert (await aapi.notes_at("hist-client", 0))["notes"] == []


def test_history_command_says_what_each_change_did(server: ServerProcess) -> None:
    board = "hist-cli"
    a = httpx.post(api(server, f"{board}/notes"), json={"text": "plan", "author": "ann"}).json()
    httpx.patch(api(server, f"{board}/notes/{a['id']}"), json={"text": "plan B", "author": "bob"})
    httpx.patch(api(server, f"{board}/notes/{a['id']}"), json={"x": 40, "y": 50, "color": "#fde68a"})
    httpx.delete(api(server, f"{board}/notes/{a['id']}"), params={"author": "cy"})
    httpx.patch(api(server, f"{board}/notes/{a['id']}"), json={"deleted": False, "author": "cy"})
    r = run_command("history", board, "--url", server.url)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"# History of {board}"
    bullets = [line.split(" · ", 2) for line in lines if line.startswith("- ")]
    assert [(b[1], b[2]) for b in bullets] == [
        ("ann", f'created note {a["id"]}: "plan"'),
        ("bob", f'edited note {a["id"]}: "plan" → "plan B"'),
        ("someone", f"moved note {a['id']}; recoloured note {a['id']} (none → #fde68a)"),
        ("cy", f'deleted note {a["id"]} ("plan B")'),
        ("cy", f'restored note {a["id"]}: "plan B"'),
    ]
    assert bullets[0][0].startswith("- **#1** ")
    r = run_command("history", board, "--url", server.url, "--since", "2")
    assert r.returncode == 0 and "moved note" in r.stdout.splitlines()[2], r.stdout  # compared with the board at 2
    r = run_command("history", board, "--url", server.url, "--format", "json", "--since", "3")
    doc = json.loads(r.stdout)
    assert [c["seq"] for c in doc["changes"]] == [4, 5] and doc["truncated"] is False and doc["more"] is False
    r = run_command("history", "bad name", "--url", server.url)
    assert r.returncode == 1 and "400" in r.stderr and "Traceback" not in r.stderr
    r = run_command("history", board, "--url", server.url, "--format", "xml")
    assert r.returncode == 1 and "--format must be md or json" in r.stderr
