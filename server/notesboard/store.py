"""Storage: the only module that speaks SQL (SQLAlchemy Core through `databases`).

Portable between `sqlite+aiosqlite://` and `postgresql+asyncpg://`. Writes go through `apply()`, called by
the single writer task with a whole batch (group commit): one transaction (`BEGIN IMMEDIATE` on SQLite,
board rows locked `FOR UPDATE` on Postgres) that assigns every change the board's next seq. Reads use a
few long-lived connections and a read transaction, so a snapshot's notes and seq agree.

The tables are SQLAlchemy Core (DDL goes through `databases`); the statements on the hot paths are plain
SQL written once per dialect and run on the driver connection that `databases` opened (aiosqlite or
asyncpg): compiling a SQLAlchemy statement per call cost more CPU than the rest of a create together.

Database failures are translated here into `Unavailable`; nothing above this module sees a driver error.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import sqlalchemy as sa
from databases import Database
from databases.core import Connection
from sqlalchemy.schema import CreateIndex, CreateTable

from notesboard.errors import Conflict, Forbidden, NotesError, NotFound, Unavailable
from notesboard.protocol import Note, Op
from notesboard.validate import (
    DEFAULT_H,
    DEFAULT_W,
    DEFAULT_Z,
    CreateCommand,
    DeleteBoardCommand,
    DeleteCommand,
    UpdateCommand,
)

__all__ = ["BoardCleared", "BoardPage", "BoardSummary", "Outcome", "Store", "WriteOp", "WriteResult", "now_iso"]

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
    sa.Index("notes_board_seq", "board", "seq", unique=True),
    sa.Index("notes_board_client_id", "board", "client_id", unique=True),
)

boards_by_time = sa.Index("boards_updated_at", boards.c.updated_at)

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
)

# Columns added to existing tables after the first release (name, SQL type, as in the tables above, valid on
# SQLite and Postgres); `_migrate` adds the ones a database lacks.
ADDED_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "notes": (("w", "FLOAT"), ("h", "FLOAT"), ("z", "BIGINT"), ("updated_by", "VARCHAR(64)")),
    "boards": (("deleted_at", "VARCHAR(40)"),),
}


def _lost_a_race(exc: BaseException) -> bool:
    """A write conflict with another process's concurrent transaction, worth one retry of the batch."""
    if isinstance(exc, sqlite3.IntegrityError):
        return "UNIQUE" in str(exc)
    return isinstance(exc, asyncpg.UniqueViolationError | asyncpg.DeadlockDetectedError)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


NOTE_FIELDS = ", ".join(c.name for c in NOTE_COLUMNS)


def _note(row: Sequence[Any]) -> Note:
    """A row of NOTE_FIELDS, in order, as a wire note."""
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
    }


@dataclass(slots=True)
class WriteOp:
    """One change waiting for the writer."""

    board: str
    command: CreateCommand | UpdateCommand | DeleteCommand | DeleteBoardCommand
    author: str | None = None  # a socket's display name; REST passes it in the command


@dataclass(slots=True)
class WriteResult:
    """A committed change. `op` is None for the replay of an idempotent create (nothing new happened)."""

    note: Note
    seq: int
    op: Op | None


@dataclass(slots=True)
class BoardCleared:
    """A committed board delete: one tombstone (and event) per note that was live, in seq order."""

    board: str
    seq: int
    deleted: list[WriteResult]


Outcome = WriteResult | BoardCleared


@dataclass(slots=True)
class BoardPage:
    board: str
    epoch: str
    seq: int
    notes: list[Note]
    more: bool


@dataclass(slots=True)
class BoardSummary:
    board: str
    notes: int
    seq: int


