"""The tables (SQLAlchemy Core), their creation, and the migration of databases made by older releases.

DDL goes through `databases` (a `Connection`), once at start-up; the hot paths use the plain SQL in `sql.py`.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid

import sqlalchemy as sa
from databases.core import Connection
from sqlalchemy.schema import CreateIndex, CreateTable

from notesboard.storage.history_setup import start_history

__all__ = ["ADDED_COLUMNS", "NOTE_COLUMNS", "NOTE_FIELDS", "create_schema", "metadata"]

log = logging.getLogger("notesboard.store")

metadata = sa.MetaData()

meta_table = sa.Table(
    "notesboard_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)

boards = sa.Table(
    "boards",
    metadata,
    sa.Column("board", sa.String(64), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("live", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
    sa.Column("deleted_at", sa.String(40)),  # set by a board delete; the board is unlisted while it is empty
    sa.Column("private_writing", sa.Integer),  # 1 while the session's writing is private (NULL, 0: open)
)

notes = sa.Table(
    "notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("board", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("author", sa.String(64)),
    sa.Column("color", sa.String(7)),
    sa.Column("x", sa.Float),
    sa.Column("y", sa.Float),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False),
    sa.Column("client_id", sa.String(64)),
    sa.Column("created_seq", sa.BigInteger, nullable=False),  # the ack seq of an idempotent create's replay
    # Added after the first release (see ADDED_COLUMNS): NULL in old rows, read back as the defaults.
    sa.Column("w", sa.Float),
    sa.Column("h", sa.Float),
    sa.Column("z", sa.BigInteger),
    sa.Column("updated_by", sa.String(64)),
    sa.Column("kind", sa.String(16)),  # NULL: "note" (the default, and every row made before sections)
    sa.Index("notes_board_seq", "board", "seq", unique=True),
    sa.Index("notes_board_client_id", "board", "client_id", unique=True),
)

# A note's text as a Yjs document (ytext/): its whole state as ONE update, replaced on every change (compacted,
# not a log). A row exists once someone opened the note on `/y/...`; it goes when the note is deleted. A new
# table, so `create_all` adds it to databases made by older releases.
note_ydocs = sa.Table(
    "note_ydocs",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),  # the note's id
    sa.Column("state", sa.LargeBinary, nullable=False),
    sa.Column("pending", sa.Boolean, nullable=False),  # committed quietly: the note's version/seq/event still due
)

# A board's session (core/session.py): vote, writing mode and timer as the JSON of the wire's `session` minus
# `version`, which has its column, as has the seq of its last change (the snapshot's `session` is read with
# it). A new table: `create_all` adds it to databases made by older releases; a board without a row has the
# empty session (version 0).
board_sessions = sa.Table(
    "board_sessions",
    metadata,
    sa.Column("board", sa.String(64), primary_key=True),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)

# The current vote's votes (core/votes.py): one row per vote given or taken back (delta 1 or -1), the board's
# seq it took, and its client_id (a replay answers the first). Tallies are sums per (note, voter); a new vote
# deletes the board's rows, a deleted note its own.
votes = sa.Table(
    "votes",
    metadata,
    sa.Column("board", sa.String(64), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("note_id", sa.Integer, nullable=False),
    sa.Column("voter", sa.String(256), nullable=False),
    sa.Column("delta", sa.SmallInteger, nullable=False),
    sa.Column("client_id", sa.String(64)),
    sa.PrimaryKeyConstraint("board", "seq"),
    sa.Index("votes_board_client_id", "board", "client_id", unique=True),
    sa.Index("votes_note", "note_id"),
)

# Notes written while their board's writing was private (core/privacy.py): whose each is, until the reveal
# (switching writing back to open) deletes the board's rows. Only then does anyone else get their text.
private_notes = sa.Table(
    "private_notes",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),  # the note's id
    sa.Column("board", sa.String(64), nullable=False),
    sa.Column("owner", sa.String(256), nullable=False),
    sa.Index("private_notes_board", "board"),
)

boards_by_time = sa.Index("boards_updated_at", boards.c.updated_at)

# The change log (history.py): one row per committed change, the note as it was right after it. `author` and
# `created_at` never change, so they are read from `notes`; `op` is 1 created, 2 updated, 3 deleted. A rowid
# table with two small indexes: appending rows costs less than keeping them clustered by board (measured in
# bench/history.py: a WITHOUT ROWID table keyed (board, seq) cost ~1 us more per change, inserted as boards
# interleave), and (board, seq) serves the history, (note_id, seq) a note's state at a seq.
note_history = sa.Table(
    "note_history",
    metadata,
    sa.Column("board", sa.String(64), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("note_id", sa.Integer, nullable=False),
    sa.Column("op", sa.SmallInteger, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("color", sa.String(7)),
    sa.Column("x", sa.Float),
    sa.Column("y", sa.Float),
    sa.Column("w", sa.Float),
    sa.Column("h", sa.Float),
    sa.Column("z", sa.BigInteger),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
    sa.Column("updated_by", sa.String(64)),
    sa.Index("note_history_board_seq", "board", "seq", unique=True),
    sa.Index("note_history_note_seq", "note_id", "seq"),
)

# Per board, the oldest seq `?at=` can rebuild: every change after it is in note_history (retention, a board
# delete and the first start after an upgrade move it up). A board without a row: 0.
history_kept = sa.Table(
    "history_kept",
    metadata,
    sa.Column("board", sa.String(64), primary_key=True),
    sa.Column("oldest", sa.BigInteger, nullable=False),
)

NOTE_COLUMNS = (
    notes.c.id,
    notes.c.board,
    notes.c.text,
    notes.c.author,
    notes.c.color,
    notes.c.x,
    notes.c.y,
    notes.c.version,
    notes.c.seq,
    notes.c.created_at,
    notes.c.updated_at,
    notes.c.deleted,
    notes.c.w,
    notes.c.h,
    notes.c.z,
    notes.c.updated_by,
    notes.c.kind,
)
NOTE_FIELDS = ", ".join(c.name for c in NOTE_COLUMNS)

# Columns added to existing tables after the first release (name, SQL type, as in the tables above, valid on
# SQLite and Postgres); `_migrate` adds the ones a database lacks.
ADDED_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "notes": (("w", "FLOAT"), ("h", "FLOAT"), ("z", "BIGINT"), ("updated_by", "VARCHAR(64)"), ("kind", "VARCHAR(16)")),
    "boards": (("deleted_at", "VARCHAR(40)"), ("private_writing", "INTEGER")),
}


# Key of the Postgres advisory lock that makes schema creation one process at a time ("nbschema" in hex).
SCHEMA_LOCK = 0x6E62736368656D61


async def create_schema(conn: Connection, is_sqlite: bool, history: bool = True) -> str:
    """Create what is missing (tables, indexes, columns); returns the database's epoch (made once).

    On Postgres, processes starting together on a new database (a cluster, `--workers`) would race: two
    `CREATE TABLE IF NOT EXISTS` of one table both pass the check and the second fails on pg_type's unique
    index. A transaction-scoped advisory lock makes them take turns. SQLite serialises DDL on its file lock.
    """
    if is_sqlite:
        return await _create(conn, is_sqlite, history)
    async with conn.transaction():
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=SCHEMA_LOCK))
        return await _create(conn, is_sqlite, history)


async def _create(conn: Connection, is_sqlite: bool, history: bool) -> str:
    for table in metadata.sorted_tables:
        await conn.execute(CreateTable(table, if_not_exists=True))
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            await conn.execute(CreateIndex(index, if_not_exists=True))
    ignore = "OR IGNORE " if is_sqlite else ""
    conflict = "" if is_sqlite else " ON CONFLICT DO NOTHING"
    await conn.execute(
        sa.text(f"INSERT {ignore}INTO notesboard_meta (key, value) VALUES ('epoch', :v){conflict}").bindparams(
            v=uuid.uuid4().hex
        )
    )
    row = await conn.fetch_one(sa.select(meta_table.c.value).where(meta_table.c.key == "epoch"))
    assert row is not None
    await _migrate(conn, is_sqlite)
    await start_history(conn, is_sqlite, history)
    return str(row["value"])


async def _migrate(conn: Connection, is_sqlite: bool) -> None:
    """Add the columns of ADDED_COLUMNS that a database made by an older release lacks."""
    for table, columns in ADDED_COLUMNS.items():
        if is_sqlite:
            have = {r[1] for r in await conn.fetch_all(sa.text(f"PRAGMA table_info({table})"))}
        else:
            query = sa.text("SELECT column_name FROM information_schema.columns WHERE table_name = :t")
            have = {r[0] for r in await conn.fetch_all(query.bindparams(t=table))}
        for name, sql_type in columns:
            if name in have:
                continue
            exists = "" if is_sqlite else "IF NOT EXISTS "
            ddl = f"ALTER TABLE {table} ADD COLUMN {exists}{name} {sql_type}"
            try:
                await conn.execute(sa.text(ddl))
            except sqlite3.OperationalError as exc:  # another process sharing the file added it first
                if "duplicate column" not in str(exc):
                    raise
            log.info("database upgraded: added %s.%s", table, name)
