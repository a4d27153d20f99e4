"""Issue #23, the board session on a real server (SQLite and Postgres): GET/PUT with its optimistic version,
the `session` frame in the board's one seq order, the snapshot's `session`, and every bad body."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.helpers import connect
from tests.support import ServerProcess

SERVER_ENV = {"NOTESBOARD_MAX_TIMER": "600"}
EMPTY = {"vote": None, "writing": "open", "timer": None, "version": 0}


def url(server: ServerProcess, board: str) -> str:
    return f"{server.url}/api/boards/{board}/session"


def put(server: ServerProcess, board: str, body: Any) -> httpx.Response:
    return httpx.put(url(server, board), json=body)


def at(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


async def test_a_board_without_a_session_reads_the_empty_one_and_its_snapshot_has_none(server: ServerProcess) -> None:
    r = httpx.get(url(server, "sess-empty"))
    assert r.status_code == 200 and r.json() == EMPTY
    async with connect(server, "sess-empty") as c:
        assert "session" not in c.snapshot


async def test_a_change_takes_the_boards_next_seq_reaches_every_socket_and_the_snapshot(server: ServerProcess) -> None:
    board = "sess-seq"
    async with connect(server, board) as watcher, connect(server, board, name="ann") as ann:
        first = await ann.request({"type": "create", "text": "went well", "client_id": "n1"})
        body = {"vote": {"open": True, "budget": 5, "hidden": True}, "writing": "private", "version": 0}
        r = put(server, board, body)
        assert r.status_code == 200, r.text
        session = r.json()
        assert session == {
            "vote": {"open": True, "budget": 5, "hidden": True, "multiple": False},
            "writing": "private",
            "timer": None,
            "version": 1,
        }
        frame = await watcher.recv_type("session")
        assert frame == {"type": "session", "seq": first["seq"] + 1, "session": session}
        assert (await ann.recv_type("session"))["seq"] == first["seq"] + 1
        after = await ann.request({"type": "create", "text": "to improve", "client_id": "n2"})
        assert after["seq"] == first["seq"] + 2  # one seq order for notes and the session
        assert [(await watcher.recv_type("event"))["seq"] for _ in range(2)] == [first["seq"], after["seq"]]
    assert httpx.get(url(server, board)).json() == session
    # The history logs note changes only: the session's seq is not among them, and nothing looks truncated.
    hist = httpx.get(f"{server.url}/api/boards/{board}/history").json()
    assert [c["seq"] for c in hist["changes"]] == [first["seq"], after["seq"]] and hist["truncated"] is False
    at = httpx.get(f"{server.url}/api/boards/{board}/notes", params={"at": first["seq"] + 1}).json()
    assert [n["text"] for n in at["notes"]] == ["went well"]
    async with connect(server, board) as late:
        assert late.snapshot["session"] == session and late.snapshot["seq"] == after["seq"]
    # A resume from before the session change: the snapshot holds the session as it is now.
    async with connect(server, board, since=first["seq"], epoch=late.snapshot["epoch"]) as back:
        assert back.snapshot["reset"] is False and back.snapshot["session"] == session
        assert [n["seq"] for n in back.snapshot["notes"]] == [after["seq"]]


async def test_stale_version_is_a_conflict_and_no_version_replaces(server: ServerProcess) -> None:
    board = "sess-lock"
    assert put(server, board, {"writing": "private", "version": 0}).json()["version"] == 1
    stale = put(server, board, {"writing": "open", "version": 0})
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict" and "version 1" in stale.json()["error"]["message"]
    assert httpx.get(url(server, board)).json()["writing"] == "private"
    r = put(server, board, {"vote": {"open": False}})  # no version: replaces whatever is there
    assert r.status_code == 200 and r.json()["version"] == 2
    assert r.json() == {
        "vote": {"open": False, "budget": 3, "hidden": False, "multiple": False},
        "writing": "open",
        "timer": None,
        "version": 2,
    }


async def test_timers_run_and_pause_within_the_longest_timer(server: ServerProcess) -> None:
    board = "sess-timer"
    running = put(server, board, {"timer": {"ends_at": at(300)}})
    assert running.status_code == 200, running.text
    timer = running.json()["timer"]
    assert timer["paused_left"] is None and timer["ends_at"].endswith("Z")
    paused = put(server, board, {"timer": {"paused_left": 120.5}, "version": 1})
    assert paused.status_code == 200 and paused.json()["timer"] == {"ends_at": None, "paused_left": 120.5}
    # Sent back as stored, a timer is not checked again (here: unchanged while the vote opens).
    same = put(server, board, {"timer": paused.json()["timer"], "vote": {"open": True}, "version": 2})
    assert same.status_code == 200 and same.json()["version"] == 3
    reset = put(server, board, {"timer": {"ends_at": None, "paused_left": None}, "version": 3})
    assert reset.json()["timer"] is None


async def test_bad_sessions_are_bad_requests(server: ServerProcess) -> None:
    bad: list[Any] = [
        [],
        "open",
        {"vote": {"budget": 3}},  # open is required
        {"vote": {"open": True, "budget": 0}},
        {"vote": {"open": True, "budget": 101}},
        {"vote": {"open": True, "budget": 2.5}},
        {"vote": {"open": "yes"}},
        {"writing": "secret"},
        {"timer": {"ends_at": at(60), "paused_left": 10}},
        {"timer": {"paused_left": -1}},
        {"timer": {"paused_left": 601}},  # over NOTESBOARD_MAX_TIMER
        {"timer": {"ends_at": at(-60)}},  # a negative duration
        {"timer": {"ends_at": at(3600)}},  # an absurd one
        {"timer": {"ends_at": "tomorrow"}},
        {"timer": {"ends_at": "2026-01-01T10:00:00"}},  # no offset
        {"version": -1},
        {"version": 1.5},
        {"colour": "red"},
    ]
    for body in bad:
        r = put(server, "sess-bad", body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["code"] == "bad_request"
    assert httpx.get(url(server, "sess-bad")).json() == EMPTY
    r = httpx.put(url(server, "sess-bad"), content=b"{", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert httpx.put(url(server, "bad name!")).status_code == 400
