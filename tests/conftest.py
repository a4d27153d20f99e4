"""Fixtures: a fresh SQLite file and a real server per test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ServerProcess


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server per test module, on its own SQLite file."""
    tmp = tmp_path_factory.mktemp("server")
    srv = ServerProcess(sqlite_url(tmp / "notes.db"), tmp / "server.log").start()
    yield srv
    srv.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of its own for tests that restart or kill it."""
    srv = ServerProcess(sqlite_url(tmp_path / "notes.db"), tmp_path / "server.log")
    yield srv
    srv.kill()
