"""A fresh database per server: a SQLite file, or a Postgres database created for it and dropped after.

Postgres comes from NOTESBOARD_TEST_POSTGRES (default: the machine's service at
postgresql://postgres@127.0.0.1:5432/test). Database names are random, so parallel test workers never meet.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import asyncpg

__all__ = ["POSTGRES_ADMIN", "Database", "Unreachable", "postgres_reason", "sqlite_url"]

POSTGRES_ADMIN = os.environ.get("NOTESBOARD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


class Unreachable(RuntimeError):
    """A service a test needs (Postgres, Redis) cannot be reached; the message says which and why."""


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def postgres_port() -> int:
    """The admin URL's port (for proxies in front of it)."""
    return int(POSTGRES_ADMIN.rsplit(":", 1)[1].split("/")[0])


async def admin(sql: str) -> None:
    """Run one statement as the admin user."""
    conn = await asyncpg.connect(POSTGRES_ADMIN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


_pg_error: str | None = None


def postgres_reason() -> str | None:
    """Why Postgres cannot be used, or None when it can (asked once per process)."""
    global _pg_error
    if _pg_error is None:
        try:
            asyncio.run(admin("SELECT 1"))
            _pg_error = ""
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            _pg_error = f"Postgres at {POSTGRES_ADMIN} is unreachable: {exc}"
    return _pg_error or None


class Database:
    """A fresh database for one server (`backend` "sqlite" or "postgres"); `drop()` removes a Postgres one."""

    def __init__(self, backend: str, tmp: Path) -> None:
        self.backend = backend
        self.name = ""
        if backend == "sqlite":
            self.url = sqlite_url(tmp / "notes.db")
            return
        if backend != "postgres":
            raise ValueError(f"unknown backend {backend!r}")
        reason = postgres_reason()
        if reason:
            raise Unreachable(reason)
        self.name = f"nb_test_{uuid.uuid4().hex[:12]}"
        asyncio.run(admin(f'CREATE DATABASE "{self.name}"'))
        base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        self.url = f"{base}/{self.name}"

    @property
    def dsn(self) -> str:
        """The URL asyncpg (and the LISTEN/NOTIFY broker) takes: no `+asyncpg` driver suffix."""
        return self.url.replace("postgresql+asyncpg://", "postgresql://", 1)

    def drop(self) -> None:
        if self.name:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self.name = ""
