"""notesboard vs the tutorial baseline, scenario by scenario, on this machine (`make bench`).

Each scenario starts each server on a fresh SQLite file, loads it with `notesboard loadtest` (a subprocess,
as a user would run it) and reads the server's CPU time and memory from /proc. Results go to
bench/out/results.json (with the exact commands) and a table on stdout.

    python bench/run.py                       # all four scenarios (about 10-15 minutes)
    python bench/run.py --quick               # smaller sizes (about 3 minutes)
    python bench/run.py --scenario ingest     # one scenario (fanout, ingest, connections, slow)
    python bench/run.py --scenario ingest --against ../base --rounds 3 --postgres
                                              # ingest on this code and on ../base's (a checkout), alternated
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
import websockets
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import ROOT, Database, Server

OUT = ROOT / "bench" / "out"
KINDS = ("notesboard", "baseline")
TOTAL_BUDGET_S = 15 * 60
console = Console() if sys.stdout.isatty() else Console(width=170)


def _raise_nofile() -> None:
    """10,000 sockets on each side: raise our limit (children, the servers included, inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 20_000
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))  # works as root
            return
        except (ValueError, OSError):
            want = hard
    if soft == resource.RLIM_INFINITY or soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


class Bench:
    def __init__(
        self,
        quick: bool,
        workdir: Path,
        deadline: float,
        against: Path | None = None,
        rounds: int = 1,
        postgres: bool = False,
    ) -> None:
        self.quick = quick
        self.workdir = workdir
        self.deadline = deadline
        self.against = against  # another checkout, for ingest side by side (`--against`)
        self.rounds = rounds
        self.postgres = postgres
        self.runs: list[dict[str, Any]] = []
        self.n = 0

    def out_of_time(self) -> bool:
        return time.monotonic() > self.deadline

    def loadtest(self, server: Server, args: list[str], timeout: float = 240) -> dict[str, Any]:
        """Run `notesboard loadtest` against `server`; returns its JSON result (plus the command)."""
        self.n += 1
        out = self.workdir / f"run{self.n}.json"
        cmd = [sys.executable, "-m", "notesboard", "loadtest", server.url, *args]
        cmd += ["--server-pid", str(server.pid), "--json", str(out)]
        shown = "notesboard loadtest URL " + " ".join(shlex.quote(a) for a in args) + " --server-pid PID --json FILE"
        shown = shown.replace(str(self.workdir) + "/", "")
        budget = max(30.0, min(timeout, self.deadline - time.monotonic() + 60))
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=budget, cwd=ROOT)
        except subprocess.TimeoutExpired:
            return {"ok": False, "failed": "load test timed out", "command": shown}
        if not out.exists():
            return {"ok": False, "failed": (proc.stderr or proc.stdout)[-500:], "command": shown}
        result: dict[str, Any] = orjson.loads(out.read_bytes())
        result["command"] = shown
        result["exit_code"] = proc.returncode
        for key in ("histograms_ms",):
            result.pop(key, None)
        return result


def _lat(r: dict[str, Any], key: str, q: str) -> float | None:
    value = r.get("latency_ms", {}).get(key, {}).get(q)
    return None if value is None else float(value)


def _srv(r: dict[str, Any], key: str) -> Any:
    return (r.get("server") or {}).get(key)


def _bad(r: dict[str, Any]) -> dict[str, int]:
    c = r.get("counts", {})
    return {k: c[k] for k in ("lost", "duplicated", "out_of_order", "errors", "unacked", "connect_failed") if c.get(k)}


# -- 1. fan-out ----------------------------------------------------------------------------------------------


