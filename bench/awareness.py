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

Writes bench/out/awareness.json.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--hz", type=float, default=20.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--redis", action="store_true", help="also: two processes on Redis (needs a local Redis)")
    opts = parser.parse_args()
    _raise_nofile()
    results: dict[str, Any] = {"settings": vars(opts), "runs": []}
    args = ["--clients", str(opts.clients), "--boards", "1", "--senders", str(opts.senders), "--rate", "2"]
    args += ["--cursors", f"{opts.hz:g}", "--duration", f"{opts.duration:g}", "--procs", "2"]
    args += ["--drain-timeout", "10"]
    with tempfile.TemporaryDirectory(prefix="nb-aware-") as tmp:
        bench = Bench(False, Path(tmp), time.monotonic() + 30 * 60)
        for label, on in (("off", "false"), ("on", "true")):
            with Server("notesboard", Path(tmp), env={"NOTESBOARD_AWARENESS": on}, label=f"aware-{label}") as srv:
                row = _row(label, bench.loadtest(srv, args))
            results["runs"].append(row)
            print(orjson.dumps({k: v for k, v in row.items() if k != "command"}).decode(), flush=True)
        off, on_ = results["runs"][0], results["runs"][1]
        if off["change_p99_ms"] and on_["change_p99_ms"]:
            results["change_p99_ratio_on_off"] = round(on_["change_p99_ms"] / off["change_p99_ms"], 2)
            print("change p99 on/off:", results["change_p99_ratio_on_off"], flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "awareness.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
