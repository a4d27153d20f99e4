"""The SQL of the hot paths, written once for both dialects and run on the driver connection (`Driver`).

Compiling a SQLAlchemy statement per call cost more CPU than the rest of a create together, so these are
plain strings with `?` placeholders (`Driver` rewrites them for asyncpg). `load()` reads what a write batch
depends on (`domain.needs`), `persist()` writes what `domain.decide` planned; both run inside the write
transaction. `page_query()` is the one-statement read of a board's seq and notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from notesboard.contract.model import DEFAULT_H, DEFAULT_W, DEFAULT_Z, Note, Session, WriteResult
from notesboard.contract.protocol import decode, encode
from notesboard.core.batch import Loaded, Needs, Plan
from notesboard.core.domain import boards_to_make
from notesboard.storage.driver import Driver
from notesboard.storage.schema import NOTE_COLUMNS, NOTE_FIELDS

__all__ = [
    "PENDING_YDOCS",
    "PRIVATE_QUERY",
    "SESSION_QUERY",
    "VOTES_QUERY",
    "YDOC_QUERY",
    "load",
    "note_from_row",
    "page_query",
    "persist",
    "session_from_row",
]

SESSION_QUERY = "SELECT state, version FROM board_sessions WHERE board = ?"
PRIVATE_QUERY = "SELECT id, owner FROM private_notes WHERE board = ?"
# A board's current vote: each (note, voter)'s votes.
VOTES_QUERY = (
    "SELECT note_id, voter, SUM(delta) FROM votes WHERE board = ? GROUP BY note_id, voter HAVING SUM(delta) <> 0"
)

# Notes committed quietly whose announce never came (the process stopped first): announced at start-up.
PENDING_YDOCS = "SELECT n.board, n.id FROM note_ydocs y JOIN notes n ON n.id = y.id WHERE y.pending = ? ORDER BY n.id"

# A note (live or not, any board) and its Yjs document, if it has one: what a `/y/` room reads.
YDOC_QUERY = (
    f"SELECT {', '.join(f'n.{c.name}' for c in NOTE_COLUMNS)}, y.state"
    " FROM notes n LEFT JOIN note_ydocs y ON y.id = n.id WHERE n.id = ?"
)

_CLIENT_ID = len(NOTE_COLUMNS)  # where client_id follows the note's columns in a row of the known-creates read
_N_FIELDS = ", ".join(f"n.{c.name}" for c in NOTE_COLUMNS)
_BY_KEY = "n.board = k.column1 AND n.client_id = k.column2"

INSERT_NOTE = (
    "INSERT INTO notes (id, board, text, author, color, x, y, version, seq, created_at, updated_at, deleted,"
    " client_id, created_seq, w, h, z, updated_by, kind)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
UPDATE_NOTE = (
    "UPDATE notes SET text = ?, color = ?, x = ?, y = ?, version = ?, seq = ?, updated_at = ?, deleted = ?,"
    " w = ?, h = ?, z = ?, updated_by = ? WHERE id = ?"
)
UPDATE_BOARD = "UPDATE boards SET seq = ?, live = ?, updated_at = ? WHERE board = ?"
LIST_BOARDS = (
    "SELECT board, live, seq FROM boards WHERE seq > 0 AND (deleted_at IS NULL OR live > 0)"
    " ORDER BY updated_at DESC, board LIMIT ?"
)


def note_from_row(row: Sequence[Any]) -> Note:
    """A row of NOTE_FIELDS, in order, as a wire note (columns added later read back as their defaults)."""
    return {
        "id": row[0],
        "board": row[1],
        "text": row[2],
        "author": row[3],
        "color": row[4],
        "x": row[5],
        "y": row[6],
        "version": row[7],
        "seq": row[8],
        "created_at": row[9],
        "updated_at": row[10],
        "deleted": bool(row[11]),
        "w": DEFAULT_W if row[12] is None else row[12],
        "h": DEFAULT_H if row[13] is None else row[13],
        "z": DEFAULT_Z if row[14] is None else int(row[14]),
        "updated_by": row[15],
        "kind": row[16] or "note",
    }


async def load(db: Driver, needs: Needs, now: str, *, max_boards: int) -> Loaded:
    """Lock the batch's boards (making the new ones the cap allows) and read the rows the rules need."""
    lock = "" if db.is_sqlite else " FOR UPDATE"
    select_boards = f"SELECT board, seq, live, private_writing FROM boards WHERE {{}} ORDER BY board{lock}"
    where, params = db.in_list("board", needs.boards)
    rows = await db.fetch(select_boards.format(where), params)
    loaded = Loaded({r[0]: int(r[1]) for r in rows}, {r[0]: int(r[2]) for r in rows})
    loaded.private_boards = {r[0] for r in rows if r[3]}
    missing = [b for b in needs.created_on if b not in loaded.seqs]
    if missing:
        count = int((await db.fetch("SELECT COUNT(*) FROM boards"))[0][0])
        missing = boards_to_make(missing, count, max_boards)
    if missing:
        ignore, conflict = ("OR IGNORE ", "") if db.is_sqlite else ("", " ON CONFLICT DO NOTHING")
        await db.executemany(
            f"INSERT {ignore}INTO boards (board, seq, live, updated_at) VALUES (?, 0, 0, ?){conflict}",
            [(b, now) for b in missing],
        )
        where, params = db.in_list("board", missing)
        for r in await db.fetch(select_boards.format(where), params):  # another process may have won
            loaded.seqs[r[0]], loaded.live[r[0]] = int(r[1]), int(r[2])

    # An id past the column's range (INTEGER: 64 bits in SQLite, 32 in Postgres) names no note: leave it unloaded
    # (not_found). In the query Postgres would refuse it and fail the whole batch (found by schemathesis).
    top = MAX_SQLITE_ID if db.is_sqlite else MAX_POSTGRES_ID
    ids = [i for i in needs.ids if i <= top]
    if ids:
        where, params = db.in_list("id", ids)
        for r in await db.fetch(f"SELECT {NOTE_FIELDS} FROM notes WHERE {where}", params):
            loaded.notes[r[0]] = note_from_row(r)
    if loaded.private_boards:
        await _load_private(db, needs, loaded, ids)
    cleared = [b for b in needs.cleared if b in loaded.seqs]
    if cleared:
        where, params = db.in_list("board", cleared)
        for r in await db.fetch(f"SELECT {NOTE_FIELDS} FROM notes WHERE {where} AND deleted = ?", [*params, False]):
            loaded.notes[r[0]] = note_from_row(r)
    keys = [(b, c) for b, c in needs.client_ids if b in loaded.seqs]
    if keys:
        # One probe of the (board, client_id) index per create: `client_id IN (...)` alone cannot use that
        # index and read all of it, every batch (30 ms per batch of 400 at 117,000 notes, measured).
        pairs, params = db.text_pairs("k", keys)
        query = f"SELECT {_N_FIELDS}, n.client_id, n.created_seq FROM {pairs} JOIN notes n ON {_BY_KEY}"
        for r in await db.fetch(query, params):
            loaded.known[(r[1], r[_CLIENT_ID])] = WriteResult(note_from_row(r), int(r[_CLIENT_ID + 1]), None)
    text_ids = [i for i in needs.text_ids if i <= top]
    if text_ids:
        where, params = db.in_list("id", text_ids)
        for r in await db.fetch(f"SELECT id, state, pending FROM note_ydocs WHERE {where}", params):
            loaded.ydocs[int(r[0])] = bytes(r[1])
            if r[2]:
                loaded.ypending.add(int(r[0]))
    if needs.sessions:
        where, params = db.in_list("board", needs.sessions)
        for r in await db.fetch(f"SELECT board, state, version FROM board_sessions WHERE {where}", params):
            loaded.sessions[r[0]] = session_from_row(r[1:])
    if needs.tallies:
        where, params = db.in_list("board", needs.tallies)
        query = f"SELECT board, note_id, voter, SUM(delta) FROM votes WHERE {where} GROUP BY board, note_id, voter"
        for r in await db.fetch(query, params):
            if int(r[3]):
                loaded.tallies.setdefault(r[0], {})[(int(r[1]), r[2])] = int(r[3])
    if needs.vote_ids:  # one probe of the (board, client_id) index per vote, as for creates
        pairs, params = db.text_pairs("k", needs.vote_ids)
        query = (
            f"SELECT v.board, v.client_id, v.note_id, v.voter, v.delta, v.seq FROM {pairs}"
            " JOIN votes v ON v.board = k.column1 AND v.client_id = k.column2"
        )
        for r in await db.fetch(query, params):
            loaded.votes[(r[0], r[1])] = (int(r[2]), r[3], int(r[4]), int(r[5]))
    # Ids for every create, reserved up front so that a board delete later in the batch sees them too.
    if needs.creates:
        loaded.fresh_ids = await _reserve_ids(db, needs.creates)
    return loaded


