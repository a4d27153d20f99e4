"""`serve --workers N`: N whole server processes on one port, through SO_REUSEPORT.

Not uvicorn's own `workers`: its supervisor runs plain `uvicorn.Server`s, which would skip our drain (commit,
ack, close 1001), and its workers share one accept queue, so one busy worker can end up with most of the
long-lived sockets. Here every worker is a `NotesServer` with its own listening socket on the same port, and
the kernel spreads new connections evenly over them. Each worker has its own writer, hub and broker
connection; the broker (never memory://) and the database tie them together.

The supervisor restarts a worker that dies, gives up if workers keep dying, and on SIGTERM or SIGINT asks
every worker to drain (SIGTERM) and waits for them up to `shutdown_timeout` + 5 s.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import time
from collections import deque
from multiprocessing.process import BaseProcess
from typing import Any

from notesboard.runtime.config import Settings

__all__ = ["run_workers"]

log = logging.getLogger("notesboard.workers")

RESTARTS_ALLOWED = 5  # within RESTART_WINDOW_S, over all workers, before the supervisor gives up
RESTART_WINDOW_S = 60.0
POLL_S = 0.2


def _bind(host: str, port: int, *, listen: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        if listen:
            sock.listen(2048)
            sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def _die_with_parent() -> None:
    """Linux: get SIGTERM (and drain) if the supervisor is killed, instead of living on as an orphan."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _worker(values: dict[str, Any], port: int) -> None:
    os.setpgrp()  # a terminal's Ctrl-C reaches only the supervisor, which sends each worker one SIGTERM
    _die_with_parent()
    from notesboard.runtime.server import NotesServer, prepare

    settings = Settings.model_validate({**values, "port": port, "workers": 1})
    config = prepare(settings)  # logging as in one process, and this worker's descriptor check
    sock = _bind(settings.host, port, listen=True)
    NotesServer(config).run(sockets=[sock])


def run_workers(settings: Settings) -> int:
    """Run until SIGTERM/SIGINT; returns the exit code (1 if workers kept dying). OSError if the port is taken."""
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    reserved = _bind(settings.host, settings.port, listen=False)  # fails fast if taken; resolves port 0
    port = reserved.getsockname()[1]
    values = settings.model_dump(mode="json")
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}

    def start(index: int) -> BaseProcess:
        proc = context.Process(target=_worker, args=(values, port), name=f"notesboard-worker-{index}")
        proc.start()
        log.info("worker %d started (pid %s) on %s:%d", index, proc.pid, settings.host, port)
        return proc

    code = 0
    procs = [start(i) for i in range(settings.workers)]
    restarts: deque[float] = deque()
    try:
        while not stopping:
            time.sleep(POLL_S)
            for i, proc in enumerate(procs):
                if stopping or proc.exitcode is None:
                    continue
                now = time.monotonic()
                while restarts and restarts[0] < now - RESTART_WINDOW_S:
                    restarts.popleft()
                if len(restarts) >= RESTARTS_ALLOWED:
                    log.error("workers keep exiting (last: worker %d, code %s); giving up", i, proc.exitcode)
                    stopping, code = True, 1
                    break
                restarts.append(now)
                log.warning("worker %d (pid %s) exited with code %s; restarting it", i, proc.pid, proc.exitcode)
                procs[i] = start(i)
    finally:
        for proc in procs:
            if proc.is_alive() and proc.pid is not None:
                os.kill(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + settings.shutdown_timeout + 5
        for proc in procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                log.error("worker pid %s did not stop in time; killing it", proc.pid)
                proc.kill()
                proc.join()
        reserved.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("all workers stopped")
    return code
