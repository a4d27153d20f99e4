"""Test support shared by tests/ and bench/: real servers, real databases, real brokers, and faults.

It lives beside the tests, outside the shipped package (the wheel holds only `server/notesboard`): it needs a
source checkout. bench/ scripts put the repository root on `sys.path` to import it (`bench/_paths.py`), and
strict mypy checks it with the server code. Nothing in the server imports it.

- `process`: `notesboard serve` (or any server command) in a subprocess on the port it really bound.
- `launcher`, `zygote`: how `process` forks `notesboard serve` from a process with the imports done.
- `cli`: `python -m notesboard ARGS` for tests of what a command does (post, tail, export, backup...), forked too.
- `procfs`: the listening and established sockets of a process tree, read from /proc without races.
- `databases`: a fresh SQLite file or a fresh Postgres database, dropped after.
- `brokers`: Redis/LISTEN-NOTIFY broker URLs for a database, and cutting a server's Redis subscription.
- `proxy`: a TCP proxy that can cut every connection through it and refuse new ones, then recover.

What is unreachable (Postgres, Redis) raises `Unreachable` with the reason; tests/conftest.py turns that into
a skip that says why.
"""

from __future__ import annotations

from tests.support.databases import POSTGRES_ADMIN, Database, Unreachable, sqlite_url
from tests.support.process import ROOT, ServerProcess

__all__ = ["POSTGRES_ADMIN", "ROOT", "Database", "ServerProcess", "Unreachable", "sqlite_url"]
