"""Connects+snapshots per second and memory per idle socket: notesboard beside the floor of its own stack.

Issue #14 goal 2 asks for >= 1,500 connects+snapshots/s and <= 25 KB of server memory per idle socket. This
runs one generator against three servers in the same run, so the numbers can be read against each other:
- `websockets`: websockets' own asyncio server sending one frame (no ASGI, no framework): Python's floor;
- `uvicorn`: uvicorn with uvloop/httptools/websockets-sansio (what `notesboard serve` runs on) and a bare
  ASGI app sending one frame: the floor of notesboard's stack;
- `notesboard`: `notesboard serve` on a fresh SQLite file, every socket taking its (empty-board) snapshot.
The generator (`--procs` processes, websockets' asyncio client on uvloop) opens `--clients` sockets on
`--boards` boards, `--concurrency` handshakes in flight in all, waits for each socket's first frame and
keeps them open. Reported per server: connects/s (first connect to last first frame), the server's CPU per
connect, its RSS growth per socket once all are open, and the generator's own CPU per connect (its ceiling
is `procs / that`, when it has the cores to itself: it does not here, it shares 2 cores with the server).

    python bench/connect_ceiling.py                       # 2,000 sockets, 100 boards, each server twice
    python bench/connect_ceiling.py --clients 10000 --repeat 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for tests.support
from tests.support import ServerProcess

from run import _raise_nofile
from servers import ROOT, Server

OUT = ROOT / "bench" / "out"
TICK = os.sysconf("SC_CLK_TCK")


class Floor(ServerProcess):
    """bench/floor_servers.py KIND as a ServerProcess (it binds port 0 and answers /healthz)."""

    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        super().__init__("sqlite+aiosqlite:///unused", workdir / f"{kind}.log")

    def command(self, port: int) -> list[str]:
        return [sys.executable, str(ROOT / "bench" / "floor_servers.py"), self.kind, "--port", str(port)]


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def generator(port: int, boards: range, clients: int, boards_total: int, concurrency: int, pipe: Any) -> None:
    """One generator process: open `clients` sockets, report, hold them until told to close."""
    import uvloop
    import websockets

    async def main() -> None:
        gate = asyncio.Semaphore(concurrency)
        socks: list[Any] = []
        failed = 0

        async def one(i: int) -> None:
            nonlocal failed
            board = boards[i % len(boards)] % boards_total
            async with gate:
                try:
                    ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws/b{board}", compression=None, max_queue=4)
                    await asyncio.wait_for(ws.recv(), 60)
                    socks.append(ws)
                except (TimeoutError, OSError, websockets.WebSocketException):
                    failed += 1

        pipe.send("ready")
        pipe.recv()  # go
        started, cpu0 = time.monotonic(), time.process_time()
        await asyncio.gather(*(one(i) for i in range(clients)))
        pipe.send({"start": time.time() - (time.monotonic() - started), "end": time.time(),
                   "cpu": time.process_time() - cpu0, "open": len(socks), "failed": failed})  # fmt: skip
        await asyncio.get_running_loop().run_in_executor(None, pipe.recv)  # close
        await asyncio.gather(*(ws.close() for ws in socks), return_exceptions=True)
        pipe.send("closed")

    uvloop.run(main())


def start_generators(port: int, args: argparse.Namespace, concurrency: int) -> tuple[list[Any], list[Any]]:
    """`args.procs` generator processes sharing `args.clients` sockets on `args.boards` boards, all ready."""
    ctx = mp.get_context("spawn")
    share = [args.clients // args.procs + (1 if i < args.clients % args.procs else 0) for i in range(args.procs)]
    pipes, procs = [], []
    for i, n in enumerate(share):
        mine, theirs = ctx.Pipe()
        boards = range(i, args.boards * args.procs, args.procs)
        p = ctx.Process(target=generator, args=(port, boards, n, args.boards, concurrency // args.procs, theirs))
        p.start()
        pipes.append(mine)
        procs.append(p)
    for pipe in pipes:
        assert pipe.recv() == "ready"
    return pipes, procs


def stop_generators(pipes: list[Any], procs: list[Any]) -> None:
    """Close every generator's sockets, then end the processes."""
    for pipe in pipes:
        pipe.send("close")
    for pipe in pipes:
        pipe.recv()
    for p in procs:
        p.join(30)