def fanout(b: Bench) -> dict[str, Any]:
    sizes = [200] if b.quick else [500, 1000]
    rates = [20.0, 80.0] if b.quick else [5.0, 10.0, 20.0, 40.0, 80.0]
    duration = "3" if b.quick else "8"
    out: dict[str, Any] = {}
    for kind in KINDS:
        for n in sizes:
            steps = []
            best = None
            with Server(kind, b.workdir, label=f"fanout-{kind}-{n}") as srv:
                for rate in rates:
                    if b.out_of_time():
                        break
                    args = ["--clients", str(n), "--boards", "1", "--senders", "1", "--rate", f"{rate:g}"]
                    args += ["--duration", duration, "--payload", "100", "--procs", "2", "--drain-timeout", "10"]
                    r = b.loadtest(srv, args)
                    p99 = _lat(r, "delivery", "p99")
                    passed = bool(r.get("ok")) and p99 is not None and p99 < 100
                    steps.append(
                        {
                            "rate": rate,
                            "ok": r.get("ok"),
                            "passed": passed,
                            "deliveries_per_s": r.get("rates", {}).get("deliveries_per_s"),
                            "p50_ms": _lat(r, "delivery", "p50"),
                            "p99_ms": p99,
                            "max_ms": _lat(r, "delivery", "max"),
                            "server_us_per_delivery": _srv(r, "cpu_us_per_delivery"),
                            "server_cpu_share": _srv(r, "cpu_share_during_load"),
                            "generator_us_per_frame": r.get("generator", {}).get("cpu_us_per_frame"),
                            "bad": _bad(r),
                            "command": r.get("command"),
                        }
                    )
                    if passed:
                        best = rate
                    else:
                        break
            out[f"{kind}/{n}"] = {"best_rate": best, "steps": steps}
    return out


# -- 2. ingest -----------------------------------------------------------------------------------------------


async def _present(url: str, boards: list[str]) -> dict[str, set[int]]:
    """Every note's seq per board, read back through a `since=0` snapshot."""
    found: dict[str, set[int]] = {}
    ws_base = url.replace("http://", "ws://")
    for board in boards:
        async with websockets.connect(f"{ws_base}/ws/{board}?since=0", max_size=None, compression=None) as ws:
            snap = orjson.loads(str(await ws.recv()).split("\n")[0])
            found[board] = {int(n["seq"]) for n in snap["notes"] if not n.get("deleted")}
    return found


def _ingest_once(
    b: Bench, kind: str, env: dict[str, str], label: str, backend: str, code: Path | None
) -> dict[str, Any]:
    """One ingest run on a fresh database: the load, then a restart and the acked creates looked for."""
    boards = 20 if b.quick else 100
    duration = "5" if b.quick else "10"
    b.n += 1
    db = Database(backend, b.workdir) if backend == "postgres" else None
    acked = b.workdir / f"acked-{label}-{b.n}.jsonl"
    srv = Server(
        kind, b.workdir, env=env, label=f"ingest-{label}-{b.n}", database_url=db.url if db else None, code=code
    )
    try:
        srv.start()
        args = ["--clients", str(boards), "--boards", str(boards), "--senders", str(boards), "--rate", "0"]
        args += ["--window", "16", "--duration", duration, "--payload", "100", "--drain-timeout", "15"]
        args += ["--acked-log", str(acked)]
        r = b.loadtest(srv, args)
        srv.stop()
        srv.start()
        by_board: dict[str, set[int]] = defaultdict(set)
        if acked.exists():
            for line in acked.read_bytes().splitlines():
                board, seq, _cid = orjson.loads(line)
                by_board[board].add(int(seq))
        present = asyncio.run(_present(srv.url, sorted(by_board))) if by_board else {}
        missing = sum(len(seqs - present.get(board, set())) for board, seqs in by_board.items())
    finally:
        srv.stop()
        if db is not None:
            db.drop()
    c = r.get("counts", {})
    return {
        "acks_per_s": r.get("rates", {}).get("acks_per_s"),
        "sent": c.get("sent"),
        "acked": c.get("acked"),
        "unacked": c.get("unacked"),
        "ack_p50_ms": _lat(r, "ack", "p50"),
        "ack_p99_ms": _lat(r, "ack", "p99"),
        "server_us_per_create": _srv(r, "cpu_us_per_create"),
        "server_cpu_share": _srv(r, "cpu_share_during_load"),
        "acked_missing_after_restart": missing,
        "bad": _bad(r),
        "errors": r.get("errors"),
        "command": r.get("command"),
        "env": env,
        "database": backend,
    }


