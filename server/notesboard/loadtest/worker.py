"""A load-test worker: owns its share of the sockets and moves through the coordinator's phases.

With `procs=1` it runs as a task of the coordinator's event loop (`QueueChannel`); otherwise in a spawned
process of its own (`worker_process`, talking over a pipe: `PipeChannel`). See `runner.py` for the phases.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from multiprocessing.connection import Connection
from typing import Any, Protocol

from notesboard.loadtest import cursors, pacing
from notesboard.loadtest.client import ClientKind, LoadClient, Tally
from notesboard.loadtest.config import LoadConfig
from notesboard.runtime.gctune import tune_gc

__all__ = ["Channel", "Message", "PipeChannel", "QueueChannel", "guarded_worker", "run_worker", "worker_process"]

Message = tuple[Any, ...]
SETTLE_S = 0.3  # after every client caught up: time for a late duplicate to show up
PROGRESS_S = 0.5


# -- channels between the coordinator and a worker ---------------------------------------------------------


class Channel(Protocol):
    def send(self, msg: Message) -> None: ...

    async def recv(self, timeout: float) -> Message: ...


class QueueChannel:
    def __init__(self, inbox: asyncio.Queue[Message], outbox: asyncio.Queue[Message]) -> None:
        self._in, self._out = inbox, outbox

    def send(self, msg: Message) -> None:
        self._out.put_nowait(msg)

    async def recv(self, timeout: float) -> Message:
        return await asyncio.wait_for(self._in.get(), timeout)


class PipeChannel:
    """A multiprocessing pipe end, read through the event loop (never blocking it while waiting)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._in: asyncio.Queue[Message] = asyncio.Queue()
        asyncio.get_running_loop().add_reader(conn.fileno(), self._readable)
        # uvloop (libuv) makes a watched fd non-blocking; a pickled message larger than the pipe buffer then
        # arrives in pieces and `recv()`/`send()` fail half-way. Messages are small or sent whole: block.
        os.set_blocking(conn.fileno(), True)

    def _readable(self) -> None:
        try:
            while self._conn.poll():
                self._in.put_nowait(self._conn.recv())
        except (EOFError, OSError):
            asyncio.get_running_loop().remove_reader(self._conn.fileno())
            self._in.put_nowait(("dead",))

    def send(self, msg: Message) -> None:
        try:
            self._conn.send(msg)
        except (BrokenPipeError, OSError):
            pass

    async def recv(self, timeout: float) -> Message:
        return await asyncio.wait_for(self._in.get(), timeout)

    def close(self) -> None:
        try:
            asyncio.get_running_loop().remove_reader(self._conn.fileno())
        except (ValueError, OSError):
            pass
        self._conn.close()


# -- the worker ----------------------------------------------------------------------------------------------


def tally_json(tally: Tally, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "frames": tally.frames,
        "messages": tally.messages,
        "delivered": tally.delivered,
        "recovered": tally.recovered,
        "presence": tally.presence,
        "errors": dict(tally.errors),
        "closes": dict(tally.closes),
        "resumes": tally.resumes,
        "connect": tally.connect.to_json(),
        "ack": tally.ack.to_json(),
        "delivery": tally.delivery.to_json(),
        "cursor": tally.cursor.to_json(),
        "aware_frames": tally.aware_frames,
        "aware_entries": tally.aware_entries,
        "aware_bytes": tally.aware_bytes,
        "cursor_moves": tally.cursor_moves,
        "ack_series": tally.ack_series.to_json(),
        "delivery_series": tally.delivery_series.to_json(),
        "acked_seq": tally.acked_seq,
        "acked_log": tally.acked_log,
        **extra,
    }


GC_THRESHOLD = 200_000  # the collector's pace at the server's default: a third less CPU at 15,000 sockets


