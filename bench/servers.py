"""The servers a benchmark compares: notesboard (`notesboard serve`) and the tutorial baseline, as subprocesses."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One server process on 127.0.0.1 and a fresh SQLite file; `kind` is "notesboard" or "baseline"."""

    def __init__(self, kind: str, workdir: Path, env: dict[str, str] | None = None, label: str | None = None) -> None:
        self.kind = kind
        self.label = label or kind
        self.db = workdir / f"{self.label}.db"
        self.log = workdir / f"{self.label}.log"
        self.env = env or {}
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def command(self) -> list[str]:
        if self.kind == "baseline":
            return [
                sys.executable,
                str(ROOT / "bench" / "baseline_tutorial.py"),
                "--port",
                str(self.port),
                "--db",
                str(self.db),
            ]
        return [
            sys.executable,
            "-m",
            "notesboard",
            "serve",
            "--port",
            str(self.port),
            "--database-url",
            f"sqlite+aiosqlite:///{self.db}",
        ]

    def start(self, timeout: float = 30.0) -> Server:
        env = {
            **os.environ,
            "NOTESBOARD_LOG_LEVEL": "warning",
            "NOTESBOARD_MAX_CONNECTIONS": "20000",
            "NOTESBOARD_MAX_CONNECTIONS_PER_IP": "20000",  # every client of the benchmark is 127.0.0.1
            **self.env,
        }
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label} exited with {self.proc.returncode}; see {self.log}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"{self.label} did not become healthy; see {self.log}")

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