class _Driver:
    """The driver connection under a `databases` connection, with one calling convention for both drivers.

    SQL is written with `?` placeholders; for asyncpg they become `$1, $2, ...`. `IN` lists are built by
    `in_list()`: `IN (?, ?)` on SQLite, `= ANY(?)` with one array parameter on Postgres.
    """

    def __init__(self, raw: Any, is_sqlite: bool) -> None:
        self.raw = raw
        self.is_sqlite = is_sqlite
        self._sql: dict[str, str] = {}

    def _dialect(self, sql: str) -> str:
        if self.is_sqlite:
            return sql
        done = self._sql.get(sql)
        if done is None:
            parts = sql.split("?")
            done = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))
            self._sql[sql] = done
        return done

    def in_list(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        if self.is_sqlite:
            return f"{column} IN ({', '.join('?' * len(values))})", list(values)
        return f"{column} = ANY(?)", [list(values)]

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        if self.is_sqlite:
            return list(await self.raw.execute_fetchall(sql, params))
        return list(await self.raw.fetch(self._dialect(sql), *params))

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        if self.is_sqlite:
            await (await self.raw.execute(sql, params)).close()
        else:
            await self.raw.execute(self._dialect(sql), *params)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            await self.raw.executemany(self._dialect(sql), rows)


class _Reader:
    """A read connection and its lock; `db` is None after a failure until the next use reopens it."""

    __slots__ = ("conn", "db", "lock")

    def __init__(self, conn: Connection | None, db: _Driver | None) -> None:
        self.conn = conn
        self.db = db
        self.lock = asyncio.Lock()


INSERT_NOTE = (
    "INSERT INTO notes (id, board, text, author, color, x, y, version, seq, created_at, updated_at, deleted,"
    " client_id, created_seq, w, h, z, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
UPDATE_NOTE = (
    "UPDATE notes SET text = ?, color = ?, x = ?, y = ?, version = ?, seq = ?, updated_at = ?, deleted = ?,"
    " w = ?, h = ?, z = ?, updated_by = ? WHERE id = ?"
)
UPDATE_BOARD = "UPDATE boards SET seq = ?, live = ?, updated_at = ? WHERE board = ?"


class Store:
    """Owns the database: schema, the write transaction, consistent reads."""

    def __init__(
        self,
        url: str,
        *,
        busy_timeout: float = 5.0,
        synchronous: str = "FULL",
        readers: int = 2,
        max_boards: int = 100_000,
    ) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        options: dict[str, Any] = (
            {"timeout": busy_timeout}
            if self.is_sqlite
            # Fail fast instead of hanging when Postgres is unreachable: connect and statement timeouts.
            else {"min_size": 0, "max_size": 2 + readers, "timeout": 5, "command_timeout": 10}
        )
        self._db = Database(url, **options)
        self._synchronous = synchronous
        self._nreaders = readers
        self._max_boards = max_boards
        self._writer: tuple[Connection, _Driver] | None = None
        self._readers: list[_Reader] = []
        self._next_reader = 0
        self.epoch = ""

    # -- lifecycle -------------------------------------------------------------------------------------

    async def connect(self) -> None:
        try:
            await self._db.connect()
            self._writer = await self._open_connection(writer=True)
            await self._create_schema(self._writer[0])
            for _ in range(self._nreaders):
                self._readers.append(_Reader(*await self._open_connection(writer=False)))
        except Exception as exc:
            await self.close()
            raise Unavailable(f"cannot open database: {exc}") from exc

    async def close(self) -> None:
        conns = [r.conn for r in self._readers if r.conn] + ([self._writer[0]] if self._writer else [])
        self._readers, self._writer = [], None
        for conn in conns:
            try:
                await conn.__aexit__(None, None, None)
            except Exception:
                log.debug("closing a connection failed", exc_info=True)
        if self._db.is_connected:
            await self._db.disconnect()

    async def _open_connection(self, *, writer: bool) -> tuple[Connection, _Driver]:
        conn = Connection(self._db, self._db._backend)
        await conn.__aenter__()
        driver = _Driver(conn.raw_connection, self.is_sqlite)
        if self.is_sqlite:
            if writer:
                await driver.execute("PRAGMA journal_mode=WAL")
            await driver.execute(f"PRAGMA synchronous={self._synchronous}")
        return conn, driver

    async def _create_schema(self, conn: Connection) -> None:
        for table in metadata.sorted_tables:
            await conn.execute(CreateTable(table, if_not_exists=True))
            for index in sorted(table.indexes, key=lambda i: i.name or ""):
                await conn.execute(CreateIndex(index, if_not_exists=True))
        ignore = "OR IGNORE " if self.is_sqlite else ""
        conflict = "" if self.is_sqlite else " ON CONFLICT DO NOTHING"
        await conn.execute(
            sa.text(f"INSERT {ignore}INTO notesboard_meta (key, value) VALUES ('epoch', :v){conflict}").bindparams(
                v=uuid.uuid4().hex
            )
        )
        row = await conn.fetch_one(sa.select(meta_table.c.value).where(meta_table.c.key == "epoch"))
        assert row is not None
        self.epoch = row["value"]
        await self._migrate(conn)

    async def _migrate(self, conn: Connection) -> None:
        """Add the columns of ADDED_COLUMNS that a database made by an older release lacks."""
        for table, columns in ADDED_COLUMNS.items():
            if self.is_sqlite:
                have = {r[1] for r in await conn.fetch_all(sa.text(f"PRAGMA table_info({table})"))}
            else:
                query = sa.text("SELECT column_name FROM information_schema.columns WHERE table_name = :t")
                have = {r[0] for r in await conn.fetch_all(query.bindparams(t=table))}
            for name, sql_type in columns:
                if name in have:
                    continue
                exists = "" if self.is_sqlite else "IF NOT EXISTS "
                ddl = f"ALTER TABLE {table} ADD COLUMN {exists}{name} {sql_type}"
                try:
                    await conn.execute(sa.text(ddl))
                except sqlite3.OperationalError as exc:  # another process sharing the file added it first
                    if "duplicate column" not in str(exc):
                        raise
                log.info("database upgraded: added %s.%s", table, name)

    async def _reconnect_writer(self) -> tuple[Connection, _Driver]:
        old, self._writer = self._writer, None
        if old is not None:
            try:
                await old[0].__aexit__(None, None, None)
            except Exception:  # noqa: BLE001
                pass
        self._writer = await self._open_connection(writer=True)
        return self._writer

    async def _drop(self, conn: Connection | None) -> None:
        if conn is not None:
            try:
                await conn.__aexit__(None, None, None)
            except Exception:
                log.debug("closing a broken connection failed", exc_info=True)

    # -- writes ----------------------------------------------------------------------------------------

    async def apply(self, ops: Sequence[WriteOp]) -> list[Outcome | NotesError]:
        """Commit a batch in one transaction; per-op outcomes in order. Raises Unavailable if nothing committed."""
        try:
            try:
                return await self._apply_once(ops)
            except Exception as exc:
                if not _lost_a_race(exc):
                    raise
                # Another process committed first what this batch assumed absent (the same client_id, a new
                # board) or Postgres broke a deadlock: the batch was rolled back; redo it, re-reading everything.
                log.info("write batch lost a race with another process (%s); retrying it once", type(exc).__name__)
                return await self._apply_once(ops)
        except NotesError:
            raise
        except Exception as exc:
            # Whatever broke (network, restart, lock timeout), the next batch starts on a fresh connection.
            broken, self._writer = self._writer, None
            await self._drop(broken[0] if broken else None)
            log.warning("write transaction failed: %s", exc)
            raise Unavailable(f"database unavailable: {type(exc).__name__}") from exc

    async def _apply_once(self, ops: Sequence[WriteOp]) -> list[Outcome | NotesError]:
        _, db = self._writer or await self._reconnect_writer()
        await db.execute("BEGIN IMMEDIATE" if self.is_sqlite else "BEGIN")
        try:
            results = await self._apply_in_tx(db, ops)
            await db.execute("COMMIT")
        except BaseException:
            try:
                await db.execute("ROLLBACK")
            except Exception:
                log.debug("rollback failed", exc_info=True)
            raise
        return results

    async def _apply_in_tx(self, db: _Driver, ops: Sequence[WriteOp]) -> list[Outcome | NotesError]:
        now = now_iso()
        board_names = sorted({op.board for op in ops})
        where, params = db.in_list("board", board_names)
        lock = "" if self.is_sqlite else " FOR UPDATE"
        select_boards = f"SELECT board, seq, live FROM boards WHERE {{}} ORDER BY board{lock}"
        rows = await db.fetch(select_boards.format(where), params)
        seqs: dict[str, int] = {r[0]: int(r[1]) for r in rows}
        live: dict[str, int] = {r[0]: int(r[2]) for r in rows}
        missing = sorted({op.board for op in ops if isinstance(op.command, CreateCommand)} - seqs.keys())
        if missing:
            count = int((await db.fetch("SELECT COUNT(*) FROM boards"))[0][0])
            missing = missing[: max(0, self._max_boards - count)]  # creates on the others are refused below
        if missing:
            ignore, conflict = ("OR IGNORE ", "") if self.is_sqlite else ("", " ON CONFLICT DO NOTHING")
            await db.executemany(
                f"INSERT {ignore}INTO boards (board, seq, live, updated_at) VALUES (?, 0, 0, ?){conflict}",
                [(b, now) for b in missing],
            )
            where, params = db.in_list("board", missing)
            for r in await db.fetch(select_boards.format(where), params):  # another process may have won
                seqs[r[0]], live[r[0]] = int(r[1]), int(r[2])

        ids = sorted({op.command.id for op in ops if isinstance(op.command, UpdateCommand | DeleteCommand)})
        current: dict[int, Note] = {}
        if ids:
            where, params = db.in_list("id", ids)
            for r in await db.fetch(f"SELECT {NOTE_FIELDS} FROM notes WHERE {where}", params):
                current[r[0]] = _note(r)
        cleared = sorted({op.board for op in ops if isinstance(op.command, DeleteBoardCommand)} & seqs.keys())
        if cleared:
            where, params = db.in_list("board", cleared)
            for r in await db.fetch(f"SELECT {NOTE_FIELDS} FROM notes WHERE {where} AND deleted = ?", [*params, False]):
                current[r[0]] = _note(r)

        client_ids = sorted(
            {op.command.client_id for op in ops if isinstance(op.command, CreateCommand) and op.command.client_id}
        )
        known: dict[tuple[str, str], WriteResult] = {}
        if client_ids:
            where, params = db.in_list("client_id", client_ids)
            for r in await db.fetch(f"SELECT {NOTE_FIELDS}, client_id, created_seq FROM notes WHERE {where}", params):
                if r[1] in seqs:
                    known[(r[1], r[16])] = WriteResult(_note(r), int(r[17]), None)

        # Ids for every create, reserved up front so that a board delete later in the batch sees them too.
        creates = sum(isinstance(op.command, CreateCommand) for op in ops)
        fresh_ids = iter(await self._reserve_ids(db, creates)) if creates else iter(())

        results: list[Outcome | NotesError] = []
        inserts: list[tuple[Note, str | None]] = []
        dirty: dict[int, Note] = {}
        touched: set[str] = set()

        def change(found: Note, author: str | None) -> Note:
            board = found["board"]
            seq = seqs[board] = seqs[board] + 1
            touched.add(board)
            return {**found, "version": found["version"] + 1, "seq": seq, "updated_at": now, "updated_by": author}

        for op in ops:
            cmd = op.command
            board = op.board
            if isinstance(cmd, CreateCommand):
                if board not in seqs:
                    results.append(
                        Forbidden(f"this server holds its limit of {self._max_boards} boards", cmd.client_id)
                    )
                    continue
                key = (board, cmd.client_id) if cmd.client_id else None
                if key is not None and key in known:
                    first = known[key]
                    results.append(WriteResult(first.note, first.seq, None))
                    continue
                seq = seqs[board] = seqs[board] + 1
                live[board] += 1
                touched.add(board)
                author = cmd.author if cmd.author is not None else op.author
                note: Note = {
                    "id": next(fresh_ids),
                    "board": board,
                    "text": cmd.text,
                    "author": author,
                    "color": cmd.color,
                    "x": cmd.x,
                    "y": cmd.y,
                    "w": cmd.w,
                    "h": cmd.h,
                    "z": cmd.z,
                    "version": 1,
                    "seq": seq,
                    "created_at": now,
                    "updated_at": now,
                    "deleted": False,
                    "updated_by": author,
                }
                inserts.append((note, cmd.client_id))
                current[note["id"]] = note
                result = WriteResult(note, seq, "created")
                if key is not None:
                    known[key] = result  # a second create with this client_id in the same batch replays it
                results.append(result)
                continue

            if isinstance(cmd, DeleteBoardCommand):
                author = cmd.author if cmd.author is not None else op.author
                gone: list[WriteResult] = []
                for old in sorted(current.values(), key=lambda n: n["seq"]):
                    if old["board"] == board and not old["deleted"]:
                        tomb = change(old, author)
                        tomb["deleted"] = True
                        tomb["text"] = ""  # a deleted board leaves tombstones, not its content
                        current[old["id"]] = dirty[old["id"]] = tomb
                        live[board] -= 1
                        gone.append(WriteResult(tomb, tomb["seq"], "deleted"))
                results.append(BoardCleared(board, seqs.get(board, 0), gone))
                continue

            found = current.get(cmd.id)
            restoring = isinstance(cmd, UpdateCommand) and cmd.restore
            if found is None or found["board"] != board or (found["deleted"] and not restoring):
                results.append(NotFound(f"note {cmd.id} not found on board {board}", cmd.client_id))
                continue
            if cmd.version is not None and cmd.version != found["version"]:
                results.append(
                    Conflict(f"note {cmd.id} is at version {found['version']}, not {cmd.version}", cmd.client_id)
                )
                continue
            author = cmd.author if cmd.author is not None else op.author
            if isinstance(cmd, UpdateCommand):
                if restoring and not found["deleted"] and not cmd.changes:
                    results.append(Conflict(f"note {cmd.id} is not deleted", cmd.client_id))
                    continue
                op_name: Op = "updated"
                changed = change(found, author)
                changed.update(cmd.changes)  # type: ignore[typeddict-item]
                if found["deleted"]:  # a restore: the note is back, announced as created for every client
                    changed["deleted"] = False
                    live[board] += 1
                    op_name = "created"
            else:
                changed = change(found, author)
                changed["deleted"] = True
                live[board] -= 1
                op_name = "deleted"
            current[cmd.id] = dirty[cmd.id] = changed
            results.append(WriteResult(changed, changed["seq"], op_name))

        if inserts:
            await db.executemany(
                INSERT_NOTE,
                [
                    (
                        n["id"],
                        n["board"],
                        n["text"],
                        n["author"],
                        n["color"],
                        n["x"],
                        n["y"],
                        1,
                        n["seq"],
                        now,
                        now,
                        False,
                        cid,
                        n["seq"],
                        n["w"],
                        n["h"],
                        n["z"],
                        n["updated_by"],
                    )
                    for n, cid in inserts
                ],
            )
        await db.executemany(
            UPDATE_NOTE,
            [
                (
                    n["text"],
                    n["color"],
                    n["x"],
                    n["y"],
                    n["version"],
                    n["seq"],
                    n["updated_at"],
                    n["deleted"],
                    n["w"],
                    n["h"],
                    n["z"],
                    n["updated_by"],
                    n["id"],
                )
                for n in dirty.values()
            ],
        )
        await db.executemany(UPDATE_BOARD, [(seqs[b], live[b], now, b) for b in sorted(touched)])
        if cleared:
            await db.executemany("UPDATE boards SET deleted_at = ? WHERE board = ?", [(now, b) for b in cleared])
        return results

    async def _reserve_ids(self, db: _Driver, n: int) -> list[int]:
        """`n` fresh note ids, ascending. On SQLite the write transaction holds the only write lock (BEGIN
        IMMEDIATE), so MAX(id) + 1 cannot race; on Postgres the serial sequence hands them out."""
        if self.is_sqlite:
            first = int((await db.fetch("SELECT COALESCE(MAX(id), 0) FROM notes"))[0][0]) + 1
            return list(range(first, first + n))
        rows = await db.fetch("SELECT nextval(pg_get_serial_sequence('notes', 'id')) FROM generate_series(1, ?)", [n])
        return sorted(int(r[0]) for r in rows)

    # -- reads -----------------------------------------------------------------------------------------

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[_Driver]:
        """One of the reader connections, reopened if it broke. Every read is a single statement, which
        sees one consistent snapshot by itself, so no explicit transaction (and no extra round trips)."""
        if not self._readers:
            raise Unavailable("database is not connected")
        free = [r for r in self._readers if not r.lock.locked()]
        if free:
            reader = free[0]
        else:
            self._next_reader = (self._next_reader + 1) % len(self._readers)
            reader = self._readers[self._next_reader]
        async with reader.lock:
            try:
                if reader.db is None:  # broken earlier (database restarted, network cut): reopen
                    reader.conn, reader.db = await self._open_connection(writer=False)
                yield reader.db
            except NotesError:
                raise
            except Exception as exc:
                await self._drop(reader.conn)
                reader.conn = reader.db = None
                raise Unavailable(f"database unavailable: {type(exc).__name__}") from exc

    async def read_notes(self, board: str, since: int | None, limit: int | None) -> BoardPage:
        """Without `since`: the newest `limit` live notes; with it: changes after `since` (tombstones too).

        One statement reads the board's seq and its notes together, so they agree without an explicit
        transaction (a statement sees one snapshot on both databases) and it costs one round trip.
        """
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
            f"SELECT b.seq, {fields} FROM (SELECT CAST(? AS VARCHAR(64)) AS board) q"
            f" LEFT JOIN boards b ON b.board = q.board LEFT JOIN ({inner}) n ON 1 = 1 ORDER BY n.seq {order}"
        )
        async with self._read() as db:
            rows = await db.fetch(sql, params)
        seq = int(rows[0][0]) if rows and rows[0][0] is not None else 0
        found = [_note(r[1:]) for r in rows if r[1] is not None]
        more = limit is not None and len(found) > limit
        if more:
            found = found[:limit]
        if since is None:
            found.reverse()
        return BoardPage(board, self.epoch, seq, found, more)

    async def list_boards(self, limit: int) -> list[BoardSummary]:
        async with self._read() as db:
            rows = await db.fetch(
                "SELECT board, live, seq FROM boards WHERE seq > 0 AND (deleted_at IS NULL OR live > 0)"
                " ORDER BY updated_at DESC, board LIMIT ?",
                [limit],
            )
        return [BoardSummary(r[0], int(r[1]), int(r[2])) for r in rows]

    async def board_seqs(self, boards: Sequence[str]) -> dict[str, int]:
        """Each board's current seq (boards without a change are absent); the multi-process backplane compares
        these with what it delivered, to catch events the broker lost."""
        found: dict[str, int] = {}
        async with self._read() as db:
            for i in range(0, len(boards), 1000):
                where, params = db.in_list("board", boards[i : i + 1000])
                for r in await db.fetch(f"SELECT board, seq FROM boards WHERE {where}", params):
                    found[r[0]] = int(r[1])
        return found

    async def healthy(self) -> bool:
        try:
            async with self._read() as db:
                await db.fetch("SELECT 1")
            return True
        except Exception:  # noqa: BLE001
            return False
