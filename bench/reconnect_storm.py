"""Reconnect storm: every client of a restarted server comes back at once and resumes with `since` + `epoch`.

N sockets on B boards, one writer socket per board creating notes throughout. The server gets SIGTERM (it
closes its sockets 1001), starts again on the same SQLite file and port; the clients reconnect the way the
project's clients do (a random wait of up to `--jitter` seconds after the close, then `client.Backoff`
between failed attempts). Measured: the time from the new server answering /healthz until every client
holds its resume snapshot, and each resume's connect-to-snapshot latency. Checked: every client saw every
acked create of its board exactly once, events contiguous after each snapshot, no resume reset.

The clients and writers run in `--procs` generator processes (uvloop; board b and all its clients in
process b % procs), so that the generator is not one process's ceiling.

The same run is made twice on fresh files: with the snapshot reads of a board shared (the default) and with
`NOTESBOARD_SHARE_SNAPSHOT_READS=false` (one database read per connect: the code before sharing).

    python bench/reconnect_storm.py                           # 1,000 sockets on 20 boards (2-core box)
    python bench/reconnect_storm.py --clients 10000 --boards 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from connect_ceiling import cpu_s
from notesboard.client.backoff import Backoff
from run import _raise_nofile
from servers import ROOT, Server

OUT = ROOT / "bench" / "out"


@dataclass
class Seen:
    """What one client holds of its board."""

    board: str
    since: int | None = None
    epoch: str | None = None
    ids: set[int] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    snapshots: list[tuple[float, float]] = field(default_factory=list)  # (connect started, snapshot held)

    def resumed(self, after: float) -> tuple[float, float] | None:
        """Its first snapshot held after `after` (the old server had exited then: the new server's)."""
        return next((s for s in self.snapshots if s[1] > after), None)

    def take(self, frame: dict[str, Any], started: float) -> None:
        if frame["type"] == "snapshot":
            if self.since is not None:
                if frame["reset"]:
                    self.errors.append("resume reset")
                if any(n["seq"] <= self.since for n in frame["notes"]):
                    self.errors.append("resume repeated a note")
            for note in frame["notes"]:
                self._note(note["id"])
            self.since, self.epoch = frame["seq"], frame["epoch"]
            self.snapshots.append((started, time.monotonic()))
        elif frame["type"] == "event":
            if self.since is None or frame["seq"] != self.since + 1:
                self.errors.append(f"event {frame['seq']} after {self.since}")
            self.since = frame["seq"]
            if frame["op"] == "created":
                self._note(frame["note"]["id"])

    def _note(self, note_id: int) -> None:
        if note_id in self.ids:
            self.errors.append(f"note {note_id} twice")
        self.ids.add(note_id)


class Storm:
    """One generator process's share: `boards`, their writers and every client of those boards."""

    def __init__(self, url: str, args: argparse.Namespace, boards: list[str], clients: list[str]) -> None:
        self.ws = url.replace("http://", "ws://")
        self.args = args
        self.boards = boards
        self.seen = [Seen(board) for board in clients]
        self.acked: dict[str, dict[int, int]] = {b: {} for b in self.boards}  # board -> note id -> seq
        self.stop = asyncio.Event()
        # Handshakes in flight before the restart, split over the processes.
        self.gate = asyncio.Semaphore(max(1, args.connect_concurrency // args.procs))
        self.writing = asyncio.Event()
        self.writing.set()

    async def client(self, seen: Seen) -> None:
        backoff = Backoff(0.2, 2.0)
        closed_by_server = False
        while not self.stop.is_set():
            if closed_by_server:  # cut off with everyone else: wait a random part of the jitter window first
                await asyncio.sleep(random.uniform(0, self.args.jitter))
                closed_by_server = False
            query = "batch=1" + (f"&since={seen.since}&epoch={seen.epoch}" if seen.since is not None else "")
            gate = self.gate if seen.since is None else None  # only the first connects are paced
            if gate is not None:
                await gate.acquire()
            started = time.monotonic()
            try:
                async with websockets.connect(f"{self.ws}/ws/{seen.board}?{query}", max_size=None) as ws:
                    backoff.reset()
                    async for message in ws:
                        for line in str(message).split("\n"):
                            seen.take(orjson.loads(line), started)
                        if gate is not None:
                            gate.release()
                            gate = None
                    closed_by_server = True
            except (OSError, websockets.WebSocketException, TimeoutError):
                if gate is not None:
                    gate.release()
                if self.stop.is_set():
                    return
                await asyncio.sleep(backoff.next())

    async def writer(self, board: str, rate: float) -> None:
        """Creates with client_ids; an unacked one is sent again (same client_id) after a reconnect."""
        pending: dict[str, float] = {}
        n = 0
        backoff = Backoff(0.2, 2.0)
        while self.writing.is_set():
            try:
                async with websockets.connect(f"{self.ws}/ws/{board}", max_size=None) as ws:
                    await ws.recv()  # the snapshot
                    backoff.reset()
                    for cid in pending:
                        await ws.send(orjson.dumps({"type": "create", "text": "again", "client_id": cid}).decode())
                    reader = asyncio.create_task(self._acks(ws, board, pending))
                    while self.writing.is_set() and not reader.done():
                        cid = f"{board}-{n}"
                        n += 1
                        pending[cid] = time.monotonic()
                        await ws.send(orjson.dumps({"type": "create", "text": cid, "client_id": cid}).decode())
                        await asyncio.sleep(1 / rate)
                    while pending and not reader.done():  # writes stopped: wait for the last acks
                        await asyncio.wait([reader], timeout=0.05)
                    reader.cancel()
                    if not pending:
                        return
            except (OSError, websockets.WebSocketException, TimeoutError):
                await asyncio.sleep(backoff.next())

    async def _acks(self, ws: Any, board: str, pending: dict[str, float]) -> None:
        async for message in ws:
            frame = orjson.loads(message)
            if frame["type"] == "ack" and frame["client_id"] in pending:
                del pending[frame["client_id"]]
                self.acked[board][frame["note"]["id"]] = frame["seq"]


async def _until(what: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def _metric(url: str, name: str) -> float:
    for line in httpx.get(f"{url}/metrics", timeout=5).text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    return 0.0


def generator(url: str, args: argparse.Namespace, boards: list[str], clients: list[str], pipe: Any) -> None:
    """A generator process (uvloop): its boards' clients and writers, driven step by step by `run_once`."""
    import uvloop

    uvloop.run(_generate(url, args, boards, clients, pipe))


async def _generate(url: str, args: argparse.Namespace, boards: list[str], clients: list[str], pipe: Any) -> None:
    loop = asyncio.get_running_loop()

    async def told(word: str) -> None:
        got = await loop.run_in_executor(None, pipe.recv)
        assert got == word, (got, word)

    storm = Storm(url, args, boards, clients)
    tasks = [asyncio.create_task(storm.client(s)) for s in storm.seen]
    pipe.send(await _until(lambda: all(s.since is not None for s in storm.seen), 300))
    await told("write")
    writers = [asyncio.create_task(storm.writer(b, args.rate / args.boards)) for b in storm.boards]
    # When the old server had exited (CLOCK_MONOTONIC is system-wide): a snapshot after it is a resume. A
    # time rather than a flag set on a message, which a busy generator may read after its first resumes.
    stopped = await loop.run_in_executor(None, pipe.recv)
    cpu0: list[float] = []  # this process's CPU when the new server answered (told by "ready")
    ready = loop.run_in_executor(None, pipe.recv)
    ready.add_done_callback(lambda _: cpu0.append(time.process_time()))
    await _until(lambda: all(s.resumed(stopped) for s in storm.seen), 60)
    assert await ready == "ready"
    pipe.send(([s.resumed(stopped) for s in storm.seen], time.process_time() - cpu0[0]))
    await told("stop")
    storm.writing.clear()
    await asyncio.wait_for(asyncio.gather(*writers), 30)
    final = {b: max(acked.values(), default=0) for b, acked in storm.acked.items()}
    caught_up = await _until(lambda: all((s.since or 0) >= final[s.board] for s in storm.seen), 30)
    storm.stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    lost = sum(len(set(storm.acked[s.board]) - s.ids) for s in storm.seen)
    errors = [e for s in storm.seen for e in s.errors]
    pipe.send((caught_up, lost, errors, sum(len(a) for a in storm.acked.values())))


def _sample(pid: int, samples: list[tuple[float, float]], done: threading.Event) -> None:
    while not done.wait(0.1):
        samples.append((time.monotonic(), cpu_s(pid)))


def run_once(label: str, env: dict[str, str], args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """One storm: connect everyone, write, SIGTERM + restart, measure the way back, check every client."""
    workdir.mkdir(parents=True)
    server = Server("notesboard", workdir, env=env, label=label).start()
    names = [f"storm{i}" for i in range(args.boards)]
    ctx = mp.get_context("spawn")
    pipes, procs = [], []
    for p in range(args.procs):  # board b and all its clients in process b % procs: each checks its own boards
        boards = names[p :: args.procs]
        clients = [names[i % args.boards] for i in range(args.clients) if (i % args.boards) % args.procs == p]
        mine, theirs = ctx.Pipe()
        proc = ctx.Process(target=generator, args=(server.url, args, boards, clients, theirs))
        proc.start()
        pipes.append(mine)
        procs.append(proc)
    try:
        assert all(pipe.recv() for pipe in pipes), "not every client connected"
        for pipe in pipes:
            pipe.send("write")
        time.sleep(args.before)
        server.stop()  # SIGTERM: the server closes every socket 1001; the generators keep running meanwhile
        stopped = time.monotonic()
        for pipe in pipes:
            pipe.send(stopped)
        server.start()
        ready = time.monotonic()  # start() returns once /healthz answered (polled every 20 ms)
        for pipe in pipes:
            pipe.send("ready")
        samples = [(ready, cpu_s(server.pid))]  # the server's CPU every 0.1 s, until the reports are in
        sampling = threading.Event()
        sampler = threading.Thread(target=_sample, args=(server.pid, samples, sampling), daemon=True)
        sampler.start()
        reports = [pipe.recv() for pipe in pipes]  # each once all its clients resumed, or after 60 s
        sampling.set()
        sampler.join()
        at = [r for report, _ in reports for r in report]  # (connect started, snapshot held) or None, per client
        generator_cpu = sum(cpu for _, cpu in reports)  # from /healthz to each one's last resume
        back = [held - ready for _, held in filter(None, at)]
        latencies = sorted((held - started) * 1000 for started, held in filter(None, at))
        reads = _metric(server.url, "notesboard_snapshot_reads_total")
        requests = _metric(server.url, "notesboard_snapshot_requests_total")
        time.sleep(args.after)
        for pipe in pipes:
            pipe.send("stop")
        ends = [pipe.recv() for pipe in pipes]
    finally:
        for proc in procs:
            proc.join(30)
            if proc.is_alive():
                proc.kill()
        server.stop()
    errors = [e for _, _, errs, _ in ends for e in errs]
    last = ready + max(back, default=0.0)
    busy = next((cpu for t, cpu in samples if t >= last), samples[-1][1]) - samples[0][1]
    return {
        "label": label,
        "clients": args.clients,
        "boards": args.boards,
        "all_resumed": len(back) == len(at),
        "resumed_within_s": round(max(back), 3) if back else None,
        "resumed_p50_s": round(statistics.median(back), 3) if back else None,
        "resume_connect_ms_p50": round(latencies[len(latencies) // 2], 1) if latencies else None,
        "resume_connect_ms_p99": round(latencies[int(len(latencies) * 0.99)], 1) if latencies else None,
        # The server's CPU from /healthz until the last client resumed (to 0.1 s), per resume: its event loop
        # is one thread, so at 10,000 resumes "all back in 5 s" needs at most 0.5 ms each and a core of its own.
        "server_cpu_s": round(busy, 2),
        "server_cpu_ms_per_resume": round(busy * 1000 / max(1, len(latencies)), 3),
        "generator_cpu_s": round(generator_cpu, 2),  # all generator processes, about the same stretch
        "generator_cpu_ms_per_resume": round(generator_cpu * 1000 / max(1, len(latencies)), 3),
        "snapshot_reads": int(reads),
        "snapshot_requests": int(requests),
        "acked_creates": sum(acked for _, _, _, acked in ends),
        "caught_up": all(caught for caught, _, _, _ in ends),
        "lost": sum(lost for _, lost, _, _ in ends),
        "errors": len(errors),
        "first_errors": errors[:5],
    }


def main(args: argparse.Namespace) -> list[dict[str, Any]]:
    import tempfile

    results = []
    with tempfile.TemporaryDirectory(prefix="storm-") as tmp:
        variants = [("shared", {}), ("unshared", {"NOTESBOARD_SHARE_SNAPSHOT_READS": "false"})]
        variants = [v for v in variants if v[0] in args.variants.split(",")]
        for i in range(args.repeat):  # alternating, so that a noisy neighbour hurts both alike
            for label, env in variants if i % 2 == 0 else variants[::-1]:
                results.append(run_once(label, env, args, Path(tmp) / f"{label}{i}"))
                print(json.dumps(results[-1]), flush=True)
    return results


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000, help="sockets (default 1000)")
    parser.add_argument("--boards", type=int, default=20, help="boards they are spread over (default 20)")
    parser.add_argument("--rate", type=float, default=40.0, help="creates/s over all boards (default 40)")
    parser.add_argument("--jitter", type=float, default=1.0, help="clients wait up to this before reconnecting")
    parser.add_argument("--before", type=float, default=2.0, help="seconds of writes before the restart")
    parser.add_argument("--connect-concurrency", type=int, default=256, help="first connects in flight (256)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each variant, alternating (default 1)")
    parser.add_argument("--after", type=float, default=2.0, help="seconds of writes after all resumed")
    parser.add_argument("--procs", type=int, default=2, help="generator processes (default 2)")
    parser.add_argument("--variants", default="shared,unshared", help="which to run (default shared,unshared)")
    args = parser.parse_args()
    if min(args.clients, args.boards, args.procs, args.repeat, args.connect_concurrency) < 1 or args.rate <= 0:
        parser.error("--clients, --boards, --procs, --repeat, --connect-concurrency must be >= 1, --rate > 0")
    if not args.variants.split(",") or not set(args.variants.split(",")) <= {"shared", "unshared"}:
        parser.error("--variants: a comma-separated list of shared, unshared")
    if args.boards < args.procs:
        parser.error("--boards must be >= --procs (each generator process takes whole boards)")
    return args


if __name__ == "__main__":
    arguments = parse()
    _raise_nofile()
    rows = main(arguments)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "reconnect-storm.json").write_text(json.dumps({"argv": sys.argv, "results": rows}, indent=2))
    print(
        f"{'':10} {'all back':>9} {'p50 back':>9} {'resume p50/p99 ms':>18} {'reads/requests':>15} {'lost':>5}"
        "  (server CPU s, ms per resume)"
    )
    for r in rows:
        r = {k: "-" if v is None else v for k, v in r.items()}  # nobody came back: no figures
        lat = f"{r['resume_connect_ms_p50']}/{r['resume_connect_ms_p99']}"
        ratio = f"{r['snapshot_reads']}/{r['snapshot_requests']}"
        print(
            f"{r['label']:10} {r['resumed_within_s']:>8}s {r['resumed_p50_s']:>8}s {lat:>18} {ratio:>15}"
            f" {r['lost']:>5}  errors {r['errors']}  acked {r['acked_creates']}"
            f"  ({r['server_cpu_s']} s, {r['server_cpu_ms_per_resume']} ms; generator"
            f" {r['generator_cpu_s']} s, {r['generator_cpu_ms_per_resume']} ms)"
        )
