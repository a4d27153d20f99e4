"""Test support: a real notesboard server in a subprocess on a free port, and a small socket client.

The server is started through the real CLI (`python -m notesboard serve`), so tests cover exactly what
users run. Each `ServerProcess` can be stopped (SIGTERM, graceful), killed (SIGKILL) and started again on
the same database and port.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
import websockets
from websockets.asyncio.client import ClientConnection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """`notesboard serve` in a child process; `url`/`ws_url()` point at it."""

    def __init__(self, database_url: str, log_path: Path, env: dict[str, str] | None = None, port: int | None = None):
        self.database_url = database_url
        self.log_path = log_path
        self.env = env or {}
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def ws_url(self, board: str, **query: Any) -> str:
        qs = urlencode({k: v for k, v in query.items() if v is not None})
        return f"ws://127.0.0.1:{self.port}/ws/{board}" + (f"?{qs}" if qs else "")

    def start(self, timeout: float = 20.0) -> ServerProcess:
        env = {**os.environ, "NOTESBOARD_LOG_LEVEL": "info", **self.env}
        cmd = [sys.executable, "-m", "notesboard", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        cmd += ["--database-url", self.database_url]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"server did not become healthy:\n{self.log()}")

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait: the graceful path."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill(self) -> None:
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


class Client:
    """A thin wrapper over a `websockets` connection that speaks notesboard frames."""

    def __init__(self, ws: ClientConnection):
        self.ws = ws
        self.snapshot: dict[str, Any] = {}
        self._pending: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any] | str | bytes) -> None:
        if isinstance(frame, dict):
            frame = orjson.dumps(frame).decode()
        await self.ws.send(frame)

    async def _read(self, timeout: float) -> None:
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        self._pending.extend(orjson.loads(line) for line in str(raw).split("\n"))

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next frame not yet consumed (frames skipped by `recv_until` come first, in order)."""
        if not self._pending:
            await self._read(timeout)
        return self._pending.pop(0)

    async def recv_until(self, pred: Any, timeout: float = 5.0) -> dict[str, Any]:
        """The first frame matching `pred`; the frames it passes over stay queued for later calls."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        checked = 0
        while True:
            for i in range(checked, len(self._pending)):
                if pred(self._pending[i]):
                    return self._pending.pop(i)
            checked = len(self._pending)
            await self._read(max(0.01, deadline - loop.time()))

    async def recv_type(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next frame of this type; others stay queued."""
        return await self.recv_until(lambda f: f["type"] == kind, timeout)

    async def request(self, frame: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
        """Send and wait for the ack or error carrying this frame's client_id."""
        cid = frame.get("client_id")
        assert cid, "request() needs a client_id"
        await self.send(frame)
        return await self.recv_until(lambda f: f["type"] in ("ack", "error") and f.get("client_id") == cid, timeout)

    async def ping(self, timeout: float = 5.0) -> None:
        await self.send({"type": "ping"})
        await self.recv_type("pong", timeout)

    async def close(self) -> None:
        await self.ws.close()


@contextlib.asynccontextmanager
async def connect(server: ServerProcess, board: str, **query: Any) -> AsyncIterator[Client]:
    """Open a socket, read the snapshot into `client.snapshot`, close at the end."""
    # max_queue=None: frames a test never reads must not stall the close handshake (10 s each).
    async with websockets.connect(server.ws_url(board, **query), max_size=None, max_queue=None, open_timeout=10) as ws:
        client = Client(ws)
        client.snapshot = await client.recv()
        assert client.snapshot["type"] == "snapshot", client.snapshot
        yield client
