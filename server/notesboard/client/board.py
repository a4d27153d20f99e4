"""The public client (issue #12): `async with connect(url, board) as b: note = await b.create("hi")`.

A `Board` keeps one socket open for as long as the `async with` lasts and reconnects by itself (jittered
backoff, resuming with since + epoch, so no change is missed or applied twice). `create`, `update` and
`delete` return the note once the server has acknowledged the change, or raise the error's `NotesError`
subclass (`Conflict`, `NotFound`, `Forbidden`, `RateLimited`, `Unavailable`). While the socket is down,
changes wait in a bounded queue and are sent again, with the same `client_id`, after the reconnect: the
server answers a repeat with the original ack, so each call resolves exactly once and each change is made
once. `notes` is the board as this client knows it; `events()` yields every change in seq order.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator
from typing import Any

import websockets

from notesboard.client.backoff import Backoff
from notesboard.client.connection import Connection
from notesboard.client.errors import Forbidden, NotesError, Unavailable, error_from_frame
from notesboard.client.frames import encode
from notesboard.client.stream import ProtocolError, SeqTracker, SnapshotKind, Verdict

__all__ = ["Board", "connect"]

Note = dict[str, Any]
GIVE_UP_CODES = frozenset({1008})  # policy (auth): reconnecting cannot help


class Board:
    """One board, live. Create it with `connect()`."""

    def __init__(self, url: str, board: str, *, name: str | None, token: str | None, max_queue: int) -> None:
        self.url = url
        self.board = board
        self.name = name
        self.token = token
        self.max_queue = max_queue
        self.notes: dict[int, Note] = {}  # live notes by id
        self.tracker = SeqTracker()
        self.connected = asyncio.Event()
        self._conn: Connection | None = None
        self._pending: dict[str, tuple[str, asyncio.Future[Note]]] = {}  # client_id -> (frame, its future)
        self._events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._ids = (f"{uuid.uuid4().hex[:12]}-{i}" for i in itertools.count(1))
        self._failed: NotesError | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def seq(self) -> int:
        return self.tracker.seq

    @property
    def epoch(self) -> str | None:
        return self.tracker.epoch

    # -- changes ------------------------------------------------------------------------------------------

    async def create(self, text: str, **fields: Any) -> Note:
        """A new note (fields: color, x, y...); the stored note once acknowledged."""
        return await self._change({"type": "create", "text": text, **fields})

    async def update(self, note_id: int, *, version: int | None = None, **fields: Any) -> Note:
        """Change some fields; with `version`, Conflict if someone else changed the note first."""
        frame = {"type": "update", "id": note_id, **fields}
        if version is not None:
            frame["version"] = version
        return await self._change(frame)

    async def delete(self, note_id: int, *, version: int | None = None) -> Note:
        """Delete (the tombstone is returned); with `version`, Conflict if the note changed meanwhile."""
        frame: dict[str, Any] = {"type": "delete", "id": note_id}
        if version is not None:
            frame["version"] = version
        return await self._change(frame)

    async def _change(self, frame: dict[str, Any]) -> Note:
        if self._failed is not None:
            raise self._failed
        if len(self._pending) >= self.max_queue:
            raise Unavailable(f"{len(self._pending)} changes are waiting for the server already", code="unavailable")
        cid = next(self._ids)
        raw = encode({**frame, "client_id": cid})
        future: asyncio.Future[Note] = asyncio.get_running_loop().create_future()
        self._pending[cid] = (raw, future)
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(websockets.ConnectionClosed):
                await conn.send(raw)  # if the socket just went down, the reconnect sends it again
        return await future

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Every change (event frames), in seq order, from now until the board is closed."""
        while True:
            yield await self._events.get()

    # -- the socket ---------------------------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = Backoff(0.1, 5.0)
        while True:
            try:
                conn = await Connection.open(
                    self.url, self.board, tracker=self.tracker, name=self.name, token=self.token, batch=1
                )
            except (OSError, TimeoutError, websockets.WebSocketException, ProtocolError) as exc:
                if isinstance(exc, websockets.InvalidStatus) and exc.response.status_code in (401, 403):
                    self._fail(Forbidden(f"the server refused the socket ({exc.response.status_code})"))
                    return
                await asyncio.sleep(backoff.next())
                continue
            backoff.reset()
            try:
                await self._serve(conn)
            except websockets.ConnectionClosed as exc:
                if exc.rcvd is not None and exc.rcvd.code in GIVE_UP_CODES:
                    self._fail(Forbidden(exc.rcvd.reason or "closed by policy"))
                    return
            except (OSError, TimeoutError):
                pass
            finally:
                self._conn = None
                self.connected.clear()
                await conn.close()

    async def _serve(self, conn: Connection) -> None:
        self._apply_snapshot(conn)
        self._conn = conn
        for raw, _ in list(self._pending.values()):  # unacknowledged: again, with the same client_id
            await conn.send(raw)
        self.connected.set()
        checked = 0
        while True:
            frame = await conn.recv(timeout=3600)
            kind = frame.get("type")
            if kind == "event":
                _, verdict = conn.verdicts[checked]
                checked += 1
                if verdict is Verdict.GAP:
                    return  # resume: the snapshot brings what was missed
                if verdict is Verdict.NEXT:
                    self._apply(frame["note"])
                    self._events.put_nowait(frame)
            elif kind in ("ack", "error"):
                entry = self._pending.pop(str(frame.get("client_id")), None)
                if entry is None or entry[1].done():
                    continue
                if kind == "ack":
                    self._apply(frame["note"])
                    entry[1].set_result(frame["note"])
                else:
                    entry[1].set_exception(error_from_frame(frame))

    def _apply_snapshot(self, conn: Connection) -> None:
        if conn.snapshot_kind is not SnapshotKind.RESUMED:
            self.notes.clear()
        for note in conn.snapshot["notes"]:
            self._apply(note)

    def _apply(self, note: Note) -> None:
        known = self.notes.get(note["id"])
        if known is not None and known["seq"] > note["seq"]:
            return  # an ack that arrived after a later event of the same note
        if note.get("deleted"):
            self.notes.pop(note["id"], None)
        else:
            self.notes[note["id"]] = note

    def _fail(self, error: NotesError) -> None:
        self._failed = error
        for _, future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()

    async def _start(self, timeout: float) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())
        waiting = asyncio.ensure_future(self.connected.wait())
        await asyncio.wait({waiting, self._task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if not waiting.done():
            waiting.cancel()
            await self._stop()
            raise self._failed or Unavailable(f"could not connect to {self.url} in {timeout} s")

    async def _stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._fail(Unavailable("the board was closed"))


@contextlib.asynccontextmanager
async def connect(
    url: str,
    board: str,
    *,
    name: str | None = None,
    token: str | None = None,
    max_queue: int = 1000,
    connect_timeout: float = 10.0,
) -> AsyncIterator[Board]:
    """A live `Board` for the `async with` block (connected, with its snapshot, when the block starts)."""
    b = Board(url, board, name=name, token=token, max_queue=max_queue)
    await b._start(connect_timeout)
    try:
        yield b
    finally:
        await b._stop()
