"""Fan-out coalescing under load (issue #14, goal 4): server CPU per delivery and delivery latency at 500
clients on one board, with coalescing off (the baseline: a flush every loop turn) and on, in the same run.

Each setting gets its own server on a fresh SQLite file (`bench/servers.py`) and the project's load tester
(batching clients, contract checks):

    notesboard loadtest URL --clients 500 --boards 1 --senders 1 --rate R --duration 8 --payload 100 \\
        --procs 2 --drain-timeout 10 --server-pid PID --json FILE

    python bench/fanout_coalesce.py                       # R = 10 and 80; coalesce 0, 0.01, 0.02, 0.04 s
    python bench/fanout_coalesce.py --rates 80 --windows 0,0.02

Writes bench/out/fanout-coalesce.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import OUT, Bench, _bad, _lat, _raise_nofile, _srv
from servers import Server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--rates", default="10,80", help="notes/s of the one sender")
    parser.add_argument("--windows", default="0,0.01,0.02,0.04", help="NOTESBOARD_FANOUT_COALESCE values (0: off)")
    parser.add_argument("--duration", type=float, default=8.0)
    opts = parser.parse_args()
    _raise_nofile()
    results: dict[str, Any] = {"settings": vars(opts), "runs": []}
    with tempfile.TemporaryDirectory(prefix="nb-coalesce-") as tmp:
        bench = Bench(False, Path(tmp), time.monotonic() + 30 * 60)
        for rate in [float(r) for r in opts.rates.split(",")]:
            for window in opts.windows.split(","):
                env = {"NOTESBOARD_FANOUT_COALESCE": window}
                with Server("notesboard", Path(tmp), env=env, label=f"coalesce-{window}-{rate:g}") as srv:
                    args = ["--clients", str(opts.clients), "--boards", "1", "--senders", "1", "--rate", f"{rate:g}"]
                    args += ["--duration", f"{opts.duration:g}", "--payload", "100", "--procs", "2"]
                    args += ["--drain-timeout", "10"]
                    r = bench.loadtest(srv, args)
                row = {
                    "rate": rate,
                    "coalesce_s": float(window),
                    "ok": bool(r.get("ok")),
                    "bad": _bad(r),
                    "deliveries_per_s": r.get("rates", {}).get("deliveries_per_s"),
                    "server_us_per_delivery": _srv(r, "cpu_us_per_delivery"),
                    "p50_ms": _lat(r, "delivery", "p50"),
                    "p99_ms": _lat(r, "delivery", "p99"),
                    "generator_us_per_frame": r.get("generator", {}).get("cpu_us_per_frame"),
                    "command": r.get("command"),
                }
                results["runs"].append(row)
                print(
                    f"rate={rate:g}/s coalesce={window}s: server {row['server_us_per_delivery']} us/delivery, "
                    f"p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, {row['deliveries_per_s']} deliveries/s, "
                    f"generator {row['generator_us_per_frame']} us/frame, ok={row['ok']} {row['bad']}",
                    flush=True,
                )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "fanout-coalesce.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
