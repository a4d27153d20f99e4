"""The preforked side of `launcher`: one process that has imported the server and forks `notesboard serve`s.

A test server's start used to cost ~1.9 s of CPU in Python's start-up and imports before the server did
anything; the suite starts ~160 of them. This process pays that once per test process: it imports what
`python -m notesboard serve` imports (and nothing more: no logging set up, no event loop, no thread, no
connection), then waits on its socket. For each request it forks a child that becomes what
`python -m notesboard serve ...` would be: the requested cwd and environment (os.environ replaced, so
`Settings` reads the child's NOTESBOARD_*), stdin (/dev/null) and stdout and stderr (the log) from files, no other
descriptor, default signal dispositions, fresh random state, and then the same entry point (`runpy` of
`notesboard.__main__`, as `-m` does), the same interpreter shutdown (threads joined, atexit run) and the
same exit status (SystemExit's code, 1 and a traceback for an exception, death by SIGINT for Ctrl-C, and
the re-raised SIGTERM uvicorn ends with).

It is the child's parent: it reaps it and sends its exit code to the test process, which got a pidfd of
the child with the reply, so it can signal it without racing a reused pid. It exits on EOF of its socket
(the test process ended, however), taking any server still running with it.

Protocol: SOCK_SEQPACKET, one JSON object per message. Requests {"argv", "env", "cwd", "stdin", "stdout",
"stderr"} (paths; stdout and stderr are appended to); replies
{"pid"} with the child's pidfd attached, or {"error"}; and {"exited": pid, "code": returncode} unasked.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import random
import runpy
import select
import signal
import socket
import sys
import threading
import time
import traceback
from typing import Any, NoReturn

__all__ = ["PRELOAD", "main"]

# What a serving process imports (read from a running server's sys.modules, SQLite, Postgres and Redis):
# the CLI pulls in most notesboard modules; the rest are imported on first use by the server.
PRELOAD = (
    "notesboard.cli.main",
    "notesboard.runtime.app",
    "notesboard.runtime.server",
    "notesboard.runtime.assembly",
    "notesboard.runtime.workers",
    "notesboard.cli.startup_errors",
    "notesboard.storage.store",
    "notesboard.cluster.brokers.redis",
    "notesboard.cluster.backplane",
    "uvicorn.main",
    "uvicorn.lifespan.on",
    "uvicorn.loops.auto",
    "uvicorn.loops.uvloop",
    "uvicorn.protocols.http.auto",
    "uvicorn.protocols.http.httptools_impl",
    "uvicorn.protocols.websockets.websockets_sansio_impl",
    "uvicorn.supervisors",
    "databases.backends.sqlite",
    "databases.backends.postgres",
    "sqlalchemy.dialects.sqlite.aiosqlite",
    "sqlalchemy.dialects.postgresql.asyncpg",
    "redis.asyncio",
    "prometheus_client",
    "encodings.idna",
    "multiprocessing.spawn",
    "multiprocessing.popen_spawn_posix",
)
DEFAULT_IGNORED = {signal.SIGPIPE, signal.SIGXFSZ}  # what a fresh CPython ignores; SIGINT raises KeyboardInterrupt


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def preload() -> None:
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional extra that is not installed: the child imports what it needs
            continue
    if _threads() != 1 or threading.active_count() != 1:
        raise RuntimeError(f"importing the server started threads: {threading.enumerate()}")
    import logging

    if logging.getLogger().handlers:
        raise RuntimeError("importing the server configured logging")


def _reset_signals() -> None:
    for sig in signal.valid_signals():
        if sig in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            if sig == signal.SIGINT:
                signal.signal(sig, signal.default_int_handler)
            else:
                signal.signal(sig, signal.SIG_IGN if sig in DEFAULT_IGNORED else signal.SIG_DFL)
        except (OSError, ValueError):
            continue
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


def _exit_code(exc: SystemExit) -> int:
    """What the interpreter makes of SystemExit(code): None 0, an int itself, anything else printed and 1."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    print(exc.code, file=sys.stderr)
    return 1


def _child(sock: socket.socket, req: dict[str, Any]) -> NoReturn:
    code = 1
    try:
        sock.detach()  # the descriptor is closed below; the object must not close a reused number later
        _reset_signals()
        stdin = os.open(req["stdin"], os.O_RDONLY)
        stdout = os.open(req["stdout"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        same = req["stderr"] == req["stdout"]
        stderr = stdout if same else os.open(req["stderr"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        os.dup2(stdin, 0)
        os.dup2(stdout, 1)
        os.dup2(stderr, 2)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        os.chdir(req["cwd"])
        os.environ.clear()
        os.environ.update(req["env"])
        time.tzset()
        random.seed()
        import multiprocessing.process

        multiprocessing.process.ORIGINAL_DIR = os.path.abspath(req["cwd"])  # type: ignore[attr-defined]
        multiprocessing.current_process().authkey = os.urandom(32)
        sys.argv = ["-m", *req["argv"]]
        try:
            runpy.run_module("notesboard", run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exc:
            code = _exit_code(exc)
        except KeyboardInterrupt:
            traceback.print_exc()
            code = -signal.SIGINT
        except BaseException:  # noqa: BLE001  # as the interpreter does with an uncaught exception
            traceback.print_exc()
            code = 1
        threading._shutdown()  # type: ignore[attr-defined]  # as the interpreter does at exit
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                code = code or 120
        if code == -signal.SIGINT:  # CPython exits through SIGINT after an uncaught KeyboardInterrupt
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
            code = 130
    except BaseException:  # noqa: BLE001  # this child must never return into the zygote's loop
        traceback.print_exc()
    finally:
        os._exit(code)


def _spawn(sock: socket.socket, req: dict[str, Any], children: dict[int, int]) -> None:
    if _threads() != 1:
        sock.send(json.dumps({"error": "the launcher has threads; it cannot fork"}).encode())
        return
    pid = os.fork()
    if pid == 0:
        _child(sock, req)
    pidfd = os.pidfd_open(pid)
    children[pidfd] = pid
    socket.send_fds(sock, [json.dumps({"pid": pid}).encode()], [pidfd])


def _reap(sock: socket.socket, pidfd: int, children: dict[int, int]) -> None:
    pid = children.pop(pidfd)
    _, status = os.waitpid(pid, 0)
    os.close(pidfd)
    try:
        sock.send(json.dumps({"exited": pid, "code": os.waitstatus_to_exitcode(status)}).encode())
    except OSError:
        pass


def _stop_all(children: dict[int, int]) -> None:
    """The test process is gone: its servers go too (SIGTERM, then SIGKILL after 5 s)."""
    for pidfd in children:
        signal.pidfd_send_signal(pidfd, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while children and time.monotonic() < deadline:
        ready, _, _ = select.select(list(children), [], [], max(0.0, deadline - time.monotonic()))
        for pidfd in ready:
            os.waitpid(children.pop(pidfd), 0)
            os.close(pidfd)
    for pidfd, pid in children.items():
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        os.waitpid(pid, 0)


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for pytest (and the servers); EOF ends this
    sock = socket.socket(fileno=int(sys.argv[1]))
    preload()
    sock.send(json.dumps({"ready": os.getpid()}).encode())
    children: dict[int, int] = {}  # pidfd -> pid
    while True:
        ready, _, _ = select.select([sock.fileno(), *children], [], [])
        for fd in ready:
            if fd != sock.fileno():
                _reap(sock, fd, children)
        if sock.fileno() in ready:
            data = sock.recv(1 << 20)
            if not data:
                _stop_all(children)
                return
            _spawn(sock, json.loads(data), children)


if __name__ == "__main__":
    main()
