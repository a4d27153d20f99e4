"""The load tester's receive path, old and new, on the same batched messages: frames/s per core.

The load generator's ceiling is part of every benchmark, so the shared wire client (issue #10/#12) must not
lower it. This feeds M messages of B events each (the shape `batch=1` delivers: one JSON object per line)
through a `LoadClient`'s per-frame accounting, decoded two ways:

- baseline: the load tester's own parsing before it used the shared client (split on newlines, orjson per line);
- shared: `notesboard.client.frames.decode`, as the load tester's read loop now does.

No socket: this isolates what changed (decoding); both run the same `_frame` accounting. Runs alternate.

    python bench/loadtest_recv.py                       # 2,000 messages of 20 events, 7 runs each
    python bench/loadtest_recv.py --batch 1 --runs 5

Prints CPU microseconds per frame and frames per CPU-second for each, and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import orjson

from notesboard.client.frames import decode
from notesboard.loadtest.client import ClientKind, LoadClient, Tally


def messages(n_messages: int, batch: int, payload: int) -> list[str]:
    out = []
    seq = 0
    now = time.monotonic_ns()
    for _ in range(n_messages):
        lines = []
        for _ in range(batch):
            seq += 1
            note = {
                "id": seq,
                "board": "bench",
                "text": f"{now} run.0.{seq} " + "x" * payload,
                "color": "#ffeb3b",
                "x": 10,
                "y": 20,
                "version": 1,
                "seq": seq,
                "updated_at": "2026-12-01T21:00:00Z",
            }
            lines.append(orjson.dumps({"type": "event", "op": "create", "seq": seq, "note": note}).decode())
        out.append("\n".join(lines))
    return out


def baseline(client: LoadClient, msgs: list[str]) -> None:
    frame = client._frame
    loads = orjson.loads
    for message in msgs:
        now = time.monotonic_ns()
        for line in message.split("\n"):
            frame(loads(line), now)


def shared(client: LoadClient, msgs: list[str]) -> None:
    frame = client._frame
    for message in msgs:
        now = time.monotonic_ns()
        for f in decode(message):
            frame(f, now)


def run_once(path: Callable[[LoadClient, list[str]], None], msgs: list[str]) -> tuple[float, LoadClient]:
    client = LoadClient(0, ClientKind.READER, "http://127.0.0.1:1", "bench", Tally())
    t0 = time.process_time()
    path(client, msgs)
    return time.process_time() - t0, client


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=2000, help="messages per run")
    ap.add_argument("--batch", type=int, default=20, help="events per message")
    ap.add_argument("--payload", type=int, default=40, help="extra characters of note text")
    ap.add_argument("--runs", type=int, default=7, help="runs of each path (alternating); the median is shown")
    args = ap.parse_args()
    msgs = messages(args.messages, args.batch, args.payload)
    n = args.messages * args.batch
    times: dict[str, list[float]] = {"baseline": [], "shared": []}
    for _ in range(args.runs):
        for name, path in (("baseline", baseline), ("shared", shared)):
            cpu, client = run_once(path, msgs)
            assert client.tally.delivered == n and client.checker.lost(n) == 0, "accounting changed"
            times[name].append(cpu)
    print(f"{n} frames per run ({args.messages} messages x {args.batch}), median of {args.runs} runs")
    med = {k: statistics.median(v) for k, v in times.items()}
    for name in ("baseline", "shared"):
        print(f"  {name:8}  {med[name] / n * 1e6:6.2f} us CPU/frame   {n / med[name]:9.0f} frames/CPU-s")
    print(f"  shared/baseline CPU per frame: {med['shared'] / med['baseline']:.3f}")


if __name__ == "__main__":
    main()
