"""Fixtures: a real server per test module (and per test where it must restart), on each database.

Every server-level test runs twice: on a fresh SQLite file and on a fresh Postgres database (created for the
test and dropped after). Postgres comes from NOTESBOARD_TEST_POSTGRES (default: the machine's service at
postgresql://postgres@127.0.0.1:5432/test); when it is unreachable those runs are skipped with the reason.

The core contract modules (BROKER_MODULES) also run on Postgres with each multi-process backplane, Redis
pub/sub (NOTESBOARD_TEST_REDIS, default redis://127.0.0.1:6379/0) and Postgres LISTEN/NOTIFY: every event
then goes through the broker and the ordering relay. tests/test_scaleout.py runs several processes.
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
REDIS_URL = os.environ.get("NOTESBOARD_TEST_REDIS", "redis://127.0.0.1:6379/0")
BACKENDS = ["sqlite", "postgres"]
# Database + broker: the single-process setups everywhere, the multi-process backplanes in BROKER_MODULES.
COMBOS = [*BACKENDS, "postgres-redis", "postgres-notify"]
BROKER_MODULES = {"tests.test_ingress", "tests.test_rest"}


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


_redis_error: str | None = None


def redis_reason() -> str | None:
    """Why Redis cannot be used, or None when it can (asked once per session)."""
    global _redis_error
    if _redis_error is None:
        import redis

        try:
            client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3, socket_timeout=3)
            client.ping()
            client.close()
            _redis_error = ""
        except (redis.RedisError, OSError) as exc:
            _redis_error = f"Redis at {REDIS_URL} is unreachable: {exc}"
    return _redis_error or None


def broker_url(kind: str, db: Database) -> str:
    """The --broker URL for `kind` (memory, redis or notify); skips the test if that broker is unreachable."""
    if kind == "redis":
        reason = redis_reason()
        if reason:
            pytest.skip(reason)
        return REDIS_URL  # the channel defaults to one per database, so test servers never mix
    if kind == "notify":
        return db.url.replace("postgresql+asyncpg://", "postgresql://", 1)
    return "memory://"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "server" in metafunc.fixturenames:
        combos = COMBOS if metafunc.module.__name__ in BROKER_MODULES else BACKENDS
        metafunc.parametrize("server", combos, indirect=True, scope="module")


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server per test module and database backend (and broker, in BROKER_MODULES); a module's
    `SERVER_ENV` dict adds settings."""
    backend, _, broker = request.param.partition("-")
    tmp = tmp_path_factory.mktemp("server")
    db = Database(backend, tmp)
    try:
        env = {"NOTESBOARD_BROKER": broker_url(broker or "memory", db), **getattr(request.module, "SERVER_ENV", {})}
    except BaseException:
        db.drop()
        raise
    srv = ServerProcess(db.url, tmp / "server.log", env=env).start()
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
