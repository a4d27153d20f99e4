"""What survives what (issue #25): a fault matrix under load, on two server processes.

Each row is a fresh setup: a PostgreSQL and (for the Redis rows) a Redis of this run's own (never the machine's
shared ones: they are stopped, restarted and cut here), two `notesboard serve` processes on them, writers on
both processes creating notes with the Python client (acks after commit, resent with the same client_id after a
reconnect, `ack_timeout=None` so a create waits out an outage instead of being sent twice) and watchers on both
holding the board through events and resumes. After a warm-up one fault is injected, healed, the writers go on
for a while, stop, and the run checks, against the database:

- lost: acknowledged creates missing from the database (must be 0);
- duplicated: texts stored more than once (each create's text is unique; must be 0);
- converged: every watcher's board equals the database's (yes);
- longest gap: the longest time one writer went without an acknowledged create from the fault's start (how long
  writes on the worst-hit process stalled);
- refused: creates answered `unavailable` (the writer tries again: nothing is lost by a refusal).

    .venv/bin/python bench/faults.py            # every fault, 10 s outages (about 4 minutes)
    .venv/bin/python bench/faults.py --quick    # 3 s outages, shorter phases (about 90 s)
    .venv/bin/python bench/faults.py --only pg-restart,sigkill --brokers redis
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for tests.support
from tests.support import ServerProcess
from tests.support.databases import Unreachable
from tests.support.pgcluster import PrivatePostgres
from tests.support.private_redis import PrivateRedis
from tests.support.proxy import CuttableProxy

from notesboard.client import Board, NotesError, Unavailable, connect

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "faults.json"
ENV = {
    "NOTESBOARD_PRESENCE_TTL": "3",
    "NOTESBOARD_GAP_WAIT": "0.1",
    "NOTESBOARD_SEQ_CHECK_INTERVAL": "1",
}
FAULTS = ("redis-kill", "redis-stop", "pg-restart", "pg-unreachable", "sigkill", "broker-cut-one")
REDIS_ONLY = {"redis-kill", "redis-stop"}


@dataclass
class Row:
    broker: str
    fault: str
    acked: int = 0
    lost: int = 0
    duplicated: int = 0
    converged: bool = False
    longest_gap_s: float = 0.0
    refused: int = 0
    note: str = ""
    ack_times: dict[str, list[float]] = field(default_factory=dict, repr=False)  # per writer


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Setup:
    """A private Postgres (behind a proxy for everyone), maybe a private Redis, and two server processes; the
    second process reaches its broker through a proxy of its own (to cut it alone)."""

    def __init__(self, broker: str, tmp: Path) -> None:
        self.pg = PrivatePostgres(_free_port()).start()
        self.redis = PrivateRedis().start() if broker == "redis" else None
        self.db_proxy = CuttableProxy(self.pg.port)
        db = f"postgresql+asyncpg://postgres@127.0.0.1:{self.db_proxy.port}/postgres"
        broker_port = self.redis.port if self.redis is not None else self.db_proxy.port
        self.broker_proxy = CuttableProxy(broker_port)
        scheme = "redis" if self.redis is not None else "postgresql"
        suffix = "/0" if self.redis is not None else "/postgres"
        user = "" if self.redis is not None else "postgres@"
        urls = [
            f"{scheme}://{user}127.0.0.1:{broker_port}{suffix}",
            f"{scheme}://{user}127.0.0.1:{self.broker_proxy.port}{suffix}",
        ]
        self.servers = [
            ServerProcess(db, tmp / f"server{i}.log", env={**ENV, "NOTESBOARD_BROKER": urls[i]}, fork=False)
            for i in range(2)
        ]
        for s in self.servers:
            s.start(timeout=60)

    def close(self) -> None:
        for s in self.servers:
            s.kill()
        self.broker_proxy.close()
        self.db_proxy.close()
        if self.redis is not None:
            self.redis.close()
        self.pg.close()


async def _inject(fault: str, setup: Setup, outage: float) -> str:
    """Cause `fault`, wait out the outage, heal it; what was done."""
    if fault == "redis-kill":
        assert setup.redis is not None
        return f"{setup.redis.kill_clients()} Redis connections killed"
    if fault == "redis-stop":
        assert setup.redis is not None
        setup.redis.stop()
        await asyncio.sleep(outage)
        await asyncio.to_thread(setup.redis.start)
        return f"Redis stopped for {outage:g} s"
    if fault == "pg-restart":
        await asyncio.to_thread(setup.pg.restart)
        return "Postgres restarted (fast)"
    if fault == "pg-unreachable":
        await _cut_for(setup.db_proxy, outage)
        return f"Postgres unreachable for {outage:g} s (every connection cut, new ones refused)"
    if fault == "sigkill":
        setup.servers[1].kill()
        await asyncio.to_thread(setup.servers[1].start, 60)
        return "process 2 SIGKILLed and started again"
    if fault == "broker-cut-one":
        await _cut_for(setup.broker_proxy, outage)
        return f"process 2 cut from the broker for {outage:g} s"
    raise ValueError(fault)


async def _cut_for(proxy: CuttableProxy, outage: float) -> None:
    proxy.cut()
    await asyncio.sleep(outage)
    proxy.restore()


async def _writer(url: str, board: str, tag: str, stop: asyncio.Event, row: Row, acked: set[str]) -> None:
    async with connect(url, board, name=tag, ack_timeout=None, connect_timeout=60) as b:
        n = 0
        while not stop.is_set():
            text = f"{tag}-{n}"
            try:
                await b.create(text)
            except Unavailable:
                row.refused += 1
                await asyncio.sleep(0.2)
                continue
            acked.add(text)
            row.ack_times.setdefault(tag, []).append(time.monotonic())
            n += 1
            await asyncio.sleep(0.05)


async def _watch(url: str, board: str, boards: list[Board], done: asyncio.Event) -> None:
    async with connect(url, board, name="watcher", connect_timeout=60) as b:
        boards.append(b)
        await done.wait()


def _longest_gap(started: float, times: list[float]) -> float:
    """The longest time one writer went without an ack, from the fault's start (its stall)."""
    after = [started] + [t for t in times if t >= started]
    return max((b - a for a, b in itertools.pairwise(after)), default=0.0)


