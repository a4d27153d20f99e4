"""Running a load test: a coordinator and one or more workers (processes) that own the sockets.

The coordinator moves every worker through the same phases, so that the measurements line up:

    hello -> connect (every socket opens and reads its snapshot) -> ready
          -> go(t_start, t_stop) (senders create notes, everyone reads) -> sent(highest acked seq per board)
          -> final(board -> seq every client must reach) -> result(tallies)

Every wait is bounded; a worker that dies or overruns its phase is reported, not waited for. With
`procs=1` the worker runs as a task of the coordinator's event loop; otherwise each worker is a spawned
process talking over a pipe. The server's CPU time and RSS are sampled from /proc all along.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from notesboard.loadtest import cursors
from notesboard.loadtest.accounting import Histogram, Series
from notesboard.loadtest.config import LoadConfig, Progress
from notesboard.loadtest.procstat import ProcSample, read_proc
from notesboard.loadtest.worker import Channel, Message, PipeChannel, QueueChannel, guarded_worker, worker_process

__all__ = ["LoadConfig", "Progress", "run_load"]

PROGRESS_S = 0.5


# -- the coordinator -----------------------------------------------------------------------------------------


class _Coordinator:
    def __init__(self, cfg: LoadConfig, on_progress: Callable[[Progress], None] | None) -> None:
        self.cfg = cfg
        self.on_progress = on_progress
        self.progress = Progress(planned=cfg.clients + cfg.slow)
        self.per_worker: dict[int, tuple[Any, ...]] = {}
        self.timeline: list[dict[str, float]] = []
        self.t0 = time.monotonic()
        self.marks: dict[str, float] = {}
        self.samples: dict[str, ProcSample | None] = {}
        self.dead: set[int] = set()

    def mark(self, name: str) -> None:
        self.marks[name] = time.monotonic() - self.t0
        self.samples[name] = read_proc(self.cfg.server_pid) if self.cfg.server_pid else None
        self.progress.phase = name

    async def sample_loop(self) -> None:
        while True:
            elapsed = time.monotonic() - self.t0
            sample = read_proc(self.cfg.server_pid) if self.cfg.server_pid else None
            if sample is not None:
                self.timeline.append({"t": round(elapsed, 2), "cpu_s": sample.cpu_s, "rss_kb": sample.rss_kb})
            p = self.progress
            p.elapsed = elapsed
            p.server = sample
            rows = self.per_worker.values()
            p.connected = sum(r[3] for r in rows)
            p.sent = sum(r[4] for r in rows)
            p.acked = sum(r[5] for r in rows)
            p.delivered = sum(r[6] for r in rows)
            p.errors = sum(r[7] for r in rows)
            p.resumes = sum(r[8] for r in rows)
            if self.on_progress is not None:
                self.on_progress(p)
            await asyncio.sleep(PROGRESS_S)

    async def gather(self, chans: list[Channel], kind: str, timeout: float) -> dict[int, Message]:
        """Wait for one `kind` message from every worker (progress is recorded on the way)."""
        got: dict[int, Message] = {}
        deadline = time.monotonic() + timeout
        waiting = set(range(len(chans))) - self.dead

        async def one(i: int) -> None:
            while True:
                msg = await chans[i].recv(max(0.01, deadline - time.monotonic()))
                if msg[0] == "progress":
                    self.per_worker[i] = msg
                elif msg[0] == "dead":
                    self.dead.add(i)
                    got[i] = msg
                    return
                elif msg[0] == kind:
                    got[i] = msg
                    return

        results = await asyncio.gather(*(one(i) for i in waiting), return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException) and not isinstance(r, TimeoutError):
                raise r
        return got


async def run_load(cfg: LoadConfig, on_progress: Callable[[Progress], None] | None = None) -> dict[str, Any]:
    """Run one load test and return its result (see `report.py` for the fields)."""
    if cfg.procs < 1 or cfg.clients < 1 or cfg.boards < 1:
        raise ValueError("procs, clients and boards must be at least 1")
    cfg.procs = min(cfg.procs, cfg.clients)
    co = _Coordinator(cfg, on_progress)
    chans: list[Channel] = []
    tasks: list[asyncio.Task[None]] = []
    procs: list[multiprocessing.process.BaseProcess] = []
    pipes: list[PipeChannel] = []
    if cfg.procs == 1:
        to_worker: asyncio.Queue[Message] = asyncio.Queue()
        to_coord: asyncio.Queue[Message] = asyncio.Queue()
        chans.append(QueueChannel(to_coord, to_worker))
        tasks.append(asyncio.get_running_loop().create_task(guarded_worker(cfg, QueueChannel(to_worker, to_coord))))
    else:
        ctx = multiprocessing.get_context("spawn")
        for i in range(cfg.procs):
            mine, theirs = ctx.Pipe(duplex=True)
            child = ctx.Process(target=worker_process, args=(asdict(cfg), i, theirs), daemon=True)
            child.start()
            theirs.close()
            procs.append(child)
            pipe = PipeChannel(mine)
            pipes.append(pipe)
            chans.append(pipe)
    sampler = asyncio.get_running_loop().create_task(co.sample_loop())
    notes: list[str] = []
    try:
        hello = await co.gather(chans, "hello", 60)
        if len(hello) < len(chans):
            raise RuntimeError("a load-test worker did not start")
        connect_budget = max(30.0, (cfg.clients + cfg.slow) / 40)
        co.mark("connect")
        for ch in chans:
            ch.send(("connect", connect_budget))
        ready = await co.gather(chans, "ready", connect_budget + 15)
        co.mark("connected")
        failures: Counter[str] = Counter()
        for msg in ready.values():
            if msg[0] == "ready":
                failures.update(msg[3])
        t_start = time.monotonic_ns() + 200_000_000
        t_stop = t_start + int(cfg.duration * 1e9)
        for ch in chans:
            ch.send(("go", t_start, t_stop))
        await asyncio.sleep(max(0.0, (t_start - time.monotonic_ns()) / 1e9))
        co.mark("load")
        sent = await co.gather(chans, "sent", cfg.duration + cfg.drain_timeout + 30)
        co.mark("sent")
        finals: dict[str, int] = {}
        for msg in sent.values():
            if msg[0] == "sent":
                for board, seq in msg[2].items():
                    finals[board] = max(finals.get(board, 0), seq)
            else:
                notes.append("a worker died during the load phase")
        for ch in chans:
            ch.send(("final", finals))
        results = await co.gather(chans, "result", cfg.drain_timeout + 60)
        co.mark("done")
        if len(results) < len(chans) or any(m[0] != "result" for m in results.values()):
            notes.append("a worker did not report its result")
    finally:
        sampler.cancel()
        for t in tasks:
            if not t.done():
                t.cancel()
        for p in pipes:
            p.close()
        for proc in procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
    for t in tasks:
        if t.done() and not t.cancelled() and t.exception() is not None:
            raise t.exception()  # type: ignore[misc]
    return _combine(cfg, co, [m[2] for m in results.values() if m[0] == "result"], failures, notes)


def _combine(
    cfg: LoadConfig, co: _Coordinator, parts: list[dict[str, Any]], failures: Counter[str], notes: list[str]
) -> dict[str, Any]:
    hists = {k: Histogram() for k in ("connect", "ack", "delivery", "cursor")}
    series = {k: Series() for k in ("ack", "delivery")}
    counts: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    closes: Counter[str] = Counter()
    fates: Counter[str] = Counter()
    acked_log: list[tuple[str, int, str]] = []
    gen_cpu = gen_load_cpu = 0.0
    gen_load_frames = 0
    for part in parts:
        for k in hists:
            hists[k].merge(Histogram.from_json(part[k]))
        for k in series:
            series[k].merge(Series.from_json(part[f"{k}_series"]))
        for k in (
            "frames",
            "messages",
            "delivered",
            "recovered",
            "presence",
            "resumes",
            "connected",
            "slow_connected",
            "sent",
            "acked",
            "unacked",
            "ack_errors",
            "skipped_sends",
            "expected",
            "lost",
            "duplicated",
            "out_of_order",
            "aware_frames",
            "aware_entries",
            "aware_bytes",
            "cursor_moves",
            "cursor_skipped",
        ):
            counts[k] += part[k]
        errors.update(part["errors"])
        closes.update(part["closes"])
        fates.update(part["slow_fates"])
        gen_cpu += part["cpu_s"]
        gen_load_cpu += part["load_cpu_s"]
        gen_load_frames += part["load_frames"]
        if part["acked_log"]:
            acked_log.extend(tuple(x) for x in part["acked_log"])
    if len(parts) < cfg.procs:
        errors["worker lost"] += cfg.procs - len(parts)
    connect_failed = cfg.clients + cfg.slow - counts["connected"] - counts["slow_connected"]
    if connect_failed:
        for reason, n in failures.items():
            errors[f"connect failed: {reason}"] += n
    m = co.marks
    connect_s = m["connected"] - m["connect"]
    load_s = m["done"] - m["load"]
    send_s = m["sent"] - m["load"]
    s = co.samples
    server: dict[str, Any] | None = None
    if cfg.server_pid:
        server = _server_figures(s, counts, load_s, co.timeline)
    result: dict[str, Any] = {
        "config": asdict(cfg),
        "ok": False,
        "counts": {
            "clients": cfg.clients,
            "slow": cfg.slow,
            "connected": counts["connected"],
            "connect_failed": connect_failed,
            "sent": counts["sent"],
            "acked": counts["acked"],
            "unacked": counts["unacked"],
            "ack_errors": counts["ack_errors"],
            "skipped_sends": counts["skipped_sends"],
            "expected_deliveries": counts["expected"],
            "delivered": counts["delivered"],
            "recovered": counts["recovered"],
            "lost": counts["lost"],
            "duplicated": counts["duplicated"],
            "out_of_order": counts["out_of_order"],
            "errors": sum(errors.values()),
            "resumes": counts["resumes"],
            "frames": counts["frames"],
            "messages": counts["messages"],
            "presence": counts["presence"],
        },
        "errors": dict(errors.most_common()),
        "closes": dict(closes),
        "slow_fates": dict(fates),
        "timing_s": {"connect": round(connect_s, 3), "send": round(send_s, 3), "load_and_drain": round(load_s, 3)},
        "rates": {
            "connects_per_s": round(counts["connected"] / connect_s, 1) if connect_s > 0 else 0.0,
            "acks_per_s": round(counts["acked"] / send_s, 1) if send_s > 0 else 0.0,
            "deliveries_per_s": round(counts["delivered"] / load_s, 1) if load_s > 0 else 0.0,
        },
        "awareness": cursors.figures(cfg.cursors, counts, send_s),
        "latency_ms": {k: h.summary_ms() for k, h in hists.items()},
        "histograms_ms": {k: h.buckets_ms() for k, h in hists.items()},
        "series_ms": {k: v.rows_ms() for k, v in series.items()},
        "server": server,
        "generator": {
            "procs": cfg.procs,
            "cpu_s": round(gen_cpu, 3),
            "load_cpu_s": round(gen_load_cpu, 3),
            "load_frames": gen_load_frames,
            # Load phase only (connects excluded): the generator's ceiling is about 1e6 / this, frames/s per core.
            "cpu_us_per_frame": round(gen_load_cpu / gen_load_frames * 1e6, 2) if gen_load_frames else None,
        },
        "notes": notes,
    }
    if cfg.record_acks:
        result["acked_log"] = acked_log
    bad = ("lost", "duplicated", "out_of_order", "errors", "unacked", "ack_errors", "connect_failed")
    result["ok"] = not notes and all(result["counts"][k] == 0 for k in bad)
    return result


def _server_figures(
    s: dict[str, ProcSample | None], counts: Counter[str], load_s: float, timeline: list[dict[str, float]]
) -> dict[str, Any] | None:
    first, connected, load, done = s.get("connect"), s.get("connected"), s.get("load"), s.get("done")
    if first is None or connected is None or load is None or done is None:
        return None
    cpu_load = done.cpu_s - load.cpu_s
    cpu_connect = connected.cpu_s - first.cpu_s
    n_conn = counts["connected"] + counts["slow_connected"]
    rss_max = max([int(p["rss_kb"]) for p in timeline] + [done.rss_kb])
    return {
        "cpu_s": {"connect": round(cpu_connect, 3), "load": round(cpu_load, 3), "total": round(done.cpu_s, 3)},
        "cpu_us_per_connect": round(cpu_connect / n_conn * 1e6, 1) if n_conn else None,
        "cpu_us_per_delivery": round(cpu_load / counts["delivered"] * 1e6, 2) if counts["delivered"] else None,
        "cpu_us_per_create": round(cpu_load / counts["acked"] * 1e6, 1) if counts["acked"] else None,
        "cpu_share_during_load": round(cpu_load / load_s, 3) if load_s > 0 else None,
        "rss_kb": {"start": first.rss_kb, "connected": connected.rss_kb, "end": done.rss_kb, "max": rss_max},
        "rss_kb_per_connection": round((connected.rss_kb - first.rss_kb) / n_conn, 2) if n_conn else None,
        "timeline": timeline,
    }
