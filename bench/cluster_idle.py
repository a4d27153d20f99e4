"""What a cluster process pays for boards it does not serve: two processes, load only on one of them.

For each broker (Redis pub/sub, Postgres LISTEN/NOTIFY) and each source tree (the baseline, by default `main`
exported with `git archive`, and this tree), two `notesboard serve` processes start on a fresh Postgres
database; `notesboard loadtest` (from this tree, with its contract checks: 0 lost, duplicated or out of
order, every create acked) loads only process A. The report is each process's CPU per committed event, and
the idle process's share of the serving one's.

    python bench/cluster_idle.py                        # 40 boards x 10 readers, 40 writers at 5/s, 20 s
    python bench/cluster_idle.py --quick                # 8 s per run
    python bench/cluster_idle.py --baseline-rev HEAD~3  # another baseline

Needs Postgres (NOTESBOARD_BENCH_POSTGRES) and Redis (NOTESBOARD_BENCH_REDIS), like bench/scaleout.py. Writes
bench/out/cluster-idle.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for tests.ports
from tests.ports import free_port

from scaleout import OUT, POSTGRES, REDIS, ROOT, _admin, cpu_seconds


def export(rev: str) -> Path:
    """The tree at `rev`, unpacked under bench/out (its `server/` goes first on the servers' PYTHONPATH)."""
    dest = OUT / f"src-{rev.replace('/', '_')}"
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    command = ["git", "archive", rev, "server", "client"]
    archive = subprocess.run(command, cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def committed(url: str) -> float:
    for line in httpx.get(f"{url}/metrics", timeout=5).text.splitlines():
        if line.startswith("notesboard_writes_committed_total "):
            return float(line.split()[1])
    return 0.0


class Pair:
    """Two single-process servers on one fresh database and one broker, running the code under `src`."""

    def __init__(self, src: Path, broker: str, workdir: Path, tag: str) -> None:
        self.src, self.broker_kind, self.tag = src, broker, tag
        self.db = f"nb_idle_{uuid.uuid4().hex[:10]}"
        self.ports = [free_port(), free_port()]
        self.logs = [workdir / f"{tag}-{i}.log" for i in range(2)]
        self.procs: list[subprocess.Popen[bytes]] = []

    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    def __enter__(self) -> Pair:
        asyncio.run(_admin(f'CREATE DATABASE "{self.db}"'))
        base = POSTGRES.rsplit("/", 1)[0]
        database = base.replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{self.db}"
        broker = REDIS if self.broker_kind == "redis" else f"{base}/{self.db}"
        env = {**os.environ, "PYTHONPATH": str(self.src / "server"), "NOTESBOARD_BROKER": broker}
        deadline = time.monotonic() + 30
        for port, log in zip(self.ports, self.logs, strict=True):  # one after the other: each creates the schema
            cmd = [sys.executable, "-m", "notesboard", "serve", "--port", str(port), "--database-url", database]
            with open(log, "wb") as out:
                self.procs.append(subprocess.Popen([*cmd, "--log-level", "warning"], stdout=out, stderr=out, env=env))
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or self.procs[-1].poll() is not None:
                    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")
                time.sleep(0.1)
        time.sleep(1.0)  # both on the broker
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)'))


def run(pair: Pair, opts: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    serving = pair.urls()[0]
    pids = [p.pid for p in pair.procs]
    out = workdir / f"{pair.tag}.json"
    args = ["--boards", str(opts.boards), "--clients", str(opts.boards * opts.readers), "--senders", str(opts.writers)]
    args += ["--rate", f"{opts.rate:g}", "--duration", f"{opts.duration:g}", "--payload", "100"]
    args += ["--board-prefix", f"idle-{uuid.uuid4().hex[:6]}-", "--json", str(out)]
    rest0 = cpu_seconds([pids[1]])
    time.sleep(opts.rest)  # what the idle process costs with no load anywhere: its floor
    rest = (cpu_seconds([pids[1]]) - rest0) / opts.rest
    events0 = committed(serving)
    cpu0 = [cpu_seconds([pid]) for pid in pids]
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "notesboard", "loadtest", serving, *args], capture_output=True)
    wall = time.monotonic() - started
    cpu1 = [cpu_seconds([pid]) for pid in pids]
    events = committed(serving) - events0
    result: dict[str, Any] = orjson.loads(out.read_bytes()) if out.exists() else {}
    counts = result.get("counts", {})
    checks = {k: counts.get(k) for k in ("lost", "duplicated", "out_of_order", "unacked", "errors")}
    us = [round((b - a) * 1e6 / max(1.0, events), 1) for a, b in zip(cpu0, cpu1, strict=True)]
    return {
        "ok": bool(result.get("ok")) and proc.returncode == 0,
        "events": int(events),
        "checks": checks,
        "serving_cpu_s": round(cpu1[0] - cpu0[0], 2),
        "idle_cpu_s": round(cpu1[1] - cpu0[1], 2),
        "serving_us_per_event": us[0],
        "idle_us_per_event": us[1],
        "idle_share_pct": round(100 * us[1] / us[0], 1) if us[0] else None,
        "idle_at_rest_ms_per_s": round(rest * 1000, 2),
        "idle_above_rest_us_per_event": round(max(0.0, cpu1[1] - cpu0[1] - rest * wall) * 1e6 / max(1.0, events), 1),
        "command": "notesboard loadtest SERVING_URL " + " ".join(args[:-2]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline-rev", default="main", help="git revision measured beside this tree")
    parser.add_argument("--brokers", default="redis,notify")
    parser.add_argument("--boards", type=int, default=40)
    parser.add_argument("--readers", type=int, default=10, help="per board")
    parser.add_argument("--writers", type=int, default=40)
    parser.add_argument("--rate", type=float, default=5.0, help="creates/s per writer")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--rest", type=float, default=5.0, help="seconds the idle process is measured unloaded")
    parser.add_argument("--quick", action="store_true", help="8 s runs")
    opts = parser.parse_args()
    if opts.quick:
        opts.duration = 8.0
    workdir = OUT / "cluster-idle-work"
    workdir.mkdir(parents=True, exist_ok=True)
    trees = {opts.baseline_rev: export(opts.baseline_rev), "this tree": ROOT}
    results: dict[str, Any] = {"machine_cores": os.cpu_count(), "settings": vars(opts), "runs": []}
    for broker in opts.brokers.split(","):
        for label, src in trees.items():
            with Pair(src, broker, workdir, f"{broker}-{uuid.uuid4().hex[:4]}") as pair:
                r = {"broker": broker, "code": label, **run(pair, opts, workdir)}
            results["runs"].append(r)
            print(
                f"{broker:6} {label:10} events={r['events']} serving={r['serving_us_per_event']} us/event "
                f"idle={r['idle_us_per_event']} us/event ({r['idle_share_pct']}%), "
                f"at rest {r['idle_at_rest_ms_per_s']} "
                f"ms/s, above rest {r['idle_above_rest_us_per_event']} us/event; ok={r['ok']} {r['checks']}",
                flush=True,
            )
    (OUT / "cluster-idle.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