def _stored(url: str, board: str) -> list[dict[str, object]]:
    page = httpx.get(f"{url}/api/boards/{board}/notes", params={"limit": 10000}, timeout=30).json()
    notes: list[dict[str, object]] = page["notes"]
    return notes


async def _run(
    broker: str, fault: str, outage: float, phases: tuple[float, float], progress: Callable[[str], None]
) -> Row:
    row = Row(broker, fault)
    with tempfile.TemporaryDirectory() as folder:
        setup = await asyncio.to_thread(Setup, broker, Path(folder))
        try:
            board = "faults"
            urls = [s.url for s in setup.servers]
            stop, done = asyncio.Event(), asyncio.Event()
            acked: set[str] = set()
            watchers: list[Board] = []
            watching = [asyncio.create_task(_watch(urls[i % 2], board, watchers, done)) for i in range(4)]
            writing = [asyncio.create_task(_writer(urls[i % 2], board, f"w{i}", stop, row, acked)) for i in range(6)]
            await asyncio.sleep(phases[0])
            started = time.monotonic()
            progress(f"{broker}: {fault} ...")
            row.note = await _inject(fault, setup, outage)
            await asyncio.sleep(phases[1])
            stop.set()
            await asyncio.wait_for(asyncio.gather(*writing), 120)
            row.acked = len(acked)
            row.longest_gap_s = round(max(_longest_gap(started, t) for t in row.ack_times.values()), 2)
            stored = await asyncio.to_thread(_stored, urls[0], board)
            texts = [str(n["text"]) for n in stored]
            row.lost = len(acked - set(texts))
            row.duplicated = len(texts) - len(set(texts))
            want = {int(str(n["id"])) for n in stored}
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                row.converged = len(watchers) == 4 and all(set(b.notes) == want for b in watchers)
                if row.converged:
                    break
                await asyncio.sleep(0.2)
            done.set()
            await asyncio.wait_for(asyncio.gather(*watching, return_exceptions=True), 60)
        finally:
            await asyncio.to_thread(setup.close)
    return row


async def _matrix(brokers: list[str], faults: list[str], outage: float, phases: tuple[float, float]) -> list[Row]:
    rows = []
    for broker in brokers:
        for fault in faults:
            if fault in REDIS_ONLY and broker != "redis":
                continue
            t = time.monotonic()
            try:
                row = await _run(broker, fault, outage, phases, lambda m: print(m, flush=True))
            except (Unreachable, NotesError, OSError, TimeoutError) as exc:
                row = Row(broker, fault, note=f"could not run: {exc}")
            print(f"  {row.fault}: acked {row.acked}, lost {row.lost}, duplicated {row.duplicated}, "
                  f"converged {row.converged}, longest gap {row.longest_gap_s} s, refused {row.refused} "
                  f"({time.monotonic() - t:.0f} s)", flush=True)  # fmt: skip
            rows.append(row)
    return rows


def _table(rows: list[Row]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="What survives what (two processes, writers and watchers on both)")
    for name in ("broker", "fault", "acked", "lost", "duplicated", "converged", "longest gap (s)", "refused"):
        table.add_column(name, justify="right" if name not in ("broker", "fault") else "left")
    for r in rows:
        table.add_row(r.broker, r.fault, str(r.acked), str(r.lost), str(r.duplicated), "yes" if r.converged else "NO",
                      f"{r.longest_gap_s:.2f}", str(r.refused))  # fmt: skip
    Console(width=120).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 s outages and shorter phases (about 90 s in all)")
    parser.add_argument("--brokers", default="redis,notify", help="comma-separated: redis, notify (default both)")
    parser.add_argument(
        "--only", default=",".join(FAULTS), help=f"comma-separated faults (default all: {', '.join(FAULTS)})"
    )
    parser.add_argument(
        "--json", type=Path, default=OUT, help=f"where to write the rows (default {OUT.relative_to(ROOT)})"
    )
    opts = parser.parse_args()
    brokers = [b.strip() for b in opts.brokers.split(",") if b.strip()]
    faults = [f.strip() for f in opts.only.split(",") if f.strip()]
    if unknown := [b for b in brokers if b not in ("redis", "notify")] + [f for f in faults if f not in FAULTS]:
        parser.error(f"unknown: {', '.join(unknown)}")
    outage, phases = (3.0, (2.0, 4.0)) if opts.quick else (10.0, (3.0, 8.0))
    rows = asyncio.run(_matrix(brokers, faults, outage, phases))
    _table(rows)
    opts.json.parent.mkdir(parents=True, exist_ok=True)
    opts.json.write_text(json.dumps([{k: v for k, v in asdict(r).items() if k != "ack_times"} for r in rows], indent=2))
    bad = [r for r in rows if r.lost or r.duplicated or not r.converged]
    print(f"\n{len(rows)} faults, {len(bad)} with a loss, a duplicate or a board that did not converge")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
