"""A PostgreSQL server of the test's own (initdb in a temporary folder, its own port), for faults that the
machine's shared service must not suffer: a restart, a stop. Started with the machine's PostgreSQL binaries
as the `postgres` user (initdb refuses root); `Unreachable` says why when that is not possible here.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.databases import Unreachable

__all__ = ["PrivatePostgres"]


def _bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        raise Unreachable("no PostgreSQL binaries under /usr/lib/postgresql/*/bin (a private server needs them)")
    return Path(found[-1]).parent


class PrivatePostgres:
    """`start()`, `restart()` (fast: every connection is cut), `close()` (stop, remove); `url` for notesboard.

    Its folder is a new one under the system's temporary folder (pytest's are private to root, and the server
    runs as `postgres`).
    """

    def __init__(self, port: int) -> None:
        self.bin = _bin()
        self.folder = Path(tempfile.mkdtemp(prefix="notesboard-pg-"))
        self.data = self.folder / "data"
        self.port = port
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
        self._as_postgres: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                raise Unreachable("running as root without runuser: cannot start PostgreSQL as `postgres`")
            self._as_postgres = [runuser, "-u", "postgres", "--"]

    def _run(self, *argv: str) -> None:
        done = subprocess.run([*self._as_postgres, *argv], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise Unreachable(f"{Path(argv[0]).name} failed: {(done.stderr or done.stdout).strip()[-300:]}")

    def _ctl(self, action: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-m", "fast", "-o", options,
                  "-l", str(self.folder / "server.log"), action)  # fmt: skip

    def start(self) -> PrivatePostgres:
        if self._as_postgres:
            shutil.chown(self.folder, "postgres")
        if not self.data.exists():
            self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self._ctl("start")
        return self

    def restart(self) -> None:
        self._ctl("restart")

    def close(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._ctl("stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
