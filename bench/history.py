"""What the change log (issue #24) costs and how fast its reads are, on this machine.

- `ingest`: `bench/run.py`'s ingest load (one sender per board, window 16, 100-byte texts; SQLite FULL, or
  `--database postgres`) on a fresh server with `history` on and off, alternated (off, on, on, off, ...) so
  that the machine's drift hits both alike; acked creates/s and the server's CPU per acked create, and their
  ratios on/off (means and medians over the runs).
- `store`: the same cost without the noise of sockets and a load generator: CPU per create committed by
  `Store.apply` in-process, batches of 300 creates over 20 boards, log on and off alternated.
- `size`: database bytes per logged change: the same mix of changes (creates, edits, moves, deletes,
  restores) committed with the log on and off, files VACUUMed (SQLite) or relations measured (Postgres).
- `latency`: a board of 50,000 changes (5,000 notes created, then edits, moves, deletes and restores) built
  in-process, then a server on it: `GET .../history?since=S&limit=1000` and `GET .../notes?at=S` at random
  `S` (p50/p99 over the requests, client-measured, one at a time).

    python bench/history.py                      # all three parts, SQLite (under 90 s each)
    python bench/history.py --part latency --database postgres
Writes bench/out/history-{part}-{database}.json.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from notesboard.contract.model import CreateCommand, DeleteCommand, UpdateCommand, WriteOp, WriteResult
from notesboard.storage import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for tests.support
sys.path.insert(0, str(Path(__file__).resolve().parent))
from tests.support import Database, ServerProcess, sqlite_url

from servers import BENCH_ENV, ROOT, Server

OUT = ROOT / "bench" / "out"


def _loadtest(server: ServerProcess, workdir: Path, boards: int, seconds: int, n: int) -> dict[str, Any]:
    import subprocess

    out = workdir / f"ingest{n}.json"
    args = ["--clients", str(boards), "--boards", str(boards), "--senders", str(boards), "--rate", "0"]
    args += ["--window", "16", "--duration", str(seconds), "--payload", "100", "--drain-timeout", "15"]
    cmd = [sys.executable, "-m", "notesboard", "loadtest", server.url, *args, "--server-pid", str(server.pid)]
    subprocess.run([*cmd, "--json", str(out)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    result: dict[str, Any] = orjson.loads(out.read_bytes())
    return result


def ingest(workdir: Path, rounds: int, seconds: int, boards: int, backend: str) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    order = [("off", "on") if i % 2 == 0 else ("on", "off") for i in range(rounds)]
    for n, mode in enumerate(m for pair in order for m in pair):
        env = {"NOTESBOARD_HISTORY": "true" if mode == "on" else "false"}
        db: Database | None = None
        if backend == "sqlite":
            srv: ServerProcess = Server("notesboard", workdir, env=env, label=f"ingest-{n}-{mode}")
        else:
            db = Database(backend, workdir)
            srv = ServerProcess(db.url, workdir / f"ingest-{n}.log", env={**BENCH_ENV, **env}, log_level="warning")
        try:
            srv.start()
            r = _loadtest(srv, workdir, boards, seconds, n)
        finally:
            srv.stop()
            if db is not None:
                db.drop()
        c = r.get("counts", {})
        runs.append(
            {
                "history": mode,
                "acks_per_s": r.get("rates", {}).get("acks_per_s"),
                "server_us_per_create": (r.get("server") or {}).get("cpu_us_per_create"),
                "ack_p99_ms": r.get("latency_ms", {}).get("ack", {}).get("p99"),
                "unacked": c.get("unacked"),
                "lost": c.get("lost"),
            }
        )
        print(runs[-1], flush=True)

    def stat(mode: str, key: str, how: Any) -> float:
        return float(how([float(r[key]) for r in runs if r["history"] == mode]))

    out: dict[str, Any] = {"runs": runs}
    for name, how in (("mean", statistics.fmean), ("median", statistics.median)):
        on_rate, off_rate = stat("on", "acks_per_s", how), stat("off", "acks_per_s", how)
        on_cpu, off_cpu = stat("on", "server_us_per_create", how), stat("off", "server_us_per_create", how)
        out[name] = {
            "acks_per_s": {"on": round(on_rate), "off": round(off_rate), "ratio": round(on_rate / off_rate, 3)},
            "us_per_create": {"on": round(on_cpu, 1), "off": round(off_cpu, 1), "ratio": round(on_cpu / off_cpu, 3)},
        }
    return {
        **out,
        "load": f"{boards} boards, one sender each, window 16, 100-byte texts, {seconds} s, {backend}",
    }


async def _store_run(path: Path, history: bool, batches: int, per: int, boards: int) -> float:
    """CPU (this process, aiosqlite's thread included) per create committed through `Store.apply`."""
    async with Store(sqlite_url(path), readers=1, history=history) as store:
        started = time.process_time()
        for b in range(batches):
            ops = [
                WriteOp(f"b{i % boards}", CreateCommand("x" * 100, f"c{b}-{i}", None, 1.0, 2.0, None))
                for i in range(per)
            ]
            await store.apply(ops)
        return (time.process_time() - started) / (batches * per) * 1e6


def store(workdir: Path, rounds: int) -> dict[str, Any]:
    """The store alone, in-process (no sockets, no load generator beside it): far less noise than `ingest`."""
    runs: dict[str, list[float]] = {"off": [], "on": []}
    for n in range(rounds):
        for mode in ("off", "on") if n % 2 == 0 else ("on", "off"):
            path = workdir / f"store-{n}-{mode}.db"
            runs[mode].append(round(asyncio.run(_store_run(path, mode == "on", 60, 300, 20)), 2))
    on, off = statistics.median(runs["on"]), statistics.median(runs["off"])
    return {
        "us_per_create": {"on": on, "off": off, "extra": round(on - off, 2)},
        "runs": runs,
        "load": "60 batches of 300 creates (100-byte texts) over 20 boards, SQLite FULL, Store.apply in-process",
    }


async def _mix(store: Store, board: str, changes: int, notes: int, seed: int, batch: int = 500) -> int:
    """`notes` creates, then edits (45%), moves (45%), deletes (5%) and restores (5%) up to `changes`."""
    rng = random.Random(seed)
    live: list[int] = []
    dead: list[int] = []
    done = 0
    while done < min(notes, changes):
        n = min(batch, notes - done, changes - done)
        ops = [WriteOp(board, CreateCommand(_text(rng), None, "#fde68a", *_place(rng), "ann")) for _ in range(n)]
        live += [r.note["id"] for r in await store.apply(ops) if isinstance(r, WriteResult)]
        done += n
    while done < changes:
        ops = []
        for _ in range(min(batch, changes - done)):
            roll = rng.random()
            if roll < 0.05 and dead:
                back = dead.pop(rng.randrange(len(dead)))
                live.append(back)
                cmd: Any = UpdateCommand(back, {}, None, None, restore=True)
            elif roll < 0.10 and len(live) > 1:
                gone = live.pop(rng.randrange(len(live)))
                dead.append(gone)
                cmd = DeleteCommand(gone, None, None)
            elif roll < 0.55:
                cmd = UpdateCommand(rng.choice(live), {"text": _text(rng)}, None, None)
            else:
                x, y = _place(rng)
                cmd = UpdateCommand(rng.choice(live), {"x": x, "y": y}, None, None)
            ops.append(WriteOp(board, cmd, author="bob"))
        results = await store.apply(ops)
        assert all(isinstance(r, WriteResult) for r in results), results
        done += len(ops)
    return done


def _place(rng: random.Random) -> tuple[float, float]:
    return rng.uniform(0, 3000), rng.uniform(0, 3000)


def _text(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghij klmnop") for _ in range(60))


async def _build(url: str, changes: int, notes: int, history: bool) -> float:
    started = time.perf_counter()
    async with Store(url, readers=1, history=history) as store:
        await _mix(store, "big", changes, notes, seed=24)
    return time.perf_counter() - started


def _sizes(db: Database) -> dict[str, int]:
    if db.backend == "sqlite":
        import sqlite3

        path = Path(db.url.split("///", 1)[1])
        conn = sqlite3.connect(path)
        conn.execute("VACUUM")
        conn.close()
        return {"database": path.stat().st_size}

    async def measure() -> dict[str, int]:
        import asyncpg

        conn = await asyncpg.connect(db.dsn)
        try:
            await conn.execute("VACUUM FULL")
            total = await conn.fetchval("SELECT pg_database_size(current_database())")
            log = await conn.fetchval("SELECT pg_total_relation_size('note_history')")
            return {"database": int(total), "note_history": int(log)}
        finally:
            await conn.close()

    return asyncio.run(measure())


def size(workdir: Path, backend: str, changes: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode in ("off", "on"):
        db = Database(backend, workdir / mode)
        try:
            (workdir / mode).mkdir(exist_ok=True)
            seconds = asyncio.run(_build(db.url, changes, changes // 10, history=mode == "on"))
            out[mode] = {**_sizes(db), "build_s": round(seconds, 1)}
        finally:
            db.drop()
    out["bytes_per_change"] = round((out["on"]["database"] - out["off"]["database"]) / changes, 1)
    out["changes"] = changes
    return out


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
        "n": len(ordered),
    }


def latency(workdir: Path, backend: str, changes: int, requests: int) -> dict[str, Any]:
    db = Database(backend, workdir)
    try:
        built = asyncio.run(_build(db.url, changes, 5000, history=True))
        srv = ServerProcess(db.url, workdir / "latency.log", log_level="warning").start()
        rng = random.Random(7)
        out: dict[str, Any] = {"changes": changes, "notes_created": 5000, "build_s": round(built, 1)}
        try:
            with httpx.Client(base_url=f"{srv.url}/api/boards/big", timeout=30) as http:
                seq = http.get("/notes", params={"limit": 1}).json()["seq"]
                out["live_notes_at_end"] = len(http.get("/notes", params={"limit": 10_000}).json()["notes"])
                cases = {
                    "history limit=1000": lambda: http.get("/history", params={"since": rng.randrange(seq)}),
                    "at, limit=1000": lambda: http.get("/notes", params={"at": rng.randrange(seq + 1)}),
                    "at, limit=10000 (whole board)": lambda: http.get(
                        "/notes", params={"at": rng.randrange(seq + 1), "limit": 10_000}
                    ),
                    "notes (live, limit=1000), for scale": lambda: http.get("/notes"),
                }
                for name, call in cases.items():
                    call()  # warm
                    samples = []
                    for _ in range(requests):
                        t0 = time.perf_counter()
                        r = call()
                        samples.append(time.perf_counter() - t0)
                        assert r.status_code == 200, r.text
                    out[name] = _percentiles(samples)
                    print(name, out[name], flush=True)
        finally:
            srv.stop()
    finally:
        db.drop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="The change log's cost on ingest, its bytes, its read latency.")
    parser.add_argument("--part", choices=["ingest", "store", "size", "latency", "all"], default="all")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite", help="all but store")
    parser.add_argument("--rounds", type=int, default=2, help="ingest: pairs of runs (off/on, then on/off...)")
    parser.add_argument("--seconds", type=int, default=6, help="ingest: seconds of load per run")
    parser.add_argument("--boards", type=int, default=20, help="ingest: boards (one sender each)")
    parser.add_argument("--changes", type=int, default=50_000, help="latency and size: changes on the board")
    parser.add_argument("--requests", type=int, default=40, help="latency: requests per kind")
    args = parser.parse_args()
    parts = ["ingest", "store", "size", "latency"] if args.part == "all" else [args.part]
    OUT.mkdir(parents=True, exist_ok=True)
    for part in parts:
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="notesboard-history-") as tmp:
            if part == "ingest":
                result = ingest(Path(tmp), args.rounds, args.seconds, args.boards, args.database)
            elif part == "store":
                result = store(Path(tmp), 2 * args.rounds + 1)
            elif part == "size":
                result = size(Path(tmp), args.database, min(args.changes, 20_000))
            else:
                result = latency(Path(tmp), args.database, args.changes, args.requests)
        result["seconds"] = round(time.monotonic() - started, 1)
        result["database"] = "sqlite" if part == "store" else args.database
        name = f"history-{part}-{result['database']}.json"
        (OUT / name).write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
        summary = {k: v for k, v in result.items() if k != "runs"}
        print(part, orjson.dumps(summary).decode(), flush=True)


if __name__ == "__main__":
    main()