MAX_SQLITE_ID, MAX_POSTGRES_ID = 2**63 - 1, 2**31 - 1  # notes.id is INTEGER


async def _load_private(db: Driver, needs: Needs, loaded: Loaded, ids: list[int]) -> None:
    """On boards whose writing is private: the writers of the notes the batch changes, and every private note
    of a board whose session changes (a reveal makes them everyone's)."""
    if ids:
        where, params = db.in_list("id", ids)
        for r in await db.fetch(f"SELECT id, owner FROM private_notes WHERE {where}", params):
            loaded.private[int(r[0])] = r[1]
    revealing = [b for b in needs.sessions if b in loaded.private_boards]
    if revealing:
        where, params = db.in_list("p.board", revealing)
        query = f"SELECT {_N_FIELDS}, p.owner FROM notes n JOIN private_notes p ON p.id = n.id WHERE {where}"
        for r in await db.fetch(query, params):
            note = note_from_row(r)
            loaded.notes.setdefault(note["id"], note)
            loaded.private[note["id"]] = r[len(NOTE_COLUMNS)]


async def _reserve_ids(db: Driver, n: int) -> list[int]:
    """`n` fresh note ids, ascending. On SQLite the write transaction holds the only write lock (BEGIN
    IMMEDIATE), so MAX(id) + 1 cannot race; on Postgres the serial sequence hands them out."""
    if db.is_sqlite:
        first = int((await db.fetch("SELECT COALESCE(MAX(id), 0) FROM notes"))[0][0]) + 1
        return list(range(first, first + n))
    rows = await db.fetch("SELECT nextval(pg_get_serial_sequence('notes', 'id')) FROM generate_series(1, ?)", [n])
    return sorted(int(r[0]) for r in rows)


