"""Fixtures: a real server per test module (and per test where it must restart), on each database.

Every server-level test runs twice: on a fresh SQLite file and on a fresh Postgres database (created for the
test and dropped after). Postgres comes from NOTESBOARD_TEST_POSTGRES (default: the machine's service at
postgresql://postgres@127.0.0.1:5432/test); when it is unreachable those runs are skipped with the reason.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.helpers import ServerProcess

POSTGRES_ADMIN = os.environ.get("NOTESBOARD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgres"]


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(POSTGRES_ADMIN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


_pg_error: str | None = None


def _postgres_reason() -> str | None:
    """Why Postgres cannot be used, or None when it can (asked once per session)."""
    global _pg_error
    if _pg_error is None:
        try:
            asyncio.run(_admin("SELECT 1"))
            _pg_error = ""
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            _pg_error = f"Postgres at {POSTGRES_ADMIN} is unreachable: {exc}"
    return _pg_error or None


class Database:
    """A fresh database for one server: a SQLite file, or a Postgres database dropped at the end."""

    def __init__(self, backend: str, tmp: Path) -> None:
        self.backend = backend
        self.name = ""
        if backend == "sqlite":
            self.url = sqlite_url(tmp / "notes.db")
            return
        reason = _postgres_reason()
        if reason:
            pytest.skip(reason)
        self.name = f"nb_test_{uuid.uuid4().hex[:12]}"
        asyncio.run(_admin(f'CREATE DATABASE "{self.name}"'))
        base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        self.url = f"{base}/{self.name}"

    def drop(self) -> None:
        if self.name:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server per test module and database backend."""
    tmp = tmp_path_factory.mktemp("server")
    db = Database(request.param, tmp)
    srv = ServerProcess(db.url, tmp / "server.log").start()
    yield srv
    srv.stop()
    db.drop()


@pytest.fixture(params=BACKENDS)
def fresh_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of its own, not yet started, for tests that restart or kill it."""
    db = Database(request.param, tmp_path)
    srv = ServerProcess(db.url, tmp_path / "server.log")
    yield srv
    srv.kill()
    db.drop()
