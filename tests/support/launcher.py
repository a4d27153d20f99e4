"""Start `python -m notesboard serve ...` by forking a preforked process (zygote.py) instead of exec'ing Python.

Why: Python's start-up and the server's imports cost ~1.9 s of CPU per server, about half the suite's CPU;
a fork of a process that has them already costs a few milliseconds. What runs is still the real server: the
same CLI function, the same uvicorn server, the same settings read from the child's own environment; only
the imported modules (and so the hash seed) are inherited. See zygote.py for what the child resets.

`launch()` returns a `Forked`, which quacks like the `subprocess.Popen` that ServerProcess used (pid, poll,
wait, send_signal, terminate, kill, returncode) and has the real exit code: the zygote is the child's
parent, reaps it and sends the code. Signals go through a pidfd, so a reused pid is never hit.

One zygote per test process (so one per pytest-xdist worker), started on first use and stopped at exit; it
also exits when its socket reaches EOF, so a crashed test process does not leave it (or its servers) behind.
`usable(env)` says when the environment asked for could not be honoured by a fork (anything read at
interpreter start or import time differs: only NOTESBOARD_*, PYTEST_* and the terminal size may, which are
read when used); the caller then uses a plain subprocess. NOTESBOARD_TEST_FORK=0 turns forking off.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from tests.support.paths import ROOT

__all__ = ["Forked", "enabled", "launch", "run", "usable"]

FREE_PREFIXES = ("NOTESBOARD_", "PYTEST_")  # read at run time only (Settings), or by nobody in the server
# rich reads these when it measures the terminal, not when a Console is made (so not in the zygote's imports)
FREE_NAMES = ("COLUMNS", "LINES")
START_TIMEOUT_S = 120.0


def enabled() -> bool:
    return os.environ.get("NOTESBOARD_TEST_FORK", "1") != "0" and hasattr(os, "pidfd_open")


def _zygote_env(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if not k.startswith(FREE_PREFIXES) and k not in FREE_NAMES}


class Forked:
    """A forked server: like subprocess.Popen for what ServerProcess and the tests use."""

    def __init__(self, pid: int, pidfd: int, args: list[str]) -> None:
        self.pid = pid
        self.args = args
        self.returncode: int | None = None
        self._pidfd: int | None = pidfd
        self._lock = threading.Lock()
        self._done = threading.Event()

    def _exited(self, code: int | None) -> None:
        with self._lock:
            self.returncode = code
            if self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None
        self._done.set()

    def poll(self) -> int | None:
        with self._lock:
            pidfd = self._pidfd
            dead = pidfd is not None and self.returncode is None and _readable(pidfd)
        if dead:  # it has exited; the zygote's report is a moment away
            self._done.wait(10)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._done.wait(timeout):
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        if self.returncode is None:
            raise RuntimeError(f"the launcher died; pid {self.pid}'s exit code is lost")
        return self.returncode

    def send_signal(self, sig: int) -> None:
        with self._lock:
            if self._pidfd is not None and self.returncode is None:
                try:
                    signal.pidfd_send_signal(self._pidfd, sig)
                except ProcessLookupError:
                    pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _readable(fd: int) -> bool:
    import select

    return bool(select.select([fd], [], [], 0)[0])


class _Zygote:
    """The test process's end of the zygote's socket, and a thread that reads what the zygote reports."""

    def __init__(self) -> None:
        self.owner = os.getpid()
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.env = _zygote_env(dict(os.environ))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.zygote", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,  # not a terminal: what is imported there must see what a server sees
            env=self.env,
            cwd=ROOT,
        )
        theirs.close()
        self.sock = mine
        self.sock.settimeout(START_TIMEOUT_S)
        try:
            ready = self.sock.recv(1 << 16)
        except OSError:
            ready = b""
        if not ready:
            self.proc.kill()
            _, err = self.proc.communicate()
            raise RuntimeError(f"the test launcher did not start:\n{err.decode(errors='replace')}")
        self.sock.settimeout(None)
        self.lock = threading.Lock()  # one request at a time; the reader hands the reply over
        self.replies: list[tuple[dict[str, Any], list[int]]] = []
        self.reply = threading.Condition()
        self.running: dict[int, Forked] = {}
        self.early: dict[int, int] = {}  # exits reported before their reply was taken
        self.broken = False
        threading.Thread(target=self._read, name="notesboard-launcher", daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self.sock, 1 << 16, 1)
            except OSError:
                data, fds = b"", []
            if not data:
                break
            msg = json.loads(data)
            with self.reply:
                if "exited" in msg:
                    proc = self.running.pop(msg["exited"], None)
                    if proc is None:
                        self.early[msg["exited"]] = msg["code"]
                    else:
                        proc._exited(msg["code"])
                else:
                    self.replies.append((msg, fds))
                    self.reply.notify_all()
        with self.reply:
            self.broken = True
            for proc in self.running.values():
                proc._exited(None)
            self.running.clear()
            self.reply.notify_all()

    def launch(self, argv: list[str], env: dict[str, str], cwd: Path, log: Path, err: Path | None = None) -> Forked:
        files = {"stdin": os.devnull, "stdout": str(log), "stderr": str(err or log)}
        request = {"argv": argv, "env": env, "cwd": str(cwd), **files}
        with self.lock:
            self.sock.send(json.dumps(request).encode())
            with self.reply:
                if not self.reply.wait_for(lambda: self.replies or self.broken, START_TIMEOUT_S):
                    raise RuntimeError("the test launcher did not answer")
                if not self.replies:
                    raise RuntimeError(f"the test launcher died:\n{self.stderr()}")
                msg, fds = self.replies.pop(0)
                if "error" in msg:
                    raise RuntimeError(f"the test launcher refused: {msg['error']}")
                proc = Forked(msg["pid"], fds[0], [sys.executable, "-m", "notesboard", *argv])
                if msg["pid"] in self.early:
                    proc._exited(self.early.pop(msg["pid"]))
                else:
                    self.running[proc.pid] = proc
        return proc

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return ""
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode(errors="replace")

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # EOF for the zygote, and wakes the reader thread
        except OSError:
            pass
        self.sock.close()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stderr is not None:
            self.proc.stderr.close()


_zygote: _Zygote | None = None
_zygote_lock = threading.Lock()


def _get() -> _Zygote:
    global _zygote
    with _zygote_lock:
        if _zygote is None or _zygote.owner != os.getpid():
            _zygote = _Zygote()
            atexit.register(_zygote.close)
        return _zygote


def usable(env: dict[str, str]) -> bool:
    """True if a fork would see this environment as exec would: it differs from the zygote's only in
    settings read at run time. (The zygote is started with the current environment, so usually True.)"""
    if not enabled():
        return False
    current = _zygote.env if _zygote is not None and _zygote.owner == os.getpid() else _zygote_env(dict(os.environ))
    return _zygote_env(env) == current


def launch(argv: list[str], env: dict[str, str], cwd: Path, log: Path, err: Path | None = None) -> Forked:
    """`python -m notesboard *argv` with exactly `env`, in `cwd`, stdout and stderr (or `err`) appended to `log`."""
    return _get().launch(argv, env, cwd, log, err)


def run(argv: list[str], env: dict[str, str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """Like `subprocess.run([python, -m, notesboard, *argv], capture_output=True, text=True, stdin=DEVNULL)`,
    forked: for tests of what a command does rather than of how Python starts it."""
    with tempfile.TemporaryDirectory(prefix="notesboard-run-") as d:
        out, err = Path(d) / "stdout", Path(d) / "stderr"
        proc = launch(argv, env, cwd, out, err)
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise

        def text(path: Path) -> str:
            return path.read_text(errors="strict") if path.exists() else ""

        return subprocess.CompletedProcess(proc.args, code, text(out), text(err))
