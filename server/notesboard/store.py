"""Storage: the only module that speaks SQL (SQLAlchemy Core through `databases`).

Portable between `sqlite+aiosqlite://` and `postgresql+asyncpg://`. Writes go through `apply()`, called by
the single writer task with a whole batch (group commit): one transaction (`BEGIN IMMEDIATE` on SQLite,
board rows locked `FOR UPDATE` on Postgres) that assigns every change the board's next seq. Reads use a
few long-lived connections and a read transaction, so a snapshot's notes and seq agree.

Database failures are translated here into `Unavailable`; nothing above this module sees a driver error.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from databases import Database
from databases.core import Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from notesboard.errors import Conflict, NotesError, NotFound, Unavailable
from notesboard.protocol import Note, Op
from notesboard.validate import CreateCommand, DeleteCommand, UpdateCommand

__all__ = ["BoardPage", "BoardSummary", "Store", "WriteOp", "WriteResult", "now_iso"]

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
)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _note(row: Any) -> Note:
    return {
        "id": row["id"],
        "board": row["board"],
        "text": row["text"],
        "author": row["author"],
        "color": row["color"],
        "x": row["x"],
        "y": row["y"],
        "version": row["version"],
        "seq": row["seq"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "deleted": bool(row["deleted"]),
    }


@dataclass(slots=True)
class WriteOp:
    """One change waiting for the writer."""

    board: str
    command: CreateCommand | UpdateCommand | DeleteCommand
    author: str | None = None  # a socket's display name; REST passes it in the command


@dataclass(slots=True)
class WriteResult:
    """A committed change. `op` is None for the replay of an idempotent create (nothing new happened)."""

    note: Note
    seq: int
    op: Op | None


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


class Store:
    """Owns the database: schema, the write transaction, consistent reads."""

    def __init__(self, url: str, *, busy_timeout: float = 5.0, synchronous: str = "FULL", readers: int = 2) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        options: dict[str, Any] = (
            {"timeout": busy_timeout} if self.is_sqlite else {"min_size": 1, "max_size": 4 + readers}
        )
        self._db = Database(url, **options)
        self._synchronous = synchronous
        self._nreaders = readers
        self._writer: Connection | None = None
        self._readers: list[tuple[Connection, asyncio.Lock]] = []
        self._next_reader = 0
        self.epoch = ""

    # -- lifecycle -------------------------------------------------------------------------------------

    async def connect(self) -> None:
        try:
            await self._db.connect()
            self._writer = await self._open_connection(writer=True)
            await self._create_schema(self._writer)
            self._readers = [(await self._open_connection(writer=False), asyncio.Lock()) for _ in range(self._nreaders)]
        except Exception as exc:
            await self.close()
            raise Unavailable(f"cannot open database: {exc}") from exc

    async def close(self) -> None:
        conns = [c for c, _ in self._readers] + ([self._writer] if self._writer else [])
        self._readers, self._writer = [], None
        for conn in conns:
            try:
                await conn.__aexit__(None, None, None)
            except Exception:
                log.debug("closing a connection failed", exc_info=True)
        if self._db.is_connected:
            await self._db.disconnect()

    async def _open_connection(self, *, writer: bool) -> Connection:
        conn = Connection(self._db, self._db._backend)
        await conn.__aenter__()
        if self.is_sqlite:
            if writer:
                await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute(f"PRAGMA synchronous={self._synchronous}")
        return conn

    async def _create_schema(self, conn: Connection) -> None:
        for table in metadata.sorted_tables:
            await conn.execute(CreateTable(table, if_not_exists=True))
            for index in sorted(table.indexes, key=lambda i: i.name or ""):
                await conn.execute(CreateIndex(index, if_not_exists=True))
        await conn.execute(self._insert_ignore(meta_table, [{"key": "epoch", "value": uuid.uuid4().hex}]))
        row = await conn.fetch_one(sa.select(meta_table.c.value).where(meta_table.c.key == "epoch"))
        assert row is not None
        self.epoch = row["value"]

    def _insert_ignore(self, table: sa.Table, rows: list[dict[str, Any]]) -> sa.Insert:
        ins = (sqlite.insert(table) if self.is_sqlite else postgresql.insert(table)).values(rows)
        return ins.on_conflict_do_nothing()

    async def _reconnect_writer(self) -> None:
        old, self._writer = self._writer, None
        if old is not None:
            try:
                await old.__aexit__(None, None, None)
            except Exception:
                pass
        self._writer = await self._open_connection(writer=True)

    # -- writes ----------------------------------------------------------------------------------------

    async def apply(self, ops: Sequence[WriteOp]) -> list[WriteResult | NotesError]:
        """Commit a batch in one transaction; per-op outcomes in order. Raises Unavailable if nothing committed."""
        try:
            if self._writer is None:
                await self._reconnect_writer()
            conn = self._writer
            assert conn is not None
            await conn.execute("BEGIN IMMEDIATE" if self.is_sqlite else "BEGIN")
            try:
                results = await self._apply_in_tx(conn, ops)
                await conn.execute("COMMIT")
            except BaseException:
                try:
                    await conn.execute("ROLLBACK")
                except Exception:
                    self._writer = None
                raise
            return results
        except NotesError:
            raise
        except Exception as exc:
            log.warning("write transaction failed: %s", exc)
            raise Unavailable(f"database unavailable: {type(exc).__name__}") from exc

    async def _apply_in_tx(self, conn: Connection, ops: Sequence[WriteOp]) -> list[WriteResult | NotesError]:
        now = now_iso()
        board_names = sorted({op.board for op in ops})
        creating = sorted({op.board for op in ops if isinstance(op.command, CreateCommand)})
        if creating:
            await conn.execute(
                self._insert_ignore(boards, [{"board": b, "seq": 0, "live": 0, "updated_at": now} for b in creating])
            )
        rows = await conn.fetch_all(
            sa.select(boards.c.board, boards.c.seq, boards.c.live)
            .where(boards.c.board.in_(board_names))
            .order_by(boards.c.board)
            .with_for_update()
        )
        seqs = {r["board"]: r["seq"] for r in rows}
        live = {r["board"]: r["live"] for r in rows}

        ids = sorted({op.command.id for op in ops if not isinstance(op.command, CreateCommand)})
        current: dict[int, Note] = {}
        if ids:
            for r in await conn.fetch_all(sa.select(*NOTE_COLUMNS).where(notes.c.id.in_(ids))):
                current[r["id"]] = _note(r)

        client_ids = sorted(
            {op.command.client_id for op in ops if isinstance(op.command, CreateCommand) and op.command.client_id}
        )
        known: dict[tuple[str, str], Note] = {}
        known_seq: dict[tuple[str, str], int] = {}
        if client_ids:
            q = sa.select(*NOTE_COLUMNS, notes.c.client_id, notes.c.created_seq).where(
                notes.c.client_id.in_(client_ids), notes.c.board.in_(board_names)
            )
            for r in await conn.fetch_all(q):
                key = (r["board"], r["client_id"])
                known[key] = _note(r)
                known_seq[key] = int(r["created_seq"])

        results: list[WriteResult | NotesError] = []
        inserts: list[Note] = []
        insert_cids: list[str | None] = []
        pending_creates: dict[tuple[str, str], WriteResult] = {}
        dirty: dict[int, Note] = {}
        for op in ops:
            cmd = op.command
            board = op.board
            if isinstance(cmd, CreateCommand):
                key = (board, cmd.client_id) if cmd.client_id else None
                if key is not None and key in pending_creates:
                    first = pending_creates[key]
                    results.append(WriteResult(first.note, first.seq, None))
                    continue
                if key is not None and key in known:
                    results.append(WriteResult(known[key], known_seq[key], None))
                    continue
                seq = seqs[board] = seqs[board] + 1
                live[board] += 1
                note: Note = {
                    "id": 0,
                    "board": board,
                    "text": cmd.text,
                    "author": cmd.author if cmd.author is not None else op.author,
                    "color": cmd.color,
                    "x": cmd.x,
                    "y": cmd.y,
                    "version": 1,
                    "seq": seq,
                    "created_at": now,
                    "updated_at": now,
                    "deleted": False,
                }
                inserts.append(note)
                insert_cids.append(cmd.client_id)
                result = WriteResult(note, seq, "created")
                if key is not None:
                    pending_creates[key] = result
                results.append(result)
                continue

            found = current.get(cmd.id)
            if found is None or found["board"] != board or found["deleted"]:
                results.append(NotFound(f"note {cmd.id} not found on board {board}", cmd.client_id))
                continue
            if cmd.version is not None and cmd.version != found["version"]:
                results.append(
                    Conflict(f"note {cmd.id} is at version {found['version']}, not {cmd.version}", cmd.client_id)
                )
                continue
            seq = seqs[board] = seqs[board] + 1
            changed: Note = {**found, "version": found["version"] + 1, "seq": seq, "updated_at": now}  # type: ignore[typeddict-item]
            if isinstance(cmd, UpdateCommand):
                changed.update(cmd.changes)  # type: ignore[typeddict-item]
                op_name: Op = "updated"
            else:
                changed["deleted"] = True
                live[board] -= 1
                op_name = "deleted"
            current[cmd.id] = dirty[cmd.id] = changed
            results.append(WriteResult(changed, seq, op_name))

        if inserts:
            values = [
                {k: v for k, v in n.items() if k != "id"} | {"client_id": cid, "created_seq": n["seq"]}
                for n, cid in zip(inserts, insert_cids, strict=True)
            ]
            returned = await conn.fetch_all(
                notes.insert().values(values).returning(notes.c.id, notes.c.board, notes.c.seq)
            )
            by_seq = {(r["board"], r["seq"]): r["id"] for r in returned}
            for n in inserts:
                n["id"] = by_seq[(n["board"], n["seq"])]
        for n in dirty.values():
            await conn.execute(
                notes.update()
                .where(notes.c.id == n["id"])
                .values(
                    text=n["text"],
                    color=n["color"],
                    x=n["x"],
                    y=n["y"],
                    version=n["version"],
                    seq=n["seq"],
                    updated_at=n["updated_at"],
                    deleted=n["deleted"],
                )
            )
        for board in board_names:
            if seqs.get(board) is not None and any(
                isinstance(r, WriteResult) and r.op is not None and r.note["board"] == board for r in results
            ):
                await conn.execute(
                    boards.update()
                    .where(boards.c.board == board)
                    .values(seq=seqs[board], live=live[board], updated_at=now)
                )
        return results

    # -- reads -----------------------------------------------------------------------------------------

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[Connection]:
        """A read transaction on one of the reader connections (consistent snapshot of several queries)."""
        if not self._readers:
            raise Unavailable("database is not connected")
        free = [pair for pair in self._readers if not pair[1].locked()]
        if free:
            conn, lock = free[0]
        else:
            self._next_reader = (self._next_reader + 1) % len(self._readers)
            conn, lock = self._readers[self._next_reader]
        async with lock:
            try:
                await conn.execute("BEGIN" if self.is_sqlite else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            except Exception as exc:
                raise Unavailable(f"database unavailable: {type(exc).__name__}") from exc
            try:
                yield conn
            except NotesError:
                raise
            except Exception as exc:
                raise Unavailable(f"database unavailable: {type(exc).__name__}") from exc
            finally:
                try:
                    await conn.execute("COMMIT")
                except Exception:
                    log.debug("read commit failed", exc_info=True)

    async def read_notes(self, board: str, since: int | None, limit: int | None) -> BoardPage:
        """Without `since`: the newest `limit` live notes; with it: changes after `since` (tombstones too)."""
        async with self._read() as conn:
            row = await conn.fetch_one(sa.select(boards.c.seq).where(boards.c.board == board))
            seq = int(row["seq"]) if row else 0
            q = sa.select(*NOTE_COLUMNS).where(notes.c.board == board)
            if since is None:
                q = q.where(notes.c.deleted == sa.false()).order_by(notes.c.seq.desc())
            else:
                q = q.where(notes.c.seq > since).order_by(notes.c.seq.asc())
            if limit is not None:
                q = q.limit(limit + 1)
            found = [_note(r) for r in await conn.fetch_all(q)]
        more = limit is not None and len(found) > limit
        if more:
            found = found[:limit]
        if since is None:
            found.reverse()
        return BoardPage(board, self.epoch, seq, found, more)

    async def list_boards(self, limit: int) -> list[BoardSummary]:
        async with self._read() as conn:
            rows = await conn.fetch_all(
                sa.select(boards.c.board, boards.c.live, boards.c.seq)
                .where(boards.c.seq > 0)
                .order_by(boards.c.updated_at.desc(), boards.c.board)
                .limit(limit)
            )
        return [BoardSummary(r["board"], int(r["live"]), int(r["seq"])) for r in rows]

    async def healthy(self) -> bool:
        try:
            async with self._read() as conn:
                await conn.fetch_val("SELECT 1")
            return True
        except Exception:
            return False