def _insert_row(n: Note, client_id: str | None, now: str) -> tuple[Any, ...]:
    row = (n["id"], n["board"], n["text"], n["author"], n["color"], n["x"], n["y"], 1, n["seq"], now, now)
    kind = None if n["kind"] == "note" else n["kind"]  # the default stays NULL, as in older rows
    return (*row, False, client_id, n["seq"], n["w"], n["h"], n["z"], n["updated_by"], kind)


def _update_row(n: Note) -> tuple[Any, ...]:
    row = (n["text"], n["color"], n["x"], n["y"], n["version"], n["seq"], n["updated_at"], n["deleted"])
    return (*row, n["w"], n["h"], n["z"], n["updated_by"], n["id"])


async def persist(db: Driver, plan: Plan, now: str) -> None:
    """Write the planned inserts, updates and board rows."""
    if plan.inserts:
        await db.executemany(INSERT_NOTE, [_insert_row(n, cid, now) for n, cid in plan.inserts])
    await db.executemany(UPDATE_NOTE, [_update_row(n) for n in plan.dirty.values()])
    await db.executemany(UPDATE_BOARD, [(seq, live, now, b) for b, seq, live in plan.boards])
    if plan.cleared:
        await db.executemany("UPDATE boards SET deleted_at = ? WHERE board = ?", [(now, b) for b in plan.cleared])
    if plan.ydocs_dropped:
        await db.executemany("DELETE FROM note_ydocs WHERE id = ?", [(i,) for i in sorted(plan.ydocs_dropped)])
    if plan.ydocs:
        upsert = (
            "INSERT OR REPLACE INTO note_ydocs (id, state, pending) VALUES (?, ?, ?)"
            if db.is_sqlite
            else "INSERT INTO note_ydocs (id, state, pending) VALUES (?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, pending = EXCLUDED.pending"
        )
        await db.executemany(upsert, [(i, s, i in plan.ypending) for i, s in sorted(plan.ydocs.items())])
    if plan.sessions:
        upsert = (
            "INSERT OR REPLACE INTO board_sessions (board, state, version, seq, updated_at) VALUES (?, ?, ?, ?, ?)"
            if db.is_sqlite
            else "INSERT INTO board_sessions (board, state, version, seq, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (board) DO UPDATE SET state = EXCLUDED.state, version = EXCLUDED.version,"
            " seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at"
        )
        await db.executemany(upsert, [_session_row(b, s, q, now) for b, (s, q) in sorted(plan.sessions.items())])
    if plan.private_cleared:
        await db.executemany("DELETE FROM private_notes WHERE board = ?", [(b,) for b in plan.private_cleared])
    if plan.private_new:
        await db.executemany("INSERT INTO private_notes (id, board, owner) VALUES (?, ?, ?)", plan.private_new)
    if plan.private_flags:
        flags = [(1 if on else 0, b) for b, on in sorted(plan.private_flags.items())]
        await db.executemany("UPDATE boards SET private_writing = ? WHERE board = ?", flags)
    if plan.votes_cleared:
        await db.executemany("DELETE FROM votes WHERE board = ?", [(b,) for b in plan.votes_cleared])
    if plan.votes:
        insert = "INSERT INTO votes (board, seq, note_id, voter, delta, client_id) VALUES (?, ?, ?, ?, ?, ?)"
        await db.executemany(insert, plan.votes)
    if plan.votes_dropped:
        await db.executemany("DELETE FROM votes WHERE note_id = ?", [(i,) for i in sorted(plan.votes_dropped)])


