"""A Redis server of the test's own (its own port, nothing on disk), for faults that the machine's shared one
must not suffer: stopping it, killing every client connection. `Unreachable` says why when it cannot start.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.databases import Unreachable

__all__ = ["PrivateRedis"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateRedis:
    """`start()`, `stop()` (the process ends: every connection is refused), `kill_clients()`, `close()`."""

    def __init__(self, port: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise Unreachable("redis-server is not installed (a private Redis needs it)")
        self.binary = binary
        self.port = port or _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="notesboard-redis-"))
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> PrivateRedis:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(
            [*args, "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Unreachable(f"redis-server exited with {self.proc.returncode} on port {self.port}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise Unreachable(f"redis-server did not answer on port {self.port} within 10 s")

    def command(self, *parts: str) -> bytes:
        """One command, RESP-encoded; the raw reply."""
        body = b"".join(f"${len(p.encode())}\r\n{p}\r\n".encode() for p in parts)
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(f"*{len(parts)}\r\n".encode() + body)
            return s.recv(4096)

    def kill_clients(self) -> int:
        """Close every client connection (the servers' publishers and subscriptions); how many were closed."""
        reply = self.command("CLIENT", "KILL", "SKIPME", "yes", "TYPE", "normal")
        reply2 = self.command("CLIENT", "KILL", "SKIPME", "yes", "TYPE", "pubsub")
        return sum(int(r[1:].split(b"\r\n")[0]) for r in (reply, reply2) if r.startswith(b":"))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def close(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
