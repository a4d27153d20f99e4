"""A server in a subprocess, on the port it bound itself.

The first start asks for port 0 and reads the port the kernel gave from /proc (the listening socket of the
process or of its workers), so no port is picked, released and hoped to still be free. Later starts (after
`stop` or `kill`) ask for that same port again, so clients can come back to the same URL.

The server is the real CLI (`notesboard serve`), so tests cover exactly what users run. By default it is
forked from a process that has already imported the server (launcher.py, zygote.py): the same CLI function
and uvicorn server, with its own environment, cwd, log and exit code, minus ~1.9 s of CPU for Python's
start-up and imports per server. It is a plain `python -m notesboard serve` subprocess instead when
`fork=False`, when NOTESBOARD_TEST_FORK=0, when `command()` is overridden (bench/ runs the tutorial baseline
and its own servers this way), or when the environment asked for differs in more than NOTESBOARD_*/PYTEST_*
(what a fork could not honour). tests/test_launcher.py runs one server both ways and compares them; the
tests about the command itself exec `python -m notesboard` themselves: test_make (`make run` serving until
/healthz), test_startup_errors (each exit status), test_cli (the entry point's --help and --version),
test_secrets (refused settings), test_settings_docs (--help), test_scaleout (--workers refusing :memory:).
Other commands in tests go through `testing.cli.run`, forked the same way. Servers also keep pytest's
process group, as the subprocess did; only their stdin is /dev/null rather than pytest's.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.support import launcher
from tests.support.paths import ROOT
from tests.support.procfs import children, listening_ports

__all__ = ["ROOT", "ServerProcess"]

POLL_S = 0.02


class ServerProcess:
    """`notesboard serve` in a child process; `url`/`ws_url()` point at it once started.

    `port=None` lets the server choose (0) on the first start; `env` adds NOTESBOARD_* settings; `args` adds
    serve flags; `fork=False` (or NOTESBOARD_TEST_FORK=0) starts it as a plain subprocess.
    """

    def __init__(
        self,
        database_url: str,
        log_path: Path,
        env: dict[str, str] | None = None,
        port: int | None = None,
        args: list[str] | None = None,
        log_level: str = "info",
        fork: bool = True,
    ) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.env = env or {}
        self.port = port or 0
        self.args = args or []
        self.log_level = log_level
        self.fork = fork
        self.proc: subprocess.Popen[bytes] | launcher.Forked | None = None

    @property
    def url(self) -> str:
        assert self.port, "the server has not been started yet"
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def workers(self) -> list[int]:
        """The serving processes: the supervisor's children with --workers N, else the server itself."""
        kids = children(self.pid)
        return kids or [self.pid]

    def ws_url(self, board: str, **query: Any) -> str:
        qs = urlencode({k: v for k, v in query.items() if v is not None})
        return f"ws://127.0.0.1:{self.port}/ws/{board}" + (f"?{qs}" if qs else "")

    def serve_args(self, port: int) -> list[str]:
        """The arguments after `python -m notesboard`."""
        return ["serve", "--host", "127.0.0.1", "--port", str(port), "--database-url", self.database_url, *self.args]

    def command(self, port: int) -> list[str]:
        return [sys.executable, "-m", "notesboard", *self.serve_args(port)]

    def forked(self, env: dict[str, str]) -> bool:
        """Whether start() forks the launcher (the same server) rather than exec'ing `command()`."""
        return self.fork and type(self).command is ServerProcess.command and launcher.usable(env)

    def start(self, timeout: float = 30.0) -> ServerProcess:
        env = {**os.environ, "NOTESBOARD_LOG_LEVEL": self.log_level, **self.env}
        if self.forked(env):
            self.proc = launcher.launch(self.serve_args(self.port), env, ROOT, self.log_path)
        else:
            with self.log_path.open("ab") as log:
                self.proc = subprocess.Popen(
                    self.command(self.port), stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT
                )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            if not self.port:
                ports = listening_ports(self.proc.pid)
                if len(ports) > 1:
                    self.kill()
                    raise RuntimeError(f"server listens on several ports {sorted(ports)}:\n{self.log()}")
                self.port = ports.pop() if ports else 0
            if self.port and self._healthy():
                return self
            time.sleep(POLL_S)
        self.kill()
        raise RuntimeError(f"server did not become healthy in {timeout} s:\n{self.log()}")

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait: the graceful path. Returns the exit code."""
        if self.proc is None:
            return 0
        if (code := self.proc.poll()) is not None:
            return code
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill(self) -> None:
        """SIGKILL: the crash path (a --workers supervisor's workers get SIGTERM through PDEATHSIG)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> ServerProcess:
        self.stop()
        return self.start()

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-8000:] if self.log_path.exists() else ""

    async def until_logged(self, text: str, timeout: float = 10.0) -> None:
        """Wait until the server's log contains `text` (what a fixed sleep would only hope for)."""
        deadline = time.monotonic() + timeout
        while not (self.log_path.exists() and text in self.log_path.read_text(errors="replace")):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not logged within {timeout} s:\n{self.log()}")
            await asyncio.sleep(0.05)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop()
        finally:
            self.kill()
