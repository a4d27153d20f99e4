"""History with servers of their own, on SQLite and Postgres: a database made by the release before the log,
history turned off and on again, retention pruning in the background, and tokens."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import databases
import httpx
import pytest
import sqlalchemy as sa

from notesboard.core.auth import mint
from tests import schema_before_history as previous
from tests.support import ServerProcess, sqlite_url

T1, T2, T3 = "2026-01-02T10:00:00.000Z", "2026-01-02T11:00:00.000Z", "2026-01-02T12:00:00.000Z"
OLD_BOARD = "INSERT INTO boards (board, seq, live, updated_at) VALUES ('old', 5, 2, :t)"
OLD_NOTE = (
    "INSERT INTO notes (id, board, text, author, color, x, y, version, seq, created_at, updated_at, deleted,"
    " client_id, created_seq) VALUES (:id, 'old', :text, :author, NULL, 10, 20, :version, :seq, :c, :u, :deleted,"
    " NULL, :created_seq)"
)
OLD_NOTES: list[dict[str, Any]] = [
    {"id": 1, "text": "first", "author": "ann", "version": 2, "seq": 3, "c": T1, "u": T2, "deleted": False},
    {"id": 2, "text": "gone", "author": None, "version": 2, "seq": 4, "c": T1, "u": T3, "deleted": True},
    {"id": 3, "text": "third", "author": "bob", "version": 1, "seq": 5, "c": T3, "u": T3, "deleted": False},
]


def api(server: ServerProcess, path: str) -> str:
    return f"{server.url}/api/boards/{path}"


def get(server: ServerProcess, path: str, **params: Any) -> httpx.Response:
    return httpx.get(api(server, path), params=params)


async def _make_previous_release_database(url: str) -> None:
    """The schema and rows the release before the log wrote (its schema code, rows as its writer stored them)."""
    database = databases.Database(url)
    await database.connect()
    try:
        async with database.connection() as conn:
            await previous.create_schema(conn, url.startswith("sqlite"))
            await conn.execute(sa.text(OLD_BOARD).bindparams(t=T3))
            for note in OLD_NOTES:
                created_seq = note["seq"] if note["version"] == 1 else note["id"]
                await conn.execute(sa.text(OLD_NOTE).bindparams(**note, created_seq=created_seq))
    finally:
        await database.disconnect()


def test_a_database_of_the_previous_release_gets_its_history_started(fresh_server: ServerProcess) -> None:
    asyncio.run(_make_previous_release_database(fresh_server.database_url))
    server = fresh_server.start()
    live = get(server, "old/notes").json()
    assert [(n["id"], n["text"], n["w"], n["updated_by"]) for n in live["notes"]] == [
        (1, "first", 208.0, None),
        (3, "third", 208.0, None),
    ]
    page = get(server, "old/history").json()
    assert page == {"board": "old", "changes": [], "more": False, "truncated": True, "oldest_at": 5}
    assert get(server, "old/notes", at=5).json()["notes"] == live["notes"]
    assert get(server, "old/notes", at=4).status_code == 400
    assert "history started: 2 live notes logged" in fresh_server.log_path.read_text()

    edited = httpx.patch(api(server, "old/notes/3"), json={"text": "third, edited", "author": "cy"}).json()
    server.stop()
    server.start()  # a second start does not start the log again
    page = get(server, "old/history").json()
    assert (page["truncated"], page["oldest_at"]) == (True, 5)
    assert [(c["seq"], c["op"], c["note"], c["by"]) for c in page["changes"]] == [(6, "updated", edited, "cy")]
    assert get(server, "old/notes", at=5).json()["notes"] == live["notes"]
    assert get(server, "old/notes", at=6).json()["notes"] == [live["notes"][0], edited]
    assert fresh_server.log_path.read_text().count("history started") == 1


def test_history_off_then_on_restarts_the_log_from_the_notes(fresh_server: ServerProcess) -> None:
    fresh_server.env = {"NOTESBOARD_HISTORY": "false"}
    server = fresh_server.start()
    one = httpx.post(api(server, "flip/notes"), json={"text": "one"}).json()
    two = httpx.post(api(server, "flip/notes"), json={"text": "two"}).json()
    for r in (get(server, "flip/history"), get(server, "flip/notes", at=1)):
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", r.text
    httpx.patch(api(server, f"flip/notes/{one['id']}"), json={"x": 5})
    server.stop()
    fresh_server.env = {}
    server.start()
    page = get(server, "flip/history").json()
    assert (page["changes"], page["truncated"], page["oldest_at"]) == ([], True, 3)
    at3 = get(server, "flip/notes", at=3).json()["notes"]
    assert [(n["id"], n["x"]) for n in at3] == [(two["id"], None), (one["id"], 5)]
    three = httpx.post(api(server, "flip/notes"), json={"text": "three"}).json()
    assert [c["note"] for c in get(server, "flip/history").json()["changes"]] == [three]


def test_retention_prunes_old_changes_in_the_background(fresh_server: ServerProcess) -> None:
    """history_days of 2 s: the changes made first leave the log; `at` works from the new oldest seq on and
    equals the board as it was; history says truncated; newer changes stay."""
    fresh_server.env = {"NOTESBOARD_HISTORY_DAYS": str(2 / 86400), "NOTESBOARD_HISTORY_PRUNE_INTERVAL": "0.1"}
    server = fresh_server.start()
    a = httpx.post(api(server, "old-news/notes"), json={"text": "a"}).json()
    b = httpx.post(api(server, "old-news/notes"), json={"text": "b"}).json()
    httpx.patch(api(server, f"old-news/notes/{a['id']}"), json={"text": "a2"})
    httpx.delete(api(server, f"old-news/notes/{b['id']}"))
    before = get(server, "old-news/notes", at=4).json()["notes"]
    deadline = time.monotonic() + 20
    while (page := get(server, "old-news/history").json())["oldest_at"] < 4:
        assert time.monotonic() < deadline, f"not pruned in time: {page}"
        time.sleep(0.1)
    assert page == {"board": "old-news", "changes": [], "more": False, "truncated": True, "oldest_at": 4}
    assert get(server, "old-news/notes", at=4).json()["notes"] == before
    assert [n["text"] for n in before] == ["a2"]
    assert get(server, "old-news/notes", at=3).status_code == 400
    c = httpx.post(api(server, "old-news/notes"), json={"text": "c"}).json()
    assert [ch["note"] for ch in get(server, "old-news/history", since=4).json()["changes"]] == [c]
    assert get(server, "old-news/history", since=4).json()["truncated"] is False
    assert "notesboard_history_pruned_total 4.0" in httpx.get(f"{server.url}/metrics").text


SECRET = "test-secret-of-sufficient-length-for-hs256"


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("secure-history")
    srv = ServerProcess(sqlite_url(tmp / "notes.db"), tmp / "server.log", env={"NOTESBOARD_AUTH_SECRET": SECRET})
    yield srv.start()
    srv.stop()


def _bearer(pattern: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(SECRET, pattern, role, 60)}"}  # type: ignore[arg-type]


def test_history_needs_a_token_for_the_board_and_purge_a_write_token(secure: ServerProcess) -> None:
    writer, reader, other = _bearer("team-*", "write"), _bearer("team-*", "read"), _bearer("other-*", "read")
    note = httpx.post(api(secure, "team-a/notes"), json={"text": "t"}, headers=writer).json()
    assert httpx.get(api(secure, "team-a/history"), headers=reader).status_code == 200
    assert httpx.get(api(secure, "team-a/notes"), params={"at": 1}, headers=reader).status_code == 200
    for r in (
        httpx.get(api(secure, "team-a/history"), headers=other),
        httpx.get(api(secure, "team-a/notes"), params={"at": 1}, headers=other),
        httpx.delete(api(secure, f"team-a/notes/{note['id']}"), params={"purge": "true"}, headers=reader),
    ):
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", r.text
    assert httpx.get(api(secure, "team-a/history")).status_code == 401
    texts = [c["note"]["text"] for c in httpx.get(api(secure, "team-a/history"), headers=reader).json()["changes"]]
    assert texts == ["t"]  # the refused purge erased nothing
