"""One load-test socket: connect and read the snapshot, then account for every frame it receives.

A `LoadClient` records every event of its board in a `StreamChecker` and the delivery latency (the send time
travels at the start of the note's text). A sender is a `LoadClient` that also creates notes, at a fixed
rate or as fast as its window of unacknowledged creates allows. Closed with 1013 (or 1001/1012), a client
reconnects with `since` + `epoch`, checks the replayed notes, and a sender sends its unacknowledged creates
again with the same `client_id` (the server answers a repeat with the original ack).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from typing import Any

from websockets.exceptions import ConnectionClosed, WebSocketException

from notesboard.client.backoff import Backoff
from notesboard.client.frames import decode
from notesboard.client.stream import ProtocolError, SeqTracker, SnapshotKind
from notesboard.client.urls import ws_url
from notesboard.loadtest import cursors, pacing
from notesboard.loadtest.accounting import AckTracker, StreamChecker, Verdict
from notesboard.loadtest.dial import dial, server_address
from notesboard.loadtest.tally import ClientKind, Tally, describe
from notesboard.loadtest.wire import LeanSocket, open_socket

__all__ = ["ClientKind", "LoadClient", "Tally"]

RESUME_CODES = frozenset({1001, 1012, 1013})
MAX_RESUMES = 20
Frame = dict[str, Any]


class LoadClient:
    def __init__(
        self,
        index: int,
        kind: ClientKind,
        base_url: str,
        board: str,
        tally: Tally,
        *,
        run_id: str = "",
        payload: int = 0,
        source: str | None = None,
    ) -> None:
        self.index = index
        self.source = source  # the local address to connect from (LoadConfig.source)
        self.kind = kind
        self.base_url = base_url
        self.address = server_address(base_url)
        self.board = board
        self.tally = tally
        self.ws: LeanSocket | None = None
        self.checker = StreamChecker(0)
        self.tracker = SeqTracker()  # the snapshot half of the contract: epoch, resume query, reset
        self.connected = False
        self.finished = False  # the run is over: closes are ours
        self.failed: str | None = None  # why the client gave up (connect failure, resume refused...)
        self.close_code: int | None = None
        self.t_start_ns = 0  # the load phase's start (for per-second series)
        self.reader: asyncio.Task[None] | None = None
        # Sender state.
        self.acks = AckTracker()
        self._pending_text: dict[str, str] = {}  # client_id -> frame, resent after a resume
        self.window_open = asyncio.Event()
        self._seq = 0
        self._cid_prefix = f"{run_id}.{index}."
        self._pad = max(payload, 0)
        self._cursors: dict[str, float] = {}  # peer -> the last cursor x seen (cursors.seen)

    # -- connecting ---------------------------------------------------------------------------------------

    async def connect(self, timeout: float) -> bool:
        """Open the socket and read the snapshot; records connect+snapshot time. False on failure."""
        t0 = time.monotonic_ns()
        try:
            rest = await asyncio.wait_for(self._open(resume=False), timeout)
        except (TimeoutError, OSError, WebSocketException, ValueError) as exc:
            self.failed = describe(exc)
            return False
        self.tally.connect.record((time.monotonic_ns() - t0) // 1000)
        self.connected = True
        if self.kind is not ClientKind.SLOW:
            now = time.monotonic_ns()
            for f in rest:
                self._frame(f, now)
        return True

    async def _open(self, *, resume: bool) -> list[Frame]:
        """Connect and take the snapshot (the shared `SeqTracker` says what it is: fresh, resumed or reset);
        returns the frames that came in the same message after it."""
        tracker = self.tracker
        tracker.seq = self.checker.last  # the checker follows the events; the tracker only the snapshots
        asked = tracker.resume_query() if resume else {}
        max_queue = 16 if self.kind is ClientKind.SLOW else 256
        ws = await open_socket(
            ws_url(self.base_url, self.board, **asked, batch=1),
            sock=await self._dial(),
            max_queue=max_queue,
        )
        self.ws = ws
        frames = decode(await ws.recv())
        snap = frames[0]
        try:
            kind = tracker.snapshot(snap, asked)
        except ProtocolError as exc:
            first = snap.get("type") == "snapshot"
            self.tally.errors["resume snapshot out of order" if first else "first frame not a snapshot"] += 1
            raise ValueError(str(exc)) from exc
        seq = int(snap["seq"])
        if kind is SnapshotKind.FRESH:
            self.checker = StreamChecker(seq)
        elif kind is SnapshotKind.RESET:
            self.tally.errors["resume reset"] += 1
            self.checker.rebase(seq)
        else:
            self.tally.recovered += self.checker.resumed(tracker.missed, seq)
        return frames[1:]

    async def _dial(self) -> socket.socket | None:
        """A socket from the source address (made by `dial.dial`, which leaves the port to connect()), when
        one is set; else None (the system's choice)."""
        return None if self.source is None else await dial(self.source, self.address)

    # -- reading ------------------------------------------------------------------------------------------

    def start_reading(self) -> None:
        if self.kind is not ClientKind.SLOW and self.ws is not None:
            self.reader = asyncio.get_running_loop().create_task(self._read_loop())

    async def _read_loop(self) -> None:
        resumes = 0
        while True:
            ws = self.ws
            assert ws is not None
            tally = self.tally
            frame = self._frame
            try:
                async for message in ws:
                    now = time.monotonic_ns()
                    tally.messages += 1
                    if isinstance(message, bytes):
                        tally.errors["binary message"] += 1
                        continue
                    if message.startswith(cursors.AWARE_PREFIX) and "\n" not in message:
                        tally.frames += 1
                        cursors.seen_raw(tally, message, now, self._cursors)
                        continue
                    for f in decode(message):
                        frame(f, now)
            except ConnectionClosed:
                pass
            except (ValueError, KeyError, TypeError, AttributeError) as exc:  # not JSON, or not frame-shaped
                tally.errors[f"malformed frame ({type(exc).__name__})"] += 1
                await ws.close()
            code = ws.close_code
            self.close_code = code
            if self.finished:
                return
            tally.closes[str(code)] += 1
            if code not in RESUME_CODES:
                tally.errors[f"closed by server ({code})"] += 1
                self.failed = f"closed {code}"
                return
            if resumes >= MAX_RESUMES:
                tally.errors["too many resumes"] += 1
                self.failed = "too many resumes"
                return
            resumes += 1
            tally.resumes += 1
            if not await self._resume():
                return

    async def _resume(self) -> bool:
        backoff = Backoff(base=0.05, cap=1.0)
        for _ in range(10):
            if self.finished:
                return False
            try:
                rest = await asyncio.wait_for(self._open(resume=True), 10)
            except (TimeoutError, OSError, WebSocketException, ValueError) as exc:
                self.failed = describe(exc)
                await asyncio.sleep(backoff.next())
                continue
            now = time.monotonic_ns()
            for f in rest:
                self._frame(f, now)
            await self._resend_pending()
            self.failed = None
            return True
        self.tally.errors["resume failed"] += 1
        return False

    def _frame(self, f: dict[str, Any], now: int) -> None:
        tally = self.tally
        tally.frames += 1
        kind = f.get("type")
        if kind == "event":
            seq = f["seq"]
            note = f["note"]
            if note["seq"] != seq:
                tally.errors["event.seq != note.seq"] += 1
            if note["board"] != self.board:
                tally.errors["event from another board"] += 1
            if self.checker.feed(seq) is Verdict.DUPLICATE:
                return
            tally.delivered += 1
            text = note["text"]
            space = text.find(" ")
            if space > 0 and text[:space].isdigit():
                us = (now - int(text[:space])) // 1000
                tally.delivery.record(us)
                tally.delivery_series.record((now - self.t_start_ns) // 1_000_000_000, us)
        elif kind == "ack":
            self._ack(f, now)
        elif kind == "presence":
            tally.presence += 1
        elif kind == "error":
            cid = f.get("client_id")
            if self.acks.error(cid):
                self._pending_text.pop(str(cid), None)
                self.window_open.set()
            tally.errors[f"error frame: {f.get('code')}"] += 1
        elif kind == "awareness":
            cursors.seen(tally, f, now, self._cursors)
        elif kind == "pong":
            pass
        else:
            tally.errors[f"unexpected frame type {kind!r}"] += 1

    def _ack(self, f: dict[str, Any], now: int) -> None:
        tally = self.tally
        cid = f.get("client_id")
        t_sent = self.acks.ack(cid)
        if t_sent is None:
            tally.errors["ack not matching a waiting create"] += 1
            return
        self._pending_text.pop(cid, None)  # type: ignore[arg-type]
        self.window_open.set()
        seq = f["seq"]
        note = f["note"]
        if note["board"] != self.board:
            tally.errors["ack from another board"] += 1
        if seq > tally.acked_seq.get(self.board, 0):
            tally.acked_seq[self.board] = seq
        us = (now - t_sent) // 1000
        tally.ack.record(us)
        tally.ack_series.record((now - self.t_start_ns) // 1_000_000_000, us)
        if tally.acked_log is not None:
            tally.acked_log.append((self.board, seq, str(cid)))

    # -- sending ------------------------------------------------------------------------------------------

    async def send_one(self) -> bool:
        ws = self.ws
        if ws is None or self.failed:
            return False
        now = time.monotonic_ns()
        self._seq += 1
        cid = f"{self._cid_prefix}{self._seq}"
        frame = pacing.create_frame(cid, now, self._pad)
        self.acks.sent_one(cid, now)
        self._pending_text[cid] = frame
        try:
            await ws.send(frame)
        except ConnectionClosed:
            pass  # the reader resumes and resends what is pending
        return True

    async def send_text(self, frame: str) -> bool:
        """One frame that needs no ack (a cursor move); False if the socket is down."""
        ws = self.ws
        if ws is None or self.failed:
            return False
        try:
            await ws.send(frame)
        except ConnectionClosed:
            return False
        self.tally.cursor_moves += 1
        return True

    async def _resend_pending(self) -> None:
        ws = self.ws
        if ws is None:
            return
        for frame in list(self._pending_text.values()):
            try:
                await ws.send(frame)
            except ConnectionClosed:
                return

    # -- the end ------------------------------------------------------------------------------------------

    async def close(self) -> None:
        self.finished = True
        ws = self.ws
        if ws is not None:
            try:
                await asyncio.wait_for(ws.close(), 3)
            except (TimeoutError, OSError, WebSocketException):
                pass
        if self.reader is not None and not self.reader.done():
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader

    async def drain_slow(self, timeout: float) -> str:
        """A slow client reads what is waiting until the server's close (or the timeout): its fate."""
        ws = self.ws
        if ws is None:
            return "never connected"
        try:
            async with asyncio.timeout(timeout):
                async for _ in ws:
                    pass
        except TimeoutError:
            return "still open"
        except ConnectionClosed:
            pass
        code = ws.close_code
        return f"closed {code}"