async def run_worker(cfg: LoadConfig, index: int, chan: Channel) -> None:
    tally = Tally(acked_log=[] if cfg.record_acks else None)
    clients: list[LoadClient] = []
    n_senders = min(cfg.senders, cfg.clients)
    for i in range(index, cfg.clients, cfg.procs):
        kind = ClientKind.SENDER if i < n_senders else ClientKind.READER
        clients.append(
            LoadClient(
                i, kind, cfg.url, cfg.board(i), tally, run_id=cfg.run_id, payload=cfg.payload, source=cfg.source(i)
            )
        )
    slow = [
        LoadClient(cfg.clients + j, ClientKind.SLOW, cfg.url, cfg.board(j), tally, source=cfg.source(cfg.clients + j))
        for j in range(index, cfg.slow, cfg.procs)
    ]
    everyone = sorted(clients + slow, key=lambda c: cfg.join_rank(c.index))
    cpu0 = time.process_time()
    chan.send(("hello", index))

    sending = [c for c in clients if c.kind is ClientKind.SENDER]
    opened = [0]  # sockets connected (a client, once connected, stays counted, as `c.connected` does)

    async def progress(phase: str) -> None:
        # Every half second: sums over the senders only and a running count of the connected (summing over
        # 16,000 clients twice a second was an eighth of a generator process at 100,000 sockets).
        while True:
            sent = sum(c.acks.sent for c in sending)
            acked = sum(c.acks.acked for c in sending)
            connected = opened[0]
            errors = sum(tally.errors.values())
            chan.send(("progress", index, phase, connected, sent, acked, tally.delivered, errors, tally.resumes))
            await asyncio.sleep(PROGRESS_S)

    msg = await chan.recv(600)
    if msg[0] != "connect":
        return
    reporter = asyncio.get_running_loop().create_task(progress("connect"))
    gate = asyncio.Semaphore(max(1, cfg.connect_concurrency // cfg.procs))

    async def open_one(c: LoadClient) -> None:
        async with gate:
            if await c.connect(cfg.connect_timeout):
                opened[0] += 1
                c.start_reading()

    try:
        await asyncio.wait_for(asyncio.gather(*(open_one(c) for c in everyone)), float(msg[1]))
    except TimeoutError:
        pass
    failures = Counter(c.failed or "not connected" for c in everyone if not c.connected)
    chan.send(("ready", index, sum(c.connected for c in everyone), dict(failures)))

    msg = await chan.recv(600)
    reporter.cancel()
    skipped = 0
    cpu_go, frames_go = time.process_time(), tally.frames
    if msg[0] == "go":
        t_start, t_stop = int(msg[1]), int(msg[2])
        reporter = asyncio.get_running_loop().create_task(progress("load"))
        for c in everyone:
            c.t_start_ns = t_start
        delay = (t_start - time.monotonic_ns()) / 1e9
        if delay > 0:
            await asyncio.sleep(delay)
        senders = [c for c in clients if c.kind is ClientKind.SENDER and c.connected]
        movers = [c for c in clients if c.connected] if cfg.cursors > 0 else []
        results = await asyncio.gather(
            *(
                pacing.send_loop(c, cfg.rate, cfg.window, t_start, t_stop, (c.index / max(n_senders, 1)) % 1.0)
                for c in senders
            ),
            *(cursors.cursor_loop(c, cfg.cursors, t_start, t_stop, (c.index / cfg.clients) % 1.0) for c in movers),
        )
        skipped = sum(results[: len(senders)])
        cursor_skipped = sum(results[len(senders) :])
        await asyncio.sleep(max(0.0, (t_stop - time.monotonic_ns()) / 1e9))  # workers without senders too
        ack_deadline = time.monotonic_ns() + int(cfg.drain_timeout * 1e9)
        await asyncio.gather(*(pacing.wait_acks(c, ack_deadline) for c in senders))
        chan.send(("sent", index, dict(tally.acked_seq)))
        msg = await chan.recv(cfg.drain_timeout + 60)
        finals: dict[str, int] = msg[1] if msg[0] == "final" else {}
        # Every client must reach its board's final seq (bounded), then a short settle for late duplicates.
        deadline = time.monotonic() + cfg.drain_timeout
        while time.monotonic() < deadline:
            behind = [
                c
                for c in clients
                if c.connected and not c.failed and c.checker.last < finals.get(c.board, c.checker.last)
            ]
            if not behind:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(SETTLE_S)
        reporter.cancel()
    else:
        finals = {}
        cursor_skipped = 0
    cpu_load, frames_load = time.process_time() - cpu_go, tally.frames - frames_go

    fates = Counter(await asyncio.gather(*(c.drain_slow(min(cfg.drain_timeout, 5.0)) for c in slow)))
    for c in clients:
        c.finished = True
    await asyncio.gather(*(c.close() for c in everyone))

    lost = duplicated = out_of_order = expected = unacked = ack_errors = sent = 0
    for c in clients:
        if not c.connected:
            continue
        final = finals.get(c.board, c.checker.last)
        expected += max(final - c.checker.start, 0)
        lost += c.checker.lost(final)
        duplicated += c.checker.duplicates
        out_of_order += c.checker.out_of_order
        sent += c.acks.sent
        unacked += c.acks.outstanding
        ack_errors += c.acks.failed
    tally.errors["duplicate acks"] += sum(c.acks.duplicate_acks for c in clients)
    tally.errors = +tally.errors  # drop zero counts
    extra = {
        "connected": sum(c.connected for c in clients),
        "slow_connected": sum(c.connected for c in slow),
        "sent": sent,
        "acked": sum(c.acks.acked for c in clients),
        "unacked": unacked,
        "ack_errors": ack_errors,
        "skipped_sends": skipped,
        "cursor_skipped": cursor_skipped,
        "expected": expected,
        "lost": lost,
        "duplicated": duplicated,
        "out_of_order": out_of_order,
        "slow_fates": dict(fates),
        "cpu_s": time.process_time() - cpu0,
        "load_cpu_s": cpu_load,
        "load_frames": frames_load,
    }
    chan.send(("result", index, tally_json(tally, extra)))


async def guarded_worker(cfg: LoadConfig, chan: QueueChannel) -> None:
    """The in-process worker: if it fails, tell the coordinator at once instead of letting it wait."""
    try:
        await run_worker(cfg, 0, chan)
    except BaseException:
        chan.send(("dead",))
        raise


def worker_process(cfg_dict: dict[str, Any], index: int, conn: Connection) -> None:
    """Entry point of a worker process (spawned): its own event loop, uvloop when installed, and the collector's
    pace of a process holding many sockets (set per process: never by `run_worker`, which tests call in theirs)."""
    tune_gc(GC_THRESHOLD)
    cfg = LoadConfig(**cfg_dict)

    async def main() -> None:
        chan = PipeChannel(conn)
        try:
            await run_worker(cfg, index, chan)
        finally:
            chan.close()

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