def session_from_row(row: Sequence[Any]) -> Session:
    """(state, version) of board_sessions as the wire's session."""
    state = decode(row[0])
    return {"vote": state["vote"], "writing": state["writing"], "timer": state["timer"], "version": int(row[1])}


def _session_row(board: str, session: Session, seq: int, now: str) -> tuple[Any, ...]:
    state = encode({"vote": session["vote"], "writing": session["writing"], "timer": session["timer"]})
    return (board, state, session["version"], seq, now)


def page_query(board: str, since: int | None, limit: int | None) -> tuple[str, list[Any]]:
    """One statement for a board's seq and its notes: the newest `limit` live ones, or the changes after
    `since` (tombstones too). A single statement sees one snapshot on both databases, so they agree. The
    last column says whether the board's writing is private (then its private notes are read next)."""
    if since is None:
        inner = f"SELECT {NOTE_FIELDS} FROM notes WHERE board = ? AND deleted = ? ORDER BY seq DESC"
        params: list[Any] = [board, board, False]
        order = "DESC"
    else:
        inner = f"SELECT {NOTE_FIELDS} FROM notes WHERE board = ? AND seq > ? ORDER BY seq ASC"
        params = [board, board, since]
        order = "ASC"
    if limit is not None:
        inner += " LIMIT ?"
        params.append(limit + 1)
    fields = ", ".join(f"n.{c.name}" for c in NOTE_COLUMNS)
    sql = (
        f"SELECT b.seq, {fields}, b.private_writing FROM (SELECT CAST(? AS VARCHAR(64)) AS board) q"
        f" LEFT JOIN boards b ON b.board = q.board LEFT JOIN ({inner}) n ON 1 = 1 ORDER BY n.seq {order}"
    )
    return sql, params
