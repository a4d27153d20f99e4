"""Starting the change log on a database: at creation, on the first start after an upgrade, after a run with
the log off.

`notesboard_meta` holds `history` = `on` while every committed change has been logged. When it is not `on`
(a database made by a release without the log, or one that ran with `history` off), the log restarts from
the notes as they are now: each live note's current state becomes its first entry, and each board's
`history_kept.oldest` is its current seq, so `?at=` works from that seq on and `history` says `truncated`
for anything older. Runs once, at start-up, inside `create_schema` (on Postgres under its advisory lock; on
SQLite in a `BEGIN IMMEDIATE` of its own, so two processes opening one file cannot both seed it).
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from databases.core import Connection

__all__ = ["OP_CODES", "OP_NAMES", "start_history"]

log = logging.getLogger("notesboard.store")

OP_CODES = {"created": 1, "updated": 2, "deleted": 3}
OP_NAMES = {code: name for name, code in OP_CODES.items()}

SEED = (
    "INSERT INTO note_history (board, seq, note_id, op, text, color, x, y, w, h, z, version, updated_at, updated_by)"
    " SELECT board, seq, id, CASE WHEN version = 1 THEN 1 ELSE 2 END, text, color, x, y, w, h, z, version,"
    " updated_at, updated_by FROM notes WHERE NOT deleted"
)


async def _state(conn: Connection) -> str | None:
    row = await conn.fetch_one(sa.text("SELECT value FROM notesboard_meta WHERE key = 'history'"))
    return None if row is None else str(row[0])


async def _set_state(conn: Connection, value: str) -> None:
    await conn.execute(sa.text("DELETE FROM notesboard_meta WHERE key = 'history'"))
    await conn.execute(sa.text("INSERT INTO notesboard_meta (key, value) VALUES ('history', :v)").bindparams(v=value))


async def start_history(conn: Connection, is_sqlite: bool, enabled: bool) -> None:
    """Make the log complete from now on (seeding it when it was not kept), or record that it is off."""
    if await _state(conn) == ("on" if enabled else "off"):
        return
    if is_sqlite:
        await conn.execute(sa.text("BEGIN IMMEDIATE"))
    try:
        await _switch(conn, enabled)
        if is_sqlite:
            await conn.execute(sa.text("COMMIT"))
    except BaseException:
        if is_sqlite:
            await conn.execute(sa.text("ROLLBACK"))
        raise


async def _switch(conn: Connection, enabled: bool) -> None:
    state = await _state(conn)  # again, now that this process holds the write lock
    if not enabled:
        if state != "off":
            await _set_state(conn, "off")
            log.info("history is off: changes are not logged (the log restarts from the notes when turned on)")
        return
    if state == "on":
        return
    await conn.execute(sa.text("DELETE FROM note_history"))
    await conn.execute(sa.text("DELETE FROM history_kept"))
    await conn.execute(sa.text(SEED))
    await conn.execute(sa.text("INSERT INTO history_kept (board, oldest) SELECT board, seq FROM boards"))
    await _set_state(conn, "on")
    notes = await conn.fetch_one(sa.text("SELECT COUNT(*) FROM note_history"))
    if state is not None or (notes is not None and int(notes[0]) > 0):
        log.info("history started: %s live notes logged as they are now", 0 if notes is None else notes[0])
