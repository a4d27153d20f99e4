"""The public client (issue #12): `async with connect(url, board) as b: note = await b.create("hi")`.

A `Board` keeps one socket open for as long as the `async with` lasts and reconnects by itself (jittered
backoff, resuming with since + epoch, so no change is missed or applied twice). `create`, `update` and
`delete` return the note once the server has acknowledged the change, or raise the error's `NotesError`
subclass (`Conflict`, `NotFound`, `Forbidden`, `RateLimited`, `Unavailable`, and `Timeout` when no ack
comes in time). While the socket is down, changes wait in a bounded queue and are sent again, with the same
`client_id`, after the reconnect: the server answers a repeat with the original ack, so each call resolves
exactly once and each change is made once. `notes` is the board as this client knows it; `events()` yields
every change in seq order, and a `reset` when the server lost the board's history (a new database).

A refusal at the handshake that cannot change by waiting (400 bad board or query, 401/403 token or Origin)
raises at once from `connect()` with the server's reason; a transient one (503, 429, refused or cut
connections, closes 1001/1011/1013) is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator
from typing import Any

import websockets

from notesboard.client.awareness import UNSET, Peer, apply_awareness, awareness_frame
from notesboard.client.backoff import Backoff
from notesboard.client.connection import Connection
from notesboard.client.errors import (
    Forbidden,
    NotesError,
    Timeout,
    TooLarge,
    Unavailable,
    error_from_frame,
    error_from_response,
    gives_up,
    is_permanent,
)
from notesboard.client.frames import encode
from notesboard.client.rest import AsyncRest
from notesboard.client.stream import ProtocolError, SeqTracker, SnapshotKind, Verdict, event_op
from notesboard.client.urls import ws_url
from notesboard.client.votes import VoteState
from notesboard.client.ytext import TextEditor

__all__ = ["Board", "connect", "is_permanent"]

Note = dict[str, Any]
Item = dict[str, Any] | NotesError | None  # what events() hands on: a frame, a failure, or the end
CLOSE_TOO_BIG = 1009  # a frame over the server's limit: that change fails, the connection is made again


class Board:
    """One board, live. Create it with `connect()`."""

    def __init__(
        self,
        url: str,
        board: str,
        *,
        name: str | None,
        token: str | None,
        max_queue: int,
        ack_timeout: float | None = 30.0,
        voter: str | None = None,
    ) -> None:
        self.url = url
        self.board = board
        self.name = name
        self.token = token
        self.max_queue = max_queue
        self.ack_timeout = ack_timeout
        self.notes: dict[int, Note] = {}  # live notes by id
        self.session: dict[str, Any] | None = None  # the board session, from the snapshot and `session` frames
        self.voter = voter or uuid.uuid4().hex  # the socket's key=: whose votes this client casts (auth without sub)
        self.votes = VoteState()  # your votes, votes left, and the totals when they may be seen
        self.tracker = SeqTracker()
        self.connected = asyncio.Event()
        self.awareness: dict[str, Peer] = {}  # the other peers as the server reports them (client/awareness.py)
        self.resets = 0  # how often a reset snapshot replaced `notes` (the server lost the board's history)
        self._conn: Connection | None = None
        self._pending: dict[str, tuple[str, asyncio.Future[dict[str, Any]]]] = {}  # client_id -> (frame, its future)
        self._events: asyncio.Queue[Item] = asyncio.Queue()
        self._ids = (f"{uuid.uuid4().hex[:12]}-{i}" for i in itertools.count(1))
        self._failed: NotesError | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def seq(self) -> int:
        return self.tracker.seq

    @property
    def epoch(self) -> str | None:
        return self.tracker.epoch

    async def edit_text(self, note_id: int, client_id: int | None = None) -> TextEditor:
        """The note's text as a pycrdt `Text` (`.text`) bound to the server (`/y/{board}/{id}`), synced: local
        edits are sent, others' arrive. Close it with `await editor.disconnect()` (or `async with`)."""
        return await TextEditor.open(self.url, self.board, note_id, client_id, name=self.name, token=self.token)

    # -- changes ------------------------------------------------------------------------------------------

    async def create(
        self, text: str, *, client_id: str | None = None, timeout: float | None = None, **fields: Any
    ) -> Note:
        """A new note (fields: color, x, y...); the stored note once acknowledged. Give `client_id` to retry a
        create that raised `Timeout` without risking a second note."""
        return await self._change({"type": "create", "text": text, **fields}, client_id, timeout)

    async def update(
        self, note_id: int, *, version: int | None = None, timeout: float | None = None, **fields: Any
    ) -> Note:
        """Change some fields; with `version`, Conflict if someone else changed the note first."""
        frame = {"type": "update", "id": note_id, **fields}
        if version is not None:
            frame["version"] = version
        return await self._change(frame, None, timeout)

    async def delete(self, note_id: int, *, version: int | None = None, timeout: float | None = None) -> Note:
        """Delete (the tombstone is returned); with `version`, Conflict if the note changed meanwhile."""
        frame: dict[str, Any] = {"type": "delete", "id": note_id}
        if version is not None:
            frame["version"] = version
        return await self._change(frame, None, timeout)

    async def vote(
        self, note_id: int, delta: int = 1, *, client_id: str | None = None, timeout: float | None = None
    ) -> dict[str, Any]:
        """Give one of your votes to a note (delta 1) or take one back (-1) while the board's vote is open; the
        answer is `{"id", "delta", "mine", "left", "votes"?}` (`votes`, the note's total, unless hidden).
        Forbidden past your budget, NotFound when no vote is open."""
        frame = {"type": "vote", "id": note_id, "delta": delta}
        return await self._change(frame, client_id, timeout)

    async def set_session(self, *, version: int | object | None = UNSET, **fields: Any) -> dict[str, Any]:
        """Change the board session (`vote`, `writing`, `timer`; fields not given keep their value) over REST;
        needs a facilitate token when auth is on. Based on the session this client last saw: Conflict if
        someone changed it since (pass `version=None` to replace whatever it is). Returns the new session."""
        current = self.session or {"vote": None, "writing": "open", "timer": None, "version": 0}
        unknown = set(fields) - {"vote", "writing", "timer"}
        if unknown:
            raise TypeError(f"set_session() got unexpected fields {sorted(unknown)}")
        body = {k: current[k] for k in ("vote", "writing", "timer")} | fields
        body["version"] = current["version"] if version is UNSET else version
        async with AsyncRest(self.url, token=self.token) as api:
            session = await api.set_session(self.board, body)
        return session

    async def aware(
        self, *, cursor: Any = UNSET, editing: Any = UNSET, selected: Any = UNSET, view: Any = UNSET
    ) -> None:
        """Tell the others where this client points, what it edits, selects and sees; a field not given keeps
        its value, None clears it. Not acknowledged, not queued while the socket is down (stale by then)."""
        frame = awareness_frame(cursor, editing, selected, view)
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(websockets.ConnectionClosed):
                await conn.send(frame)

    async def _change(self, frame: dict[str, Any], client_id: str | None, timeout: float | None) -> dict[str, Any]:
        if self._failed is not None:
            raise self._failed
        if len(self._pending) >= self.max_queue:
            raise Unavailable(f"{len(self._pending)} changes are waiting for the server already", code="unavailable")
        cid = client_id or next(self._ids)
        if cid in self._pending:
            raise ValueError(f"client_id {cid!r} is already waiting for its ack")
        raw = encode({**frame, "client_id": cid})
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[cid] = (raw, future)
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(websockets.ConnectionClosed):
                await conn.send(raw)  # if the socket just went down, the reconnect sends it again
        limit = self.ack_timeout if timeout is None else timeout
        done, _ = await asyncio.wait({future}, timeout=limit)
        if not done:
            self._pending.pop(cid, None)  # not sent again: the caller decides (retry with this client_id)
            raise Timeout(f"no answer to {frame['type']} in {limit} s (it may still be made)", client_id=cid)
        return future.result()

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Every change, in seq order, until the board is closed (raises if it failed for good).

        Items are `event` frames (`{"type": "event", "op", "seq", "note"}`; those a resume brought carry
        `"resumed": true`, one per note, its latest change) and, when the server lost the board's history,
        `{"type": "reset", "epoch", "seq", "notes"}`: `notes` was replaced by that snapshot.
        """
        while True:
            item = await self._events.get()
            if item is None:
                return
            if isinstance(item, NotesError):
                raise item
            yield item

    # -- the socket ---------------------------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = Backoff(0.1, 5.0)
        while True:
            try:
                conn = await Connection.open(
                    self.url,
                    self.board,
                    tracker=self.tracker,
                    name=self.name,
                    token=self.token,
                    batch=1,
                    key=self.voter,
                )
            except websockets.InvalidStatus as exc:
                if is_permanent(exc.response.status_code):
                    self._fail(error_from_response(exc.response.status_code, bytes(exc.response.body or b"")))
                    return
                await asyncio.sleep(backoff.next())
                continue
            except websockets.ConnectionClosed as exc:  # refused with a close instead of an HTTP status
                if exc.rcvd is not None and gives_up(exc.rcvd.code):
                    self._fail(Forbidden(exc.rcvd.reason or "closed by policy"))
                    return
                await asyncio.sleep(backoff.next())
                continue
            except (OSError, TimeoutError, websockets.WebSocketException, ProtocolError):
                await asyncio.sleep(backoff.next())
                continue
            backoff.reset()
            try:
                await self._serve(conn)
            except websockets.ConnectionClosed as exc:
                if exc.rcvd is not None and gives_up(exc.rcvd.code):
                    self._fail(Forbidden(exc.rcvd.reason or "closed by policy"))
                    return
                if exc.rcvd is not None and exc.rcvd.code == CLOSE_TOO_BIG:
                    self._refuse_largest()
            except (OSError, TimeoutError):
                pass
            finally:
                self._conn = None
                self.connected.clear()
                await conn.close()

    async def _serve(self, conn: Connection) -> None:
        self._apply_snapshot(conn)
        self.awareness.clear()  # the full awareness frame follows the snapshot
        self._conn = conn
        for raw, _ in list(self._pending.values()):  # unacknowledged: again, with the same client_id
            await conn.send(raw)
        self.connected.set()
        checked = 0
        while True:
            frame = await conn.recv(timeout=3600)
            kind = frame.get("type")
            if kind in ("event", "session", "vote"):
                _, verdict = conn.verdicts[checked]
                checked += 1
                if verdict is Verdict.GAP:
                    return  # resume: the snapshot brings what was missed
                if verdict is Verdict.NEXT and kind == "session":
                    self.session = frame["session"]
                    self.votes.session(frame)
                elif verdict is Verdict.NEXT and kind == "vote":
                    self.votes.vote(frame)
                elif verdict is Verdict.NEXT:
                    self._apply(frame["note"])
                    self._events.put_nowait(frame)
            elif kind == "awareness":
                apply_awareness(self.awareness, frame)
            elif kind in ("ack", "error"):
                entry = self._pending.pop(str(frame.get("client_id")), None)
                if entry is None or entry[1].done():
                    continue
                if kind == "ack" and "vote" in frame:
                    entry[1].set_result(frame["vote"])
                elif kind == "ack":
                    self._apply(frame["note"])
                    entry[1].set_result(frame["note"])
                else:
                    entry[1].set_exception(error_from_frame(frame))

    def _refuse_largest(self) -> None:
        """Closed 1009: the largest change waiting is the frame the server would not take; sending it again
        would only repeat the close, so it fails with TooLarge and the others are resent."""
        cid = max(self._pending, key=lambda c: len(self._pending[c][0]), default=None)
        if cid is not None and not (future := self._pending.pop(cid)[1]).done():
            future.set_exception(TooLarge("the change is larger than the server accepts (closed 1009)", client_id=cid))

    def _apply_snapshot(self, conn: Connection) -> None:
        kind, snapshot = conn.snapshot_kind, conn.snapshot
        self.session = snapshot.get("session")
        self.votes.snapshot(snapshot.get("votes"))
        if kind is not SnapshotKind.RESUMED:
            self.notes.clear()
        for note in snapshot["notes"]:
            self._apply(note)
            if kind is SnapshotKind.RESUMED:  # changes made while this client was away, in seq order
                event = {"type": "event", "op": event_op(note), "seq": note["seq"], "note": note, "resumed": True}
                self._events.put_nowait(event)
        if kind is SnapshotKind.RESET:
            self.resets += 1
            notes = list(self.notes.values())
            self._events.put_nowait(
                {"type": "reset", "epoch": snapshot["epoch"], "seq": snapshot["seq"], "notes": notes}
            )

    def _apply(self, note: Note) -> None:
        known = self.notes.get(note["id"])
        if known is not None and known["seq"] > note["seq"]:
            return  # an ack that arrived after a later event of the same note
        if note.get("deleted"):
            self.notes.pop(note["id"], None)
        else:
            self.notes[note["id"]] = note

    def _fail(self, error: NotesError) -> None:
        """For good (a permanent refusal): every waiting change and the events() reader get the error."""
        self._failed = error
        self._reject_pending(error)
        self._events.put_nowait(error)

    def _reject_pending(self, error: NotesError) -> None:
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
            failed = self._failed
            await self._stop()
            raise failed or Unavailable(f"could not connect to {self.url} in {timeout} s")

    async def _stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._failed = self._failed or Unavailable("the board was closed")
        self._reject_pending(self._failed)
        self._events.put_nowait(None)  # events() ends


@contextlib.asynccontextmanager
async def connect(
    url: str,
    board: str,
    *,
    name: str | None = None,
    token: str | None = None,
    max_queue: int = 1000,
    connect_timeout: float = 10.0,
    ack_timeout: float | None = 30.0,
    voter: str | None = None,
) -> AsyncIterator[Board]:
    """A live `Board` for the `async with` block (connected, with its snapshot, when the block starts).

    Raises at once (a `NotesError` subclass with the server's reason) when the server refuses the socket for
    good; `Unavailable` when it could not connect within `connect_timeout` seconds. `ack_timeout`: how long a
    change waits for its ack before `Timeout` (None: as long as it takes, e.g. across a long outage).
    `voter`: the key your votes are counted under when the token names no subject (default: a new one).
    """
    ws_url(url, board)  # a bad URL is a ValueError now, not a reconnect loop
    b = Board(url, board, name=name, token=token, max_queue=max_queue, ack_timeout=ack_timeout, voter=voter)
    await b._start(connect_timeout)
    try:
        yield b
    finally:
        await b._stop()
