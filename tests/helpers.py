"""Sockets for tests that speak raw notesboard frames: the package's wire client (servers: tests.support)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from notesboard.client import Connection
from tests.support import ServerProcess

Client = Connection  # the tests' name for it


@contextlib.asynccontextmanager
async def connect(server: ServerProcess, board: str, **query: Any) -> AsyncIterator[Connection]:
    """Open a socket, read the snapshot into `client.snapshot`, close at the end."""
    async with await Connection.open(server.url, board, **query) as client:
        yield client