def ingest(b: Bench) -> dict[str, Any]:
    """Each variant once; with `--against DIR` (another checkout) or `--rounds N`, each variant on this code
    and on DIR's, alternated (this, DIR, DIR, this, ...) so that the machine's drift hits both alike."""
    variants: list[tuple[str, dict[str, str], str, str]] = [
        ("notesboard", {}, "notesboard", "sqlite"),
        ("notesboard", {"NOTESBOARD_SQLITE_SYNCHRONOUS": "NORMAL"}, "notesboard-sync-normal", "sqlite"),
    ]
    if b.postgres:
        variants.append(("notesboard", {}, "notesboard-postgres", "postgres"))
    if b.against is None and b.rounds == 1:
        variants.append(("baseline", {}, "baseline", "sqlite"))
    codes: list[tuple[str, Path | None]] = [("this", None)]
    if b.against is not None:
        codes.append(("against", b.against))
    out: dict[str, Any] = {}
    for kind, env, label, backend in variants:
        for rnd in range(b.rounds):
            for name, code in codes if rnd % 2 == 0 else codes[::-1]:
                if b.out_of_time():
                    return out
                key = label if len(codes) == 1 and b.rounds == 1 else f"{label} @{name} #{rnd + 1}"
                out[key] = {**_ingest_once(b, kind, env, label, backend, code), "code": name, "variant": label}
                console.print(
                    f"  {key}: {_f(out[key]['acks_per_s'], 0)} acked/s, {_f(out[key]['server_us_per_create'])} us"
                )
    return out


def ingest_summary(runs: dict[str, Any]) -> dict[str, Any]:
    """Medians (and means) per variant and code (this one, `--against`'s)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for v in runs.values():
        groups[(v.get("variant", ""), v.get("code", "this"))].append(v)
    summary: dict[str, Any] = {}
    for (variant, code), vs in groups.items():
        rates = [float(v["acks_per_s"]) for v in vs if v.get("acks_per_s") is not None]
        cpus = [float(v["server_us_per_create"]) for v in vs if v.get("server_us_per_create") is not None]
        if not rates or not cpus:
            continue
        summary[f"{variant} @{code}"] = {
            "runs": len(vs),
            "acks_per_s": {"median": round(statistics.median(rates)), "mean": round(statistics.fmean(rates))},
            "us_per_create": {
                "median": round(statistics.median(cpus), 1),
                "mean": round(statistics.fmean(cpus), 1),
            },
            "missing_after_restart": sum(int(v.get("acked_missing_after_restart") or 0) for v in vs),
        }
    return summary


# -- 3. connections ------------------------------------------------------------------------------------------


def connections(b: Bench) -> dict[str, Any]:
    n = 2000 if b.quick else 10_000
    out: dict[str, Any] = {}
    for kind in KINDS:
        if b.out_of_time():
            break
        with Server(kind, b.workdir, label=f"connections-{kind}") as srv:
            args = ["--clients", str(n), "--boards", "100", "--senders", "0", "--duration", "3"]
            args += ["--procs", "2", "--connect-concurrency", "512", "--drain-timeout", "5"]
            r = b.loadtest(srv, args, timeout=400)
        rss = _srv(r, "rss_kb") or {}
        out[kind] = {
            "clients": n,
            "connected": r.get("counts", {}).get("connected"),
            "connects_per_s": r.get("rates", {}).get("connects_per_s"),
            "connect_p50_ms": _lat(r, "connect", "p50"),
            "connect_p99_ms": _lat(r, "connect", "p99"),
            "kb_per_connection": _srv(r, "rss_kb_per_connection"),
            "rss_connected_mib": round(rss["connected"] / 1024, 1) if rss else None,
            "server_us_per_connect": _srv(r, "cpu_us_per_connect"),
            "bad": _bad(r),
            "errors": r.get("errors"),
            "command": r.get("command"),
        }
    return out


# -- 4. slow consumers ---------------------------------------------------------------------------------------


def slow(b: Bench) -> dict[str, Any]:
    """Two parts. Impact: 1,000 fast clients with and without 100 that stop reading, at a load the generator
    and the server can carry together (5 notes/s of 1,000 characters). Overflow: 100 fast + 10 stalled at
    20 notes/s of 10,000 characters (200 KB/s per client), fast enough for a stalled client's queue and the
    kernel's socket buffers (~5 MB together) to overflow before the 20 s + 20 s keepalive gives up on it."""
    plans = [("impact", 200, 20, "5", "1000", "10") if b.quick else ("impact", 1000, 100, "5", "1000", "45")]
    plans.append(("overflow", 50 if b.quick else 100, 5 if b.quick else 10, "20", "10000", "35"))
    out: dict[str, Any] = {}
    for part, fast, n_slow, rate, payload, duration in plans:
        for kind in KINDS:
            for extra in (0, n_slow) if part == "impact" else (n_slow,):
                if b.out_of_time():
                    break
                # notesboard logs each slow-consumer close (1013) at info: the count is read from its log.
                env = {"NOTESBOARD_LOG_LEVEL": "info"} if kind == "notesboard" else {}
                with Server(kind, b.workdir, env=env, label=f"slow-{part}-{kind}-{extra}") as srv:
                    args = ["--clients", str(fast), "--boards", "1", "--senders", "1", "--rate", rate]
                    args += ["--duration", duration, "--payload", payload, "--procs", "2", "--slow", str(extra)]
                    args += ["--drain-timeout", "10"]
                    r = b.loadtest(srv, args, timeout=300)
                text = srv.log_path.read_text(errors="replace")
                closed_1013 = text.count("slow consumer") if kind == "notesboard" else None
                rss = _srv(r, "rss_kb") or {}
                out[f"{part}/{kind}/{fast}+{extra}"] = {
                    "ok": r.get("ok"),
                    "fast_p50_ms": _lat(r, "delivery", "p50"),
                    "fast_p99_ms": _lat(r, "delivery", "p99"),
                    "fast_max_ms": _lat(r, "delivery", "max"),
                    "delivered": r.get("counts", {}).get("delivered"),
                    "expected": r.get("counts", {}).get("expected_deliveries"),
                    "rss_growth_mib": round((rss["max"] - rss["connected"]) / 1024, 1) if rss else None,
                    "slow_fates": r.get("slow_fates"),
                    "server_logged_1013": closed_1013,
                    "closes_seen_by_fast": r.get("closes"),
                    "bad": _bad(r),
                    "errors": r.get("errors"),
                    "command": r.get("command"),
                }
    return out


