"""Where the memory of an idle socket goes: a tracemalloc breakdown of notesboard's Python allocations.

Issue #14 goal 2 asks for <= 25 KB of server memory per idle socket. RSS (bench/connect_ceiling.py) says how
much; this says whose. The server runs in this process (`notesboard.runtime.server.NotesServer` on uvloop, a fresh
SQLite file) with tracemalloc on; generator processes (bench/connect_ceiling.py's) open `--clients` sockets
and keep them open; the allocations that are still alive then, minus those before, are grouped by file (or
by line with `--lines`) and printed per socket. tracemalloc sees Python's allocator only: libuv's and the
kernel's buffers are in RSS, not here. Tracing slows the server several times: read no rates from this.

    python bench/socket_memory.py                    # 1,000 sockets on 10 boards, by file
    python bench/socket_memory.py --lines --top 40   # by line
    python bench/socket_memory.py --stacks 6         # by the 6 innermost frames (who called)
"""

from __future__ import annotations

import argparse
import gc
import socket
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from connect_ceiling import start_generators, stop_generators
from notesboard.runtime.config import Settings
from notesboard.runtime.server import NotesServer, uvicorn_config
from run import _raise_nofile


def breakdown(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, key: str, per: int, top: int) -> None:
    stats = after.compare_to(before, key)
    total = sum(s.size_diff for s in stats)
    print(f"{total / per / 1024:.2f} KiB of Python allocations per socket ({per:,} sockets), by {key}:")
    for s in stats[:top]:
        names = [f.filename if key == "filename" else f"{f.filename}:{f.lineno}" for f in s.traceback]
        for i, name in enumerate(names):
            for marker in ("site-packages/", "server/", "lib/python3.11/"):
                name = name.split(marker, 1)[-1]
            names[i] = name
        print(f"  {s.size_diff / per:9.0f} B  {s.count_diff / per:6.1f} blocks  {' < '.join(names)}")


def drive(server: NotesServer, port: int, args: argparse.Namespace) -> None:
    """The generator side, on a thread: open the sockets, snapshot, close them, stop the server."""
    while not server.started:
        time.sleep(0.05)
    pipes, procs = start_generators(port, args, 64 * args.procs)
    time.sleep(0.5)
    gc.collect()
    before = tracemalloc.take_snapshot()
    for pipe in pipes:
        pipe.send("go")
    opened = sum(pipe.recv()["open"] for pipe in pipes)
    time.sleep(1.0)
    gc.collect()
    after = tracemalloc.take_snapshot()
    stop_generators(pipes, procs)
    key = "traceback" if args.stacks else "lineno" if args.lines else "filename"
    breakdown(before, after, key, max(1, opened), args.top)
    server.should_exit = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000, help="sockets (default 1000)")
    parser.add_argument("--boards", type=int, default=10, help="boards they spread over (default 10)")
    parser.add_argument("--procs", type=int, default=2, help="generator processes (default 2)")
    parser.add_argument("--lines", action="store_true", help="group by line instead of by file")
    parser.add_argument("--stacks", type=int, default=0, metavar="N", help="group by the N innermost frames")
    parser.add_argument("--top", type=int, default=25, help="rows to print (default 25)")
    args = parser.parse_args()
    if args.clients < 1 or args.boards < 1 or args.procs < 1 or args.top < 1:
        parser.error("--clients, --boards, --procs and --top must be >= 1")
    _raise_nofile()
    with tempfile.TemporaryDirectory(prefix="socket-memory-") as tmp:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp}/notes.db",
            log_level="warning",
            max_connections=args.clients + 100,
            max_connections_per_ip=args.clients + 100,
        )
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        server = NotesServer(uvicorn_config(settings))
        tracemalloc.start(max(1, args.stacks))
        side = threading.Thread(target=drive, args=(server, listener.getsockname()[1], args), daemon=True)
        side.start()
        server.run(sockets=[listener])  # uvicorn's own loop set-up (uvloop), as `notesboard serve`
        side.join()


if __name__ == "__main__":
    main()
