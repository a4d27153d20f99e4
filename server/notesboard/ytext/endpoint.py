"""The socket `/y/{board}/{note_id}`: the y-websocket protocol for one note's text.

Checked before accepting, as on `/ws/{board}` (Origin, board, query, token, connection limits), plus the
note: it must exist, be live and be on this board (else 404 at the handshake). Then, per message:
- sync step 1 -> step 2 from the room's committed document;
- sync step 2 / update -> committed through the writer (a read token: close 1008), then relayed; one at a
  time per connection, so a connection's updates commit in order;
- awareness -> relayed to the room's other peers (never stored);
- malformed -> close 1003; refused whole (text over max_text) -> 1009; note gone -> 1008; database down ->
  1013 (the client reconnects and sends again what the server lacks). Never 1011.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque

import pycrdt
from starlette.responses import JSONResponse
from starlette.websockets import WebSocket

from notesboard.contract.errors import (
    CLOSE_GOING_AWAY,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    CLOSE_TRY_AGAIN,
    BadRequest,
    Forbidden,
    NotesError,
    TooLarge,
    Unavailable,
)
from notesboard.contract.model import WriteResult, YUpdateCommand
from notesboard.contract.validate import check_board, parse_int_param
from notesboard.core.auth import Grant, authorize, origin_allowed
from notesboard.core.voters import socket_voter
from notesboard.ingress.handshake import handshake
from notesboard.ingress.ratelimit import TokenBucket
from notesboard.ytext import wire
from notesboard.ytext.doc import EMPTY_UPDATE
from notesboard.ytext.room import Room
from notesboard.ytext.service import YText

__all__ = ["CLOSE_UNSUPPORTED", "ytext_endpoint"]

log = logging.getLogger("notesboard.ytext")
CLOSE_UNSUPPORTED = 1003  # RFC 6455: data the endpoint cannot accept (a malformed Yjs message)


def close_code(exc: NotesError) -> int:
    if isinstance(exc, BadRequest):
        return CLOSE_UNSUPPORTED
    if isinstance(exc, TooLarge):
        return CLOSE_TOO_BIG
    if isinstance(exc, Unavailable):
        return CLOSE_TRY_AGAIN
    return CLOSE_POLICY  # not found (deleted), forbidden, rate limited


async def ytext_endpoint(websocket: WebSocket, board: str, note_id: str) -> None:
    runtime = websocket.app.state.runtime
    services, ytext = runtime.sockets, runtime.ytext
    settings = services.settings
    address = websocket.client.host if websocket.client else "unknown"
    try:
        if not origin_allowed(websocket.headers.get("origin"), websocket.headers.get("host"), settings.allowed_origins):
            raise Forbidden("this Origin may not open sockets here (see --allowed-origins)")
        check_board(board)
        nid = parse_int_param("note_id", note_id, low=1, high=2**63 - 1)
        assert nid is not None
        query = handshake(websocket.query_params, settings.snapshot_max)
        grant = authorize(settings.auth_secret, query.token, board)
        who = socket_voter(grant, query.key)
        services.registry.admit(address)
        owner = await services.store.private_owner(nid)
        if owner is not None and owner != who:  # written while private: its text is its writer's alone
            raise Forbidden(f"note {nid} is private until the reveal")
        state, seq = await ytext.open(board, nid)
    except NotesError as exc:
        services.error(exc.code)
        if "websocket.http.response" in websocket.scope.get("extensions", {}):
            body = {"error": {"code": exc.code, "message": exc.message}}
            await websocket.send_denial_response(JSONResponse(body, status_code=exc.status))
        else:
            await websocket.close(CLOSE_POLICY, exc.message[:120])
        return
    await YConnection(websocket, ytext, board, nid, query.name, grant, address, who).serve(state, seq)


class YConnection:
    """One editor's socket: a peer of its note's room, and a `Tracked` of the socket registry."""

    def __init__(
        self,
        ws: WebSocket,
        ytext: YText,
        board: str,
        note_id: int,
        name: str | None,
        grant: Grant,
        address: str,
        who: str | None = None,
    ) -> None:
        self.ws = ws
        self.who = who  # core/voters.py: whose typing this is (a private note's writer may type in it)
        self.ytext = ytext
        self.board = board
        self.note_id = note_id
        self.name = name
        self.grant = grant
        self.address = address
        settings = ytext.settings
        self._max_bytes = settings.queue_bytes
        self._bucket = (
            TokenBucket(settings.rate_limit, settings.rate_burst, time.monotonic()) if settings.rate_limit else None
        )
        self._queue: deque[bytes] = deque()
        self._queued = 0
        self._wake = asyncio.Event()
        self._closing: tuple[int, str] | None = None
        self._blocked_since: float | None = None
        self._done = asyncio.Event()
        self._updates: list[bytes] = []  # received, waiting for the committer
        self._refused = False
        self._peer_gone = False  # a send failed: the peer is closing or gone (nothing more is sent)
        self._committer: asyncio.Task[None] | None = None

    # -- Peer ----------------------------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        if self._closing is not None or self._peer_gone:
            return
        self._queue.append(data)
        self._queued += len(data)
        if self._queued > self._max_bytes:
            self.close_soon(CLOSE_TRY_AGAIN, "too slow to read; reconnect")
        self._wake.set()

    def close_soon(self, code: int, reason: str) -> None:
        if code in (CLOSE_UNSUPPORTED, CLOSE_POLICY, CLOSE_TOO_BIG):
            self._refused = True  # nothing more of this connection is committed
        if self._closing is None:
            self._closing = (code, reason)
            self._queue.clear()
            self._wake.set()

    # -- Tracked -------------------------------------------------------------------------------------------

    def check_stalled(self, now: float, limit: float) -> None:
        if self._blocked_since is not None and now - self._blocked_since >= limit:
            self.close_soon(CLOSE_TRY_AGAIN, "stopped reading; reconnect")

    async def shutdown(self, timeout: float) -> None:
        self.close_soon(CLOSE_GOING_AWAY, "server shutting down")
        try:
            await asyncio.wait_for(self._done.wait(), timeout)
        except TimeoutError:
            pass

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def serve(self, state: bytes, seq: int) -> None:
        registry = self.ytext.registry
        await self.ws.accept()
        registry.add(self)
        room = self.ytext.rooms.join(self, self.board, self.note_id, state, seq)
        expiry: asyncio.TimerHandle | None = None
        if self.grant.expires is not None:
            delay = max(0.0, self.grant.expires - time.time())
            expiry = asyncio.get_running_loop().call_later(delay, self.close_soon, CLOSE_POLICY, "token expired")
        sender = asyncio.get_running_loop().create_task(self._send_loop(), name="notesboard-ytext-send")
        self.send(wire.sync_step1(room.doc.get_state()))
        known = room.awareness_message()
        if known is not None:
            self.send(known)
        reason = "client closed"
        try:
            reason = await self._read_loop(room)
        finally:
            if self._committer is not None:  # what was received is committed (and relayed) before leaving
                await asyncio.gather(self._committer, return_exceptions=True)
            if expiry is not None:
                expiry.cancel()
            room.remove(self)
            registry.remove(self)
            if self._closing is None:
                self._closing = (CLOSE_GOING_AWAY, "")
                self._wake.set()
            await sender
            self._done.set()
            log.info("y close board=%s note=%s address=%s reason=%s", self.board, self.note_id, self.address, reason)

    async def _read_loop(self, room: Room) -> str:
        """Until the peer's close (after a close of ours, what it still sends is ignored)."""
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return f"disconnect code={message.get('code')}"
            if self._closing is not None:
                continue
            try:
                data = message.get("bytes")
                if data is None:
                    raise BadRequest("y-websocket messages are binary")
                await self._handle(room, wire.parse(data))
            except NotesError as exc:
                log.info("y refuse board=%s note=%s: %s", self.board, self.note_id, exc.message)
                self.ytext.error(exc.code)
                self.close_soon(close_code(exc), exc.message[:120])

    async def _handle(self, room: Room, msg: wire.Message) -> None:
        if msg.kind == "step1":
            try:
                update = room.doc.get_update(msg.payload)
            except Exception:  # noqa: BLE001 - pycrdt: a state vector it cannot decode
                raise BadRequest("malformed state vector") from None
            self.send(wire.sync_step2(update))
        elif msg.kind in ("step2", "update"):
            if msg.payload in (b"", EMPTY_UPDATE):  # a step 2 of a client with nothing new (a reader's too)
                return
            if not self.grant.can_write():
                raise Forbidden("this token may only read")
            if self._bucket is not None and not self._bucket.take(time.monotonic()):
                raise Forbidden("rate limit exceeded")  # closing loses nothing: the client resends on reconnect
            await self._queue_update(room, msg.payload)
        elif msg.kind == "awareness":
            if self._bucket is None or self._bucket.take(time.monotonic()):
                room.awareness_from(self, msg.payload)  # over the rate: dropped (awareness may be)
        else:  # query awareness
            known = room.awareness_message()
            if known is not None:
                self.send(known)

    async def _queue_update(self, room: Room, update: bytes) -> None:
        """Updates wait for the connection's committer; what arrived while it committed goes in one commit
        (merged), so a fast typist or a slow database costs one commit per round, not per keystroke. Past
        `max_inflight` waiting, reading pauses (TCP backpressure)."""
        self._updates.append(update)
        self.ytext.updates += 1
        if self._committer is None or self._committer.done():
            self._committer = asyncio.get_running_loop().create_task(self._commit_all(room))
        if len(self._updates) >= self.ytext.settings.max_inflight:
            await asyncio.shield(self._committer)

    async def _commit_all(self, room: Room) -> None:
        # What was received is committed even when the socket is going (the peer left, a shutdown, too slow to
        # read), but not after a refusal: then nothing more of this connection counts.
        while self._updates and not self._refused:
            batch, self._updates = self._updates, []
            try:
                await self._commit(room, batch)
            except NotesError as exc:
                log.info("y refuse board=%s note=%s: %s", self.board, self.note_id, exc.message)
                self.ytext.error(exc.code)
                self.close_soon(close_code(exc), exc.message[:120])

    async def _commit(self, room: Room, batch: list[bytes]) -> None:
        try:
            update = batch[0] if len(batch) == 1 else pycrdt.merge_updates(*batch)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # noqa: BLE001 - pycrdt: ValueError, or a Rust panic (a BaseException)
            raise BadRequest("malformed Yjs update") from None
        announcer = self.ytext.announcer
        announce = announcer.announce_now(self.note_id)
        cmd = YUpdateCommand(
            self.note_id, {}, None, None, update=update, max_text=self.ytext.settings.max_text, announce=announce
        )
        outcome = await self.ytext.notes.submit(self.board, cmd, self.name, self.who)
        self.ytext.commits += 1
        assert isinstance(outcome, WriteResult)
        if not announce:
            announcer.later(self.board, self.note_id, self.name)
        room.committed(update, self)

    async def _send_loop(self) -> None:
        """Writes queued messages in order; on close, sends the close frame (no frame when the peer left)."""
        while True:
            while self._queue and self._closing is None:
                data = self._queue.popleft()
                self._queued -= len(data)
                self._blocked_since = time.monotonic()
                try:
                    await self.ws.send_bytes(data)
                except Exception:  # noqa: BLE001 - the peer is closing or gone
                    # Only sending stops: what the peer sent before its close is still read and committed
                    # (a client closing right after its last keystroke must not lose it).
                    self._peer_gone = True
                    self._queue.clear()
                    self._queued = 0
                finally:
                    self._blocked_since = None
            if self._closing is not None:
                code, reason = self._closing
                if code and not self._peer_gone:
                    try:
                        await self.ws.close(code, reason)
                    except Exception:  # noqa: BLE001 - already gone
                        pass
                return
            self._wake.clear()
            await self._wake.wait()