SCENARIOS = {"fanout": fanout, "ingest": ingest, "connections": connections, "slow": slow}


# -- the table -----------------------------------------------------------------------------------------------


def _f(v: Any, digits: int = 1) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, dict):
        return ", ".join(f"{k}={_f(x)}" for k, x in v.items()) or "none"
    return str(v)


def print_tables(results: dict[str, Any]) -> None:
    if "fanout" in results:
        t = Table(title="1. Fan-out: one board, one sender at a fixed rate (a step passes: p99 < 100 ms, nothing lost)")
        for col in ("server/clients", "rate/s", "deliveries/s", "p50 ms", "p99 ms", "server us/delivery", "problems"):
            t.add_column(col)
        for key, v in results["fanout"].items():
            for s in v["steps"]:
                mark = "" if s["passed"] else " (fail)"
                t.add_row(
                    key,
                    _f(s["rate"], 0) + mark,
                    _f(s["deliveries_per_s"], 0),
                    _f(s["p50_ms"]),
                    _f(s["p99_ms"]),
                    _f(s["server_us_per_delivery"]),
                    _f(s["bad"]),
                )
            t.add_row(key, f"best: {_f(v['best_rate'], 0)}", "", "", "", "", "", end_section=True)
        console.print(t)
    if "ingest" in results:
        t = Table(title="2. Ingest: 100 senders on 100 boards, as fast as acks allow (window 16)")
        for col in (
            "server",
            "acked/s",
            "ack p50 ms",
            "ack p99 ms",
            "server us/create",
            "missing after restart",
            "problems",
        ):
            t.add_column(col)
        for key, v in results["ingest"].items():
            t.add_row(
                key,
                _f(v["acks_per_s"], 0),
                _f(v["ack_p50_ms"]),
                _f(v["ack_p99_ms"]),
                _f(v["server_us_per_create"]),
                _f(v["acked_missing_after_restart"]),
                _f(v["bad"]),
            )
        console.print(t)
    if results.get("ingest_summary"):
        t = Table(title="2b. Ingest side by side: medians (means) over the runs; @against is --against's code")
        for col in ("variant @code", "runs", "acked/s", "server us/create", "missing after restart"):
            t.add_column(col)
        for key, v in sorted(results["ingest_summary"].items()):
            a, u = v["acks_per_s"], v["us_per_create"]
            t.add_row(
                key,
                str(v["runs"]),
                f"{_f(a['median'])} ({_f(a['mean'])})",
                f"{_f(u['median'])} ({_f(u['mean'])})",
                _f(v["missing_after_restart"]),
            )
        console.print(t)
    if "connections" in results:
        t = Table(title="3. Connections: idle sockets on one server process")
        for col in ("server", "connected", "connects/s", "p99 connect ms", "KiB/conn", "server us/connect", "problems"):
            t.add_column(col)
        for key, v in results["connections"].items():
            t.add_row(
                key,
                f"{_f(v['connected'])}/{_f(v['clients'])}",
                _f(v["connects_per_s"], 0),
                _f(v["connect_p99_ms"]),
                _f(v["kb_per_connection"]),
                _f(v["server_us_per_connect"], 0),
                _f(v["bad"]),
            )
        console.print(t)
    if "slow" in results:
        t = Table(title="4. Slow consumers: fast clients' latency with and without clients that stop reading")
        for col in (
            "server/slow",
            "fast p50 ms",
            "fast p99 ms",
            "delivered/expected",
            "RSS growth MiB",
            "slow fates",
            "problems",
        ):
            t.add_column(col)
        for key, v in results["slow"].items():
            t.add_row(
                key,
                _f(v["fast_p50_ms"]),
                _f(v["fast_p99_ms"]),
                f"{_f(v['delivered'])}/{_f(v['expected'])}",
                _f(v["rss_growth_mib"]),
                _f(v["slow_fates"]),
                _f(v["server_logged_1013"]),
                _f(v["bad"]),
            )
        console.print(t)


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark notesboard against the tutorial baseline.")
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all", help="Which scenario to run.")
    parser.add_argument("--quick", action="store_true", help="Smaller sizes and shorter steps (a smoke run).")
    parser.add_argument("--out", type=Path, default=OUT / "results.json", help="Where to write the JSON results.")
    parser.add_argument(
        "--against",
        type=Path,
        help="ingest: also run this checkout's code (its server/ directory), alternated with this one",
    )
    parser.add_argument("--rounds", type=int, default=1, help="ingest: runs of each variant (and code)")
    parser.add_argument("--postgres", action="store_true", help="ingest: add a run on a fresh Postgres database")
    args = parser.parse_args()
    if args.against is not None and not (args.against / "server" / "notesboard").is_dir():
        parser.error(f"--against {args.against}: no server/notesboard there")
    _raise_nofile()
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    started = time.monotonic()
    results: dict[str, Any] = {
        "machine": {
            "nproc": os.cpu_count(),
            "python": sys.version.split()[0],
            "quick": args.quick,
            "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
    }
    with tempfile.TemporaryDirectory(prefix="notesboard-bench-") as tmp:
        budget = TOTAL_BUDGET_S * max(1, args.rounds * (2 if args.against else 1) // 2)
        b = Bench(args.quick, Path(tmp), started + budget, args.against, args.rounds, args.postgres)
        for name in names:
            console.print(f"[bold]scenario {name}[/] ({time.monotonic() - started:.0f}s elapsed)")
            t0 = time.monotonic()
            results[name] = SCENARIOS[name](b)
            results[f"{name}_seconds"] = round(time.monotonic() - t0, 1)
        if "ingest" in results and (args.against is not None or args.rounds > 1):
            results["ingest_summary"] = ingest_summary(results["ingest"])
            if args.against is not None:
                results["ingest_against"] = str(args.against.resolve())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    print_tables(results)
    console.print(f"total {time.monotonic() - started:.0f}s; details and commands in {args.out}")


if __name__ == "__main__":
    main()
