"""Issue #11 on the wire: note size/stacking/updated_by, restore of a tombstone (undo of a delete), board
delete, unlisted boards, export/import and large snapshots; on SQLite and Postgres, socket and REST."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
import websockets

from tests.helpers import connect
from tests.support import ServerProcess

# Small limits so that the snapshot cap and the import cap are cheap to reach.
SERVER_ENV = {"NOTESBOARD_SNAPSHOT_LIMIT": "5", "NOTESBOARD_SNAPSHOT_MAX": "7", "NOTESBOARD_MAX_IMPORT": "40"}


def api(server: ServerProcess, path: str) -> str:
    return f"{server.url}/api/boards/{path}"


async def test_size_and_stacking_are_stored_synced_and_defaulted(server: ServerProcess) -> None:
    async with connect(server, "sizes", name="ann") as a, connect(server, "sizes") as b:
        plain = (await a.request({"type": "create", "text": "p", "client_id": "p"}))["note"]
        assert (plain["w"], plain["h"], plain["z"], plain["updated_by"]) == (208.0, 150.0, 0, "ann")
        ack = await a.request({"type": "create", "text": "s", "client_id": "s", "w": 300, "h": 220, "z": 4})
        note = ack["note"]
        assert (note["w"], note["h"], note["z"]) == (300.0, 220.0, 4)
        ack = await a.request({"type": "update", "id": note["id"], "z": 9, "client_id": "z"})
        assert ack["note"]["z"] == 9 and ack["note"]["w"] == 300.0 and ack["note"]["version"] == 2
        seen = await b.recv_until(lambda f: f["type"] == "event" and f["seq"] == ack["seq"])
        assert seen["note"] == ack["note"]

    r = httpx.patch(api(server, f"sizes/notes/{note['id']}"), json={"w": 310, "h": 230, "author": "rest-bot"})
    assert r.status_code == 200, r.text
    assert (r.json()["w"], r.json()["h"], r.json()["z"], r.json()["updated_by"]) == (310.0, 230.0, 9, "rest-bot")
    assert r.json()["author"] == "ann"  # the creator stays
    r = httpx.patch(api(server, f"sizes/notes/{note['id']}"), json={"z": 7})
    assert r.status_code == 200 and r.json()["z"] == 7 and r.json()["updated_by"] is None
    r = httpx.post(api(server, "sizes/notes"), json={"text": "r", "w": 60, "h": 4000, "z": -3, "author": "cli"})
    assert r.status_code == 201 and (r.json()["w"], r.json()["h"], r.json()["z"]) == (60.0, 4000.0, -3)
    assert r.json()["updated_by"] == "cli"


@pytest.mark.parametrize(
    "fields",
    [
        {"w": None},
        {"h": None},
        {"z": None},
        {"w": 59},
        {"h": 4001},
        {"w": True},
        {"w": "300"},
        {"z": 1.5},
        {"z": 10**9 + 1},
        {"z": False},
        {"deleted": True},
        {"deleted": None},
        {"deleted": "false"},
    ],
)
async def test_bad_size_stacking_or_deleted_is_bad_request_on_both_transports(
    server: ServerProcess, fields: dict[str, object]
) -> None:
    note = httpx.post(api(server, "bad-sizes/notes"), json={"text": "n"}).json()
    r = httpx.patch(api(server, f"bad-sizes/notes/{note['id']}"), json=fields)
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request", r.text
    async with connect(server, "bad-sizes") as c:
        err = await c.request({"type": "update", "id": note["id"], "client_id": "u", **fields})
        assert err["type"] == "error" and err["code"] == "bad_request"
        if "deleted" not in fields:
            err = await c.request({"type": "create", "text": "x", "client_id": "c", **fields})
            assert err["type"] == "error" and err["code"] == "bad_request"
    after = httpx.get(api(server, "bad-sizes/notes")).json()
    assert after["seq"] == note["seq"]  # nothing was written


async def test_restore_brings_a_tombstone_back_with_its_id(server: ServerProcess) -> None:
    async with connect(server, "restore", name="ann") as a, connect(server, "restore") as b:
        note = (await a.request({"type": "create", "text": "keep me", "client_id": "c", "x": 5, "y": 6}))["note"]
        gone = (await a.request({"type": "delete", "id": note["id"], "version": 1, "client_id": "d"}))["note"]
        assert gone["deleted"] is True and gone["version"] == 2
        ack = await a.request({"type": "update", "id": note["id"], "deleted": False, "version": 2, "client_id": "r"})
        back = ack["note"]
        assert back["id"] == note["id"] and back["deleted"] is False and back["version"] == 3
        assert (back["text"], back["x"], back["y"]) == ("keep me", 5.0, 6.0) and ack["seq"] == 3
        event = await b.recv_until(lambda f: f["type"] == "event" and f["seq"] == 3)
        assert event["op"] == "created" and event["note"] == back  # every client (old ones too) adds it

        again = await a.request({"type": "update", "id": note["id"], "deleted": False, "client_id": "r2"})
        assert again["type"] == "error" and again["code"] == "conflict"  # it is not deleted
        stale = await a.request({"type": "delete", "id": note["id"], "version": 3, "client_id": "d2"})
        assert stale["note"]["version"] == 4
        late = await a.request({"type": "update", "id": note["id"], "deleted": False, "version": 2, "client_id": "r3"})
        assert late["type"] == "error" and late["code"] == "conflict"  # someone changed it since
        missing = await a.request({"type": "update", "id": 987654, "deleted": False, "client_id": "r4"})
        assert missing["type"] == "error" and missing["code"] == "not_found"

    r = httpx.patch(api(server, f"restore/notes/{note['id']}"), json={"deleted": False, "version": 4, "text": "v2"})
    assert r.status_code == 200 and r.json()["deleted"] is False and r.json()["text"] == "v2"
    live = httpx.get(api(server, "restore/notes")).json()
    assert [n["id"] for n in live["notes"]] == [note["id"]]
    r = httpx.patch(api(server, f"other-board/notes/{note['id']}"), json={"deleted": False})
    assert r.status_code == 404


async def test_delete_board_removes_every_note_live_and_keeps_seq_contiguous(server: ServerProcess) -> None:
    for i in range(4):
        assert httpx.post(api(server, "doomed/notes"), json={"text": f"secret {i}"}).status_code == 201
    async with connect(server, "doomed") as watcher:
        epoch = watcher.snapshot["epoch"]
        r = httpx.delete(api(server, "doomed"), params={"author": "admin"})
        assert r.status_code == 200 and r.json() == {"board": "doomed", "deleted": 4, "seq": 8}
        events = [await watcher.recv_type("event") for _ in range(4)]
        assert [e["seq"] for e in events] == [5, 6, 7, 8]
        assert all(e["op"] == "deleted" and e["note"]["text"] == "" for e in events)
        assert all(e["note"]["updated_by"] == "admin" for e in events)
    assert httpx.get(api(server, "doomed/notes")).json()["notes"] == []
    async with connect(server, "doomed", since=2, epoch=epoch) as resumed:  # a resume sees the tombstones
        assert [n["seq"] for n in resumed.snapshot["notes"]] == [5, 6, 7, 8]
        assert all(n["deleted"] and n["text"] == "" for n in resumed.snapshot["notes"])
    exported = httpx.get(api(server, "doomed/export"), params={"format": "json"}).json()
    assert exported["notes"] == []
    assert httpx.delete(api(server, "never-used")).json() == {"board": "never-used", "deleted": 0, "seq": 0}
    assert httpx.delete(api(server, "bad%20name")).status_code == 400
    # The board lives on: a new note takes the next seq.
    assert httpx.post(api(server, "doomed/notes"), json={"text": "fresh"}).json()["seq"] == 9


async def test_listing_boards_is_off_by_default(server: ServerProcess) -> None:
    httpx.post(api(server, "listed/notes"), json={"text": "x"})
    r = httpx.get(f"{server.url}/api/boards")
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert "--list-boards" in r.json()["error"]["message"]


async def test_export_formats(server: ServerProcess) -> None:
    httpx.post(api(server, "exp/notes"), json={"text": "Ship it", "color": "#fde68a", "author": "ann"})
    httpx.post(api(server, "exp/notes"), json={"text": "line one\nline two", "x": 3, "w": 300})
    httpx.post(api(server, "exp/notes"), json={"text": 'a, "quoted" one', "color": "#123456"})
    r = httpx.get(api(server, "exp/export"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert 'filename="exp.json"' in r.headers["content-disposition"]
    body = r.json()
    assert body["format"] == "notesboard-export" and body["board"] == "exp" and len(body["notes"]) == 3
    assert body["notes"][1]["w"] == 300.0 and body["notes"][0]["author"] == "ann"

    md = httpx.get(api(server, "exp/export"), params={"format": "md"})
    assert md.headers["content-type"].startswith("text/markdown")
    assert md.text.startswith("# exp\n")
    assert "## Yellow\n\n- Ship it (ann)" in md.text and "## No colour\n\n- line one\n  line two" in md.text
    assert "## #123456" in md.text

    rows = list(csv.reader(io.StringIO(httpx.get(api(server, "exp/export"), params={"format": "csv"}).text)))
    assert rows[0][:3] == ["id", "text", "color"] and len(rows) == 4
    assert rows[3][1] == 'a, "quoted" one' and rows[2][1] == "line one\nline two"

    empty = httpx.get(api(server, "empty-board/export"), params={"format": "md"})
    assert empty.status_code == 200 and "_No notes._" in empty.text
    assert httpx.get(api(server, "empty-board/export")).json()["notes"] == []
    bad = httpx.get(api(server, "exp/export"), params={"format": "pdf"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_request"


async def test_import_is_live_idempotent_and_all_or_nothing(server: ServerProcess) -> None:
    for i in range(3):
        httpx.post(api(server, "src/notes"), json={"text": f"idea {i}", "x": i * 10, "z": i, "author": "ann"})
    dump = httpx.get(api(server, "src/export")).json()
    async with connect(server, "dst") as watcher:
        r = httpx.post(api(server, "dst/import"), json=dump)
        assert r.status_code == 200 and r.json() == {"board": "dst", "created": 3, "skipped": 0, "seq": 3}
        events = [await watcher.recv_type("event") for _ in range(3)]
        assert [e["note"]["text"] for e in events] == ["idea 0", "idea 1", "idea 2"]
        assert events[2]["note"]["z"] == 2 and events[1]["note"]["x"] == 10.0 and events[0]["note"]["author"] == "ann"
    again = httpx.post(api(server, "dst/import"), json=dump)
    assert again.json() == {"board": "dst", "created": 0, "skipped": 3, "seq": 3}

    broken = {**dump, "notes": [*dump["notes"], {"text": "bad", "x": "far"}]}
    r = httpx.post(api(server, "dst2/import"), json=broken)
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("notes.3: x")
    for body in (b"[]", b"{}", b'{"format": "notesboard-export", "notes": 5}', b"not json"):
        r = httpx.post(api(server, "dst2/import"), content=body, headers={"content-type": "application/json"})
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request", body
    too_many = {**dump, "notes": [{"text": str(i)} for i in range(41)]}
    assert httpx.post(api(server, "dst2/import"), json=too_many).status_code == 413
    assert httpx.get(api(server, "dst2/notes")).json()["seq"] == 0  # nothing half-imported


async def test_snapshot_limit_query_and_more_flag(server: ServerProcess) -> None:
    for i in range(8):
        httpx.post(api(server, "big/notes"), json={"text": str(i)})
    async with connect(server, "big") as c:
        assert len(c.snapshot["notes"]) == 5 and c.snapshot["more"] is True
        assert [n["text"] for n in c.snapshot["notes"]] == ["3", "4", "5", "6", "7"]
    async with connect(server, "big", limit=6) as c:
        assert len(c.snapshot["notes"]) == 6 and c.snapshot["more"] is True
    async with connect(server, "big", limit=10_000) as c:  # cut to snapshot_max (7), not refused
        assert len(c.snapshot["notes"]) == 7 and c.snapshot["more"] is True
    httpx.delete(api(server, f"big/notes/{c.snapshot['notes'][0]['id']}"))
    async with connect(server, "big", limit=10_000) as c:
        assert len(c.snapshot["notes"]) == 7 and c.snapshot["more"] is False
    async with connect(server, "big", since=6) as c:
        assert len(c.snapshot["notes"]) == 3 and c.snapshot["more"] is False
    for bad in ("0", "x", "-1", "", "1.5"):
        with pytest.raises(websockets.InvalidStatus) as info:
            async with websockets.connect(server.ws_url("big", limit=bad), open_timeout=5):
                pass
        assert info.value.response.status_code == 400, bad


async def _drop_new_columns(database_url: str) -> None:
    """Make the database look like one written by the release before w/h/z/updated_by/deleted_at."""
    drops = [("notes", c) for c in ("w", "h", "z", "updated_by")] + [("boards", "deleted_at")]
    if database_url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(database_url.split(":///", 1)[1]) as db:
            for table, column in drops:
                db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        return
    import asyncpg

    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        for table, column in drops:
            await conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    finally:
        await conn.close()


async def test_an_older_database_is_upgraded_and_old_notes_get_defaults(fresh_server: ServerProcess) -> None:
    server = fresh_server.start()
    old = httpx.post(api(server, "legacy/notes"), json={"text": "from before", "author": "ann"}).json()
    server.stop()
    await _drop_new_columns(server.database_url)
    server.start()
    note = httpx.get(api(server, "legacy/notes")).json()["notes"][0]
    assert note["id"] == old["id"] and (note["w"], note["h"], note["z"], note["updated_by"]) == (208.0, 150.0, 0, None)
    r = httpx.patch(api(server, f"legacy/notes/{old['id']}"), json={"w": 250, "author": "bob"})
    assert r.status_code == 200 and r.json()["w"] == 250.0 and r.json()["updated_by"] == "bob"
    assert "database upgraded: added notes.w" in server.log()
    assert httpx.delete(api(server, "legacy")).json()["deleted"] == 1


async def test_sections_are_notes_of_kind_section(server: ServerProcess) -> None:
    """Issue #23: `kind` is set at creation (default "note"), stored, in events, snapshots, history and every
    export; it cannot change; Markdown lists each section's notes (their centre inside it) under its title."""
    async with connect(server, "sect", name="ann") as a, connect(server, "sect") as b:
        plain = (await a.request({"type": "create", "text": "a note", "client_id": "n", "x": 80, "y": 90}))["note"]
        assert plain["kind"] == "note"
        ack = await a.request(
            {"type": "create", "text": "Went well", "kind": "section", "client_id": "s", "x": 0, "y": 0, "w": 400,
             "h": 300}
        )  # fmt: skip
        section = ack["note"]
        assert section["kind"] == "section"
        seen = await b.recv_until(lambda f: f["type"] == "event" and f["seq"] == ack["seq"])
        assert seen["note"] == section
        refused = await a.request({"type": "update", "id": plain["id"], "kind": "section", "client_id": "k"})
        assert refused["type"] == "error" and refused["code"] == "bad_request" and "kind" in refused["message"]
        bad = await a.request({"type": "create", "text": "x", "kind": "column", "client_id": "c"})
        assert bad["type"] == "error" and bad["code"] == "bad_request"
    outside = httpx.post(api(server, "sect/notes"), json={"text": "elsewhere", "x": 900, "y": 900}).json()
    assert outside["kind"] == "note"
    r = httpx.patch(api(server, f"sect/notes/{section['id']}"), json={"kind": "note"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"
    notes = httpx.get(api(server, "sect/notes")).json()["notes"]
    assert [(n["text"], n["kind"]) for n in notes] == [
        ("a note", "note"),
        ("Went well", "section"),
        ("elsewhere", "note"),
    ]
    async with connect(server, "sect") as c:
        assert {n["text"]: n["kind"] for n in c.snapshot["notes"]}["Went well"] == "section"
    history = httpx.get(api(server, "sect/history")).json()["changes"]
    assert [c["note"]["kind"] for c in history] == ["note", "section", "note"]

    md = httpx.get(api(server, "sect/export"), params={"format": "md"}).text
    assert "## Went well\n\n- a note (ann)" in md and "## Not in a section\n\n- elsewhere" in md
    dump = httpx.get(api(server, "sect/export")).json()
    assert [n["kind"] for n in dump["notes"]] == ["note", "section", "note"]
    rows = list(csv.reader(io.StringIO(httpx.get(api(server, "sect/export"), params={"format": "csv"}).text)))
    assert rows[0][-1] == "kind" and rows[2][-1] == "section"
    r = httpx.post(api(server, "sect-copy/import"), json=dump)
    assert r.status_code == 200 and r.json()["created"] == 3
    copied = httpx.get(api(server, "sect-copy/notes")).json()["notes"]
    assert [n["kind"] for n in copied] == ["note", "section", "note"]
