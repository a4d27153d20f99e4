"""The driver connections under `databases`, used only through its public API.

`databases` hands out one connection per asyncio task (`Database.connection()` is keyed by the current
task), and the store keeps several long-lived ones (a writer and a few readers). So each is a `Lease`: a
task of its own that holds `async with database.connection()` open until the lease is closed, and hands
out the connection's `raw_connection` (aiosqlite or asyncpg). Acquire and release stay inside that one
`async with`; nothing calls `__aenter__`/`__aexit__` by hand or builds a `Connection` itself.

`Driver` gives both drivers one calling convention for the statements on the hot paths.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Sequence
from typing import Any

import asyncpg
from databases import Database
from databases.core import Connection

__all__ = ["Driver", "Lease", "connection_lost", "lost_a_race"]

log = logging.getLogger("notesboard.store")


def lost_a_race(exc: BaseException) -> bool:
    """A write conflict with another process's concurrent transaction, worth one retry of the batch."""
    if isinstance(exc, sqlite3.IntegrityError):
        return "UNIQUE" in str(exc)
    return isinstance(exc, asyncpg.UniqueViolationError | asyncpg.DeadlockDetectedError)


def connection_lost(exc: BaseException) -> bool:
    """The connection under a statement is gone (a database restart, a cut network), not the statement wrong.

    When the server ends a pooled asyncpg connection, asyncpg hands it back to its pool at once, so the next
    statement on it fails with "connection has been released back to the pool" rather than with a
    connection error: that message means the same thing here.
    """
    if isinstance(exc, asyncpg.ConnectionDoesNotExistError | ConnectionError):
        return True
    return isinstance(exc, asyncpg.InterfaceError) and "released back to the pool" in str(exc)


class Driver:
    """The driver connection under a `databases` connection, with one calling convention for both drivers.

    SQL is written with `?` placeholders; for asyncpg they become `$1, $2, ...`. `IN` lists are built by
    `in_list()`: `IN (?, ?)` on SQLite, `= ANY(?)` with one array parameter on Postgres; lists of pairs to
    join on by `text_pairs()`.
    """

    def __init__(self, raw: Any, is_sqlite: bool) -> None:
        self.raw = raw
        self.is_sqlite = is_sqlite
        self._sql: dict[str, str] = {}

    def alive(self) -> bool:
        """False when the connection is known to be gone, without a round trip: asyncpg has seen the server
        close it (a restart) and handed it back to its pool. SQLite's is a file: always True."""
        if self.is_sqlite:
            return True
        try:
            return not self.raw.is_closed()
        except asyncpg.InterfaceError:  # "released back to the pool": the server ended it
            return False

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

    def text_pairs(self, alias: str, pairs: Sequence[tuple[str, str]]) -> tuple[str, list[Any]]:
        """A table `alias(column1, column2)` of text pairs to join on: `(VALUES (?, ?), ...)` on SQLite, two
        unnested arrays on Postgres. Joined on both columns of a two-column index, each pair is one index
        probe; `a IN (...) AND b IN (...)` would probe every combination, `b IN (...)` alone scans the index."""
        if self.is_sqlite:
            return f"(VALUES {', '.join(['(?, ?)'] * len(pairs))}) AS {alias}", [v for pair in pairs for v in pair]
        return f"unnest(?::text[], ?::text[]) AS {alias}(column1, column2)", [
            [a for a, _ in pairs],
            [b for _, b in pairs],
        ]

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


class Lease:
    """One `databases` connection kept open by its own task until `close()` (or the end of `async with`)."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._release = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.connection: Connection | None = None

    async def open(self) -> Any:
        """Acquire the connection; returns its driver connection. Raises what acquiring raised."""
        ready: asyncio.Future[Connection] = asyncio.get_running_loop().create_future()
        self._task = asyncio.get_running_loop().create_task(self._hold(ready), name="notesboard-db-connection")
        self.connection = await ready
        return self.connection.raw_connection

    async def _hold(self, ready: asyncio.Future[Connection]) -> None:
        try:
            async with self._database.connection() as conn:
                ready.set_result(conn)
                await self._release.wait()
        except asyncio.CancelledError:
            ready.cancel()  # no-op once the connection was handed out
            raise
        except Exception as exc:
            if not ready.done():
                ready.set_exception(exc)  # acquiring failed: open() raises it
                return
            log.debug("releasing a database connection failed", exc_info=True)

    async def close(self) -> None:
        """Release the connection (errors while releasing a broken one are only logged)."""
        self._release.set()
        task, self._task = self._task, None
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    async def __aenter__(self) -> Lease:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
