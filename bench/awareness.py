"""Awareness at scale (issue #21): 200 clients on one board, every cursor at 20 Hz, 20 of them creating notes at
2/s, run with awareness off and on in the same run: cursor p99, the server's CPU, and what awareness does to
change latency (delivery p99 on / off).

Each setting gets its own server on a fresh SQLite file (`bench/servers.py`) and the project's load tester:

    notesboard loadtest URL --clients 200 --boards 1 --senders 20 --rate 2 --cursors 20 --duration 20 \\
        --procs 2 --drain-timeout 10 --server-pid PID --json FILE

With awareness off the clients still send their cursors (the server ignores them), so both runs carry the same
input. `--redis` adds a run with the 200 clients split over two server processes sharing Redis (CPU summed).

    python bench/awareness.py                 # 20 s each
    python bench/awareness.py --duration 10 --redis
    python bench/awareness.py --settings "" --redis   # only the two processes on Redis

Writes bench/out/awareness.json.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for tests.support
from tests.support import Database, ServerProcess
from tests.support.brokers import require_redis

from run import OUT, Bench, _bad, _lat, _raise_nofile, _srv
from servers import BENCH_ENV, ROOT, Server


def _row(label: str, r: dict[str, Any]) -> dict[str, Any]:
    aw = r.get("awareness") or {}
    return {
        "setting": label,
        "ok": bool(r.get("ok")),
        "bad": _bad(r),
        "server_cpu_share": _srv(r, "cpu_share_during_load"),
        "cursor_p50_ms": _lat(r, "cursor", "p50"),
        "cursor_p99_ms": _lat(r, "cursor", "p99"),
        "cursor_samples": (r.get("latency_ms", {}).get("cursor") or {}).get("count"),
        "change_p50_ms": _lat(r, "delivery", "p50"),
        "change_p99_ms": _lat(r, "delivery", "p99"),
        "acks_per_s": r.get("rates", {}).get("acks_per_s"),
        "aware_frames_per_client_s": aw.get("frames_per_client_s"),
        "aware_entries_per_client_s": aw.get("entries_per_client_s"),
        "aware_bytes_per_client_s": aw.get("bytes_per_client_s"),
        "cursor_moves_skipped": aw.get("moves_skipped"),
        "generator_cpu_s": r.get("generator", {}).get("load_cpu_s"),
        "command": r.get("command"),
    }


def _loadtest(srv: ServerProcess, args: list[str], out: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "notesboard", "loadtest", srv.url, *args, "--server-pid", str(srv.pid)]
    cmd += ["--json", str(out)]
    subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=ROOT)
    result: dict[str, Any] = orjson.loads(out.read_bytes()) if out.exists() else {"ok": False}
    result["command"] = "notesboard loadtest URL " + " ".join(shlex.quote(a) for a in args) + " --server-pid PID"
    return result


def split_on_redis(opts: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """The same load, half the clients (and senders) on each of two processes sharing Postgres and Redis; one
    load tester per process, started together, on the same board (the two testers' clients see each other)."""
    db = Database("postgres", tmp)
    env = {**BENCH_ENV, "NOTESBOARD_BROKER": require_redis()}
    servers = [ServerProcess(db.url, tmp / f"redis{i}.log", env=env, log_level="warning") for i in range(2)]
    try:
        for s in servers:
            s.start()
        half = opts.clients // 2
        args = ["--clients", str(half), "--boards", "1", "--senders", str(opts.senders // 2), "--rate", "2"]
        args += ["--cursors", f"{opts.hz:g}", "--duration", f"{opts.duration:g}", "--procs", "1"]
        args += ["--drain-timeout", "10", "--board-prefix", "aware-split-"]
        with ThreadPoolExecutor(2) as pool:
            runs = list(pool.map(lambda i: _loadtest(servers[i], args, tmp / f"split{i}.json"), range(2)))
    finally:
        for s in servers:
            s.stop()
        db.drop()
    rows = [_row(f"redis-{i}", r) for i, r in enumerate(runs)]
    shares = [row["server_cpu_share"] for row in rows]
    return {
        "processes": rows,
        "server_cpu_share_sum": round(sum(shares), 3) if None not in shares else None,
        "cursor_p99_ms_max": max((row["cursor_p99_ms"] or 0.0) for row in rows),
        "change_p99_ms_max": max((row["change_p99_ms"] or 0.0) for row in rows),
        "ok": all(row["ok"] for row in rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--hz", type=float, default=20.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--settings", default="off,on", help="one-process runs to make (off, on; empty: none)")
    parser.add_argument("--redis", action="store_true", help="also: two processes on Redis (needs a local Redis)")
    opts = parser.parse_args()
    _raise_nofile()
    results: dict[str, Any] = {"settings": vars(opts), "runs": []}
    args = ["--clients", str(opts.clients), "--boards", "1", "--senders", str(opts.senders), "--rate", "2"]
    args += ["--cursors", f"{opts.hz:g}", "--duration", f"{opts.duration:g}", "--procs", "2"]
    args += ["--drain-timeout", "10"]
    with tempfile.TemporaryDirectory(prefix="nb-aware-") as tmp:
        bench = Bench(False, Path(tmp), time.monotonic() + 30 * 60)
        for label in [s for s in opts.settings.split(",") if s]:
            on = {"off": "false", "on": "true"}[label]
            with Server("notesboard", Path(tmp), env={"NOTESBOARD_AWARENESS": on}, label=f"aware-{label}") as srv:
                row = _row(label, bench.loadtest(srv, args))
            results["runs"].append(row)
            print(orjson.dumps({k: v for k, v in row.items() if k != "command"}).decode(), flush=True)
        by = {row["setting"]: row for row in results["runs"]}
        off, on_ = by.get("off", {}), by.get("on", {})
        if off.get("change_p99_ms") and on_.get("change_p99_ms"):
            results["change_p99_ratio_on_off"] = round(on_["change_p99_ms"] / off["change_p99_ms"], 2)
            print("change p99 on/off:", results["change_p99_ratio_on_off"], flush=True)
        if opts.redis:
            split = results["redis_split"] = split_on_redis(opts, Path(tmp))
            for row in split["processes"]:
                print(orjson.dumps({k: v for k, v in row.items() if k != "command"}).decode(), flush=True)
            print("two processes on Redis:", {k: v for k, v in split.items() if k != "processes"}, flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "awareness.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
