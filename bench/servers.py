"""The servers a benchmark compares: notesboard (`notesboard serve`) and the tutorial baseline, as subprocesses.

Both are `tests.support.ServerProcess`es (the tests' wrapper): each binds a port of its own choosing and
the wrapper reads it back, so parallel runs never race for a port.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for tests.support
from tests.support import ROOT, Database, ServerProcess, sqlite_url

__all__ = ["ROOT", "Database", "Server"]

BENCH_ENV = {
    "NOTESBOARD_MAX_CONNECTIONS": "20000",
    "NOTESBOARD_MAX_CONNECTIONS_PER_IP": "20000",  # every client of the benchmark is 127.0.0.1
}


class Server(ServerProcess):
    """One server process on 127.0.0.1 and a fresh SQLite file; `kind` is "notesboard" or "baseline".

    `database_url` replaces the SQLite file (a Postgres database the caller made); `code` runs notesboard from
    another checkout (its `server/` directory first on PYTHONPATH), e.g. the commit a change is compared with.
    """

    def __init__(
        self,
        kind: str,
        workdir: Path,
        env: dict[str, str] | None = None,
        label: str | None = None,
        database_url: str | None = None,
        code: Path | None = None,
    ) -> None:
        self.kind = kind
        self.label = label or kind
        self.db = workdir / f"{self.label}.db"
        env = {**BENCH_ENV, **(env or {})}
        if code is not None:
            env["PYTHONPATH"] = str(code.resolve() / "server")
        super().__init__(
            database_url or sqlite_url(self.db), workdir / f"{self.label}.log", env=env, log_level="warning"
        )

    def command(self, port: int) -> list[str]:
        if self.kind == "baseline":
            return [
                sys.executable,
                str(ROOT / "bench" / "baseline_tutorial.py"),
                "--port",
                str(port),
                "--db",
                str(self.db),
            ]
        return super().command(port)