def measure(server: ServerProcess, args: argparse.Namespace) -> dict[str, Any]:
    pid = server.pid
    pipes, procs = start_generators(server.port, args, args.concurrency)
    time.sleep(0.5)
    rss0, cpu0 = rss_kib(pid), cpu_s(pid)
    for pipe in pipes:
        pipe.send("go")
    reports = [pipe.recv() for pipe in pipes]
    cpu1 = cpu_s(pid)
    time.sleep(1.0)  # let buffers settle before reading memory
    rss1 = rss_kib(pid)
    stop_generators(pipes, procs)
    opened = sum(r["open"] for r in reports)
    span = max(r["end"] for r in reports) - min(r["start"] for r in reports)
    return {
        "server": server.kind if isinstance(server, Floor) else "notesboard",
        "clients": args.clients,
        "open": opened,
        "failed": sum(r["failed"] for r in reports),
        "connects_per_s": round(opened / span, 1),
        "server_cpu_ms_per_connect": round((cpu1 - cpu0) * 1000 / max(1, opened), 3),
        "rss_kib_per_socket": round((rss1 - rss0) / max(1, opened), 2),
        "generator_cpu_ms_per_connect": round(sum(r["cpu"] for r in reports) * 1000 / max(1, opened), 3),
    }


def make(kind: str, workdir: Path) -> ServerProcess:
    if kind == "notesboard":
        return Server("notesboard", workdir, label=f"nb-{time.monotonic_ns()}")
    return Floor(kind, workdir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=2000, help="sockets per run (default 2000)")
    parser.add_argument("--boards", type=int, default=100, help="boards they spread over (default 100)")
    parser.add_argument("--procs", type=int, default=2, help="generator processes (default 2)")
    parser.add_argument("--concurrency", type=int, default=256, help="handshakes in flight in all (default 256)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each server, interleaved (default 2)")
    parser.add_argument("--servers", default="websockets,uvicorn,notesboard", help="comma-separated, run in this order")
    args = parser.parse_args()
    if args.clients < 1 or args.boards < 1 or args.procs < 1 or args.concurrency < args.procs or args.repeat < 1:
        parser.error("--clients, --boards, --procs, --repeat must be >= 1 and --concurrency >= --procs")
    kinds = [k.strip() for k in args.servers.split(",") if k.strip()]
    if not kinds or set(kinds) - {"websockets", "uvicorn", "notesboard"}:
        parser.error("--servers: a comma-separated list of websockets, uvicorn, notesboard")
    _raise_nofile()  # 20,000 descriptors, for up to 10,000 sockets a side
    results = []
    total = args.repeat * len(kinds)
    with tempfile.TemporaryDirectory(prefix="connect-ceiling-") as tmp:
        for r in range(args.repeat):
            for kind in kinds:
                print(f"[{len(results) + 1}/{total}] {kind}: {args.clients} sockets ...", file=sys.stderr, flush=True)
                with make(kind, Path(tmp)) as server:
                    results.append({"run": r + 1, **measure(server, args)})
                print("    " + json.dumps(results[-1]), file=sys.stderr, flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "connect-ceiling.json").write_text(json.dumps(results, indent=2))
    head = ["run", "server", "open / asked", "connects/s", "server CPU ms/connect", "RSS KiB/socket"]
    print("| " + " | ".join([*head, "generator CPU ms/connect"]) + " |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for x in results:
        cells = [x["run"], x["server"], f"{x['open']:,} / {x['clients']:,}", f"{x['connects_per_s']:,}"]
        cells += [x["server_cpu_ms_per_connect"], x["rss_kib_per_socket"], x["generator_cpu_ms_per_connect"]]
        print("| " + " | ".join(str(c) for c in cells) + " |")


if __name__ == "__main__":
    main()
