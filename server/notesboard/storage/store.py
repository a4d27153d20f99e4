"""The store: owns the database (`sqlite+aiosqlite://` or `postgresql+asyncpg://`) and is the only way to it.

Writes go through `apply()`, called by the single writer task with a whole batch (group commit): one
transaction (`BEGIN IMMEDIATE` on SQLite, board rows locked `FOR UPDATE` on Postgres) that loads what the
batch depends on, lets `domain.decide` apply the note rules, and persists the plan; every change gets its
board's next seq. The transaction is plain SQL on the driver connection, not `databases`' `transaction()`,
which would open a deferred `BEGIN`: the writer must hold SQLite's write lock from the first read.

Reads use a few long-lived reader connections; each read is one statement, which sees one consistent
snapshot by itself on both databases, so a page's notes and seq agree without an explicit transaction (and
without its extra round trips).

Database failures are translated here into `Unavailable`; nothing above this package sees a driver error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from databases import Database

from notesboard.contract.errors import NotesError, Unavailable
from notesboard.contract.model import BoardPage, BoardSummary, Note, Outcome, Session, WriteOp, now_iso
from notesboard.core import domain
from notesboard.storage import history, sql
from notesboard.storage.dbfile import FileIdentity, sqlite_file
from notesboard.storage.driver import Driver, Lease, connection_lost, lost_a_race
from notesboard.storage.schema import create_schema

__all__ = ["Store"]

log = logging.getLogger("notesboard.store")

T = TypeVar("T")


class _Reader:
    """A read connection and its lock; `db` is None after a failure until the next use reopens it."""

    __slots__ = ("conn", "db", "lock")

    def __init__(self, conn: Lease | None, db: Driver | None) -> None:
        self.conn = conn
        self.db = db
        self.lock = asyncio.Lock()


class Store:
    """An async context manager: connected (schema created or upgraded) on enter, closed on exit."""

    def __init__(
        self,
        url: str,
        *,
        busy_timeout: float = 5.0,
        synchronous: str = "FULL",
        readers: int = 2,
        max_boards: int = 100_000,
        history: bool = True,
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
        self.history = history  # keep the change log (history.py)
        self._write_lock = asyncio.Lock()  # write batches and maintenance steps (write_step) take turns
        self._writer: tuple[Lease, Driver] | None = None
        self._readers: list[_Reader] = []
        self._next_reader = 0
        self._file: FileIdentity | None = None  # the SQLite file opened (see dbfile.py)
        self.epoch = ""

    # -- lifecycle -------------------------------------------------------------------------------------

    async def __aenter__(self) -> Store:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        try:
            await self._db.connect()
            lease, _ = self._writer = await self._open_connection(writer=True)
            assert lease.connection is not None
            self.epoch = await create_schema(lease.connection, self.is_sqlite, self.history)
            for _ in range(self._nreaders):
                self._readers.append(_Reader(*await self._open_connection(writer=False)))
            path = sqlite_file(self.url)
            self._file = FileIdentity(path) if path is not None else None
        except Exception as exc:
            await self.close()
            raise Unavailable(f"cannot open database: {exc}") from exc

    async def close(self) -> None:
        leases = [r.conn for r in self._readers if r.conn] + ([self._writer[0]] if self._writer else [])
        self._readers, self._writer = [], None
        for lease in leases:
            await lease.close()
        if self._db.is_connected:
            await self._db.disconnect()

    async def _open_connection(self, *, writer: bool) -> tuple[Lease, Driver]:
        lease = Lease(self._db)
        driver = Driver(await lease.open(), self.is_sqlite)
        try:
            if self.is_sqlite:
                if writer:
                    await driver.execute("PRAGMA journal_mode=WAL")
                await driver.execute(f"PRAGMA synchronous={self._synchronous}")
        except BaseException:
            await lease.close()
            raise
        return lease, driver

    async def _reconnect_writer(self) -> tuple[Lease, Driver]:
        old, self._writer = self._writer, None
        if old is not None:
            await old[0].close()
        self._writer = await self._open_connection(writer=True)
        return self._writer

    # -- writes ----------------------------------------------------------------------------------------

    async def apply(self, ops: Sequence[WriteOp]) -> list[Outcome | NotesError]:
        """Commit a batch in one transaction; per-op outcomes in order. Raises Unavailable if nothing committed."""
        if self._file is not None and (why := self._file.problem()):
            raise Unavailable(f"database file {why}; see the server log")
        try:
            try:
                return await self._locked_apply(ops)
            except Exception as exc:
                if not lost_a_race(exc):
                    raise
                # Another process committed first what this batch assumed absent (the same client_id, a new
                # board) or Postgres broke a deadlock: the batch was rolled back; redo it, re-reading everything.
                log.info("write batch lost a race with another process (%s); retrying it once", type(exc).__name__)
                return await self._locked_apply(ops)
        except NotesError:
            raise
        except Exception as exc:
            # Whatever broke (network, restart, lock timeout), the next batch starts on a fresh connection.
            broken, self._writer = self._writer, None
            if broken is not None:
                await broken[0].close()
            if connection_lost(exc):
                log.warning(
                    "write transaction failed: the database connection was lost (%s); the next write reconnects", exc
                )
            else:
                log.warning("write transaction failed: %s", exc)
            raise Unavailable(f"database unavailable: {type(exc).__name__}") from exc

    async def _locked_apply(self, ops: Sequence[WriteOp]) -> list[Outcome | NotesError]:
        async with self._write_lock:  # maintenance steps (write_step) run between batches
            return await self._apply_once(ops)

    async def _apply_once(self, ops: Sequence[WriteOp]) -> list[Outcome | NotesError]:
        async with self._transaction() as db:
            now = now_iso()
            loaded = await sql.load(db, domain.needs(ops), now, max_boards=self._max_boards)
            plan = domain.decide(ops, loaded, now, max_boards=self._max_boards)
            await sql.persist(db, plan, now)
            await history.record(db, plan.results, plan.purged, log=self.history)
        return plan.results

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Driver]:
        """A write transaction on the writer connection: committed when the block ends, rolled back if it raises."""
        # A connection the database ended while idle (a restart) is replaced before the batch, not after it failed.
        _, db = self._writer if self._writer and self._writer[1].alive() else await self._reconnect_writer()
        await db.execute("BEGIN IMMEDIATE" if self.is_sqlite else "BEGIN")
        try:
            yield db
            await db.execute("COMMIT")
        except BaseException:
            try:
                await db.execute("ROLLBACK")
            except Exception:
                log.debug("rollback failed", exc_info=True)
            raise

    async def write_step(self, step: Callable[[Driver], Awaitable[T]]) -> T:
        """Run `step` in a write transaction of its own between batches (maintenance: history pruning).
        Raises Unavailable when the database fails (the next batch reconnects)."""
        async with self._write_lock:
            try:
                async with self._transaction() as db:
                    return await step(db)
            except NotesError:
                raise
            except Exception as exc:
                broken, self._writer = self._writer, None
                if broken is not None:
                    await broken[0].close()
                raise Unavailable(f"database unavailable: {type(exc).__name__}") from exc

    # -- reads -----------------------------------------------------------------------------------------

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[Driver]:
        """One of the reader connections (a free one first), reopened if it broke."""
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
                if reader.db is None or not reader.db.alive():  # broken (database restarted, network cut): reopen
                    if reader.conn is not None:
                        await reader.conn.close()
                    reader.conn, reader.db = await self._open_connection(writer=False)
                yield reader.db
            except NotesError:
                raise
            except Exception as exc:
                if reader.conn is not None:
                    await reader.conn.close()
                reader.conn = reader.db = None
                raise Unavailable(f"database unavailable: {type(exc).__name__}") from exc

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Driver]:
        """A reader inside a read-only transaction: its statements all see one state of the database."""
        async with self._read() as db:
            await db.execute("BEGIN" if self.is_sqlite else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield db
            finally:
                await db.execute("ROLLBACK")

    async def read_notes(self, board: str, since: int | None, limit: int | None) -> BoardPage:
        """Without `since`: the newest `limit` live notes; with it: changes after `since` (tombstones too)."""
        query, params = sql.page_query(board, since, limit)
        async with self._read() as db:
            rows = await db.fetch(query, params)
            # Read after the notes: a note private when they were read is still private now, or revealed.
            private = (
                {int(r[0]): r[1] for r in await db.fetch(sql.PRIVATE_QUERY, [board])} if rows and rows[0][-1] else {}
            )
        seq = int(rows[0][0]) if rows and rows[0][0] is not None else 0
        found = [sql.note_from_row(r[1:]) for r in rows if r[1] is not None]
        more = limit is not None and len(found) > limit
        if more:
            found = found[:limit]
        if since is None:
            found.reverse()
        return BoardPage(board, self.epoch, seq, found, more, private)

    async def private_owner(self, note_id: int) -> str | None:
        """Whose note this is while its board's writing is private (None: everyone's)."""
        async with self._read() as db:
            rows = await db.fetch("SELECT owner FROM private_notes WHERE id = ?", [note_id])
        return rows[0][0] if rows else None

    async def read_session(self, board: str) -> Session | None:
        """The board's session; None when it never had one."""
        async with self._read() as db:
            rows = await db.fetch(sql.SESSION_QUERY, [board])
        return sql.session_from_row(rows[0]) if rows else None

    async def read_votes(self, board: str) -> dict[tuple[int, str], int]:
        """The board's current vote: (note id, voter) -> votes."""
        async with self._read() as db:
            rows = await db.fetch(sql.VOTES_QUERY, [board])
        return {(int(r[0]), r[1]): int(r[2]) for r in rows}

    async def note_live(self, board: str, note_id: int) -> bool:
        """Is note `note_id` on `board` and not deleted? (awareness checks an `editing` id with it)"""
        async with self._read() as db:
            rows = await db.fetch(
                "SELECT 1 FROM notes WHERE id = ? AND board = ? AND deleted = ?", [note_id, board, False]
            )
        return bool(rows)

    async def read_ydoc(self, note_id: int) -> tuple[Note, bytes | None] | None:
        """A note and its Yjs document's state (None: no document yet); None when there is no such note."""
        if note_id > (sql.MAX_SQLITE_ID if self.is_sqlite else sql.MAX_POSTGRES_ID):
            return None
        async with self._read() as db:
            rows = await db.fetch(sql.YDOC_QUERY, [note_id])
        if not rows:
            return None
        return sql.note_from_row(rows[0][:-1]), None if rows[0][-1] is None else bytes(rows[0][-1])

    async def pending_ydocs(self) -> list[tuple[str, int]]:
        """(board, note id) of the notes whose quiet Yjs commits were never announced (see ytext/announce.py)."""
        async with self._read() as db:
            return [(r[0], int(r[1])) for r in await db.fetch(sql.PENDING_YDOCS, [True])]

    async def list_boards(self, limit: int) -> list[BoardSummary]:
        async with self._read() as db:
            rows = await db.fetch(sql.LIST_BOARDS, [limit])
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
        if self._file is not None and self._file.problem():
            return False
        for _ in range(2):  # a reader whose connection died (a database restart) is reopened on the second try
            try:
                async with self._read() as db:
                    await db.fetch("SELECT 1")
                return True
            except Exception:  # noqa: BLE001
                continue
        return False
