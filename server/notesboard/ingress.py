"""Socket in: the WebSocket endpoint `/ws/{board}`.

Handshake (query and board checked before accepting), snapshot, then a read loop that validates each frame
and hands writes to the use cases without waiting for them: acks and errors come back through the
connection's outbox when the commit is done, so one client can pipeline many writes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from enum import Enum
from functools import partial
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from notesboard.auth import Grant, authorize, origin_allowed
from notesboard.errors import (
    CLOSE_GOING_AWAY,
    CLOSE_POLICY,
    CLOSE_TRY_AGAIN,
    BadRequest,
    Forbidden,
    NotesError,
    RateLimited,
    Unavailable,
)
from notesboard.outbox import Outbox
from notesboard.protocol import PONG, ack_frame, error_frame, snapshot_frame
from notesboard.snapshot import read_snapshot
from notesboard.store import Outcome, WriteResult
from notesboard.validate import Command, Handshake, Ping, check_board, handshake, parse_frame

if TYPE_CHECKING:
    from notesboard.app import Runtime

__all__ = ["ConnState", "RawSendMiddleware", "SocketConnection", "websocket_endpoint"]

RAW_SEND_KEY = "notesboard.raw_send"

log = logging.getLogger("notesboard.ingress")


class ConnState(Enum):
    SYNCING = "syncing"  # accepted, snapshot being read: events are held back
    OPEN = "open"  # snapshot sent: events flow
    CLOSING = "closing"  # a close was decided (overflow, shutdown, abuse): input is ignored
    CLOSED = "closed"


def _error_body(exc: NotesError) -> dict[str, dict[str, str]]:
    return {"error": {"code": exc.code, "message": exc.message}}


async def _refuse(websocket: WebSocket, exc: NotesError) -> None:
    """Refuse at the handshake with an HTTP status and a JSON body (or close 1008 if the server can't)."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(JSONResponse(_error_body(exc), status_code=exc.status))
    else:
        await websocket.close(CLOSE_POLICY, exc.message[:120])


async def websocket_endpoint(websocket: WebSocket, board: str) -> None:
    runtime: Runtime = websocket.app.state.runtime
    settings = runtime.settings
    address = websocket.client.host if websocket.client else "unknown"
    try:
        if not origin_allowed(websocket.headers.get("origin"), websocket.headers.get("host"), settings.allowed_origins):
            raise Forbidden("this Origin may not open sockets here (see --allowed-origins)")
        check_board(board)
        query = handshake(websocket.query_params, settings.snapshot_max)
        grant = authorize(settings.auth_secret, query.token, board)
        if not runtime.accepting:
            raise Unavailable("server is shutting down")
        if len(runtime.connections) >= settings.max_connections:
            raise Unavailable("too many connections")
        if runtime.per_address[address] >= settings.max_connections_per_ip:
            raise RateLimited("too many connections from this address")
    except NotesError as exc:
        runtime.metrics.error(exc.code)
        await _refuse(websocket, exc)
        return
    await SocketConnection(websocket, runtime, board, query, grant, address).serve()


def _raw_text_sender(websocket: WebSocket) -> Callable[[str], Awaitable[None]]:
    """Send text frames with the server's own ASGI `send` when `RawSendMiddleware` captured it.

    Every frame of the fan-out passes here; skipping starlette's per-message state checks and wrappers
    saved about a fifth of the server's CPU per delivery. Accept and close still go through starlette.
    """
    send = websocket.scope.get(RAW_SEND_KEY)
    if send is None:
        return websocket.send_text

    async def send_text(text: str) -> None:
        await send({"type": "websocket.send", "text": text})

    return send_text


def _direct_writer(send: Any) -> Callable[[bytes], bool] | None:
    """A synchronous writer of ready-made frames to uvicorn's sans-I/O WebSocket transport, or None.

    Each delivery through ASGI costs a task wake-up, the `send` coroutine and websockets' framing, about
    three quarters of the server's CPU per delivery in the fan-out profile. A server's frames are unmasked,
    so one framed chunk can go byte for byte to every connection of a board. Only without extensions
    (permessage-deflate would change the bytes) and only while the protocol is open and writable.
    """
    proto: Any = getattr(send, "__self__", None)
    transport = getattr(proto, "transport", None)
    writable = getattr(proto, "writable", None)
    conn = getattr(proto, "conn", None)
    if proto is None or transport is None or writable is None or conn is None or getattr(conn, "extensions", True):
        return None

    def write(wire: bytes) -> bool:
        if proto.close_sent or not writable.is_set() or transport.is_closing():
            return False
        transport.write(wire)
        return True

    return write


def _close_behind_buffer(send: Any, code: int, reason: str) -> bool:
    """Queue a close frame on uvicorn's sans-I/O WebSocket protocol without waiting for the transport.

    ASGI has no way to close a connection whose peer stopped reading (`websocket.close` waits until the
    transport drains). The server's `send` is a method of its protocol object; when that object has the
    websockets sans-I/O connection and transport we expect, write the close frame directly, as uvicorn itself
    does for its keepalive timeout. Returns False (the caller falls back to a normal close) otherwise.
    """
    proto = getattr(send, "__self__", None)
    conn, transport = getattr(proto, "conn", None), getattr(proto, "transport", None)
    if proto is None or conn is None or transport is None or getattr(proto, "close_sent", True):
        return False
    if not hasattr(conn, "send_close") or not hasattr(conn, "data_to_send") or transport.is_closing():
        return False
    try:
        conn.send_close(code, reason)
        transport.write(b"".join(conn.data_to_send()))
    except Exception:  # unexpected protocol state: let the normal path handle it
        log.debug("direct close failed", exc_info=True)
        return False
    proto.close_sent = True
    timeout = getattr(proto, "close_timeout", 10.0)
    proto.close_timer = asyncio.get_running_loop().call_later(timeout, transport.close)
    return True


class RawSendMiddleware:
    """Outermost ASGI middleware: keeps the server's `send` for websocket scopes (see `_raw_text_sender`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[RAW_SEND_KEY] = send
        await self.app(scope, receive, send)


class SocketConnection:
    def __init__(
        self, websocket: WebSocket, runtime: Runtime, board: str, query: Handshake, grant: Grant, address: str
    ) -> None:
        self.ws = websocket
        self.grant = grant
        self.address = address
        self.rt = runtime
        self.board = board
        self.query = query
        self.name = query.name
        self.batch = query.batch
        self.state = ConnState.SYNCING
        self.seq = 0  # the last event seq this connection was given
        settings = runtime.settings
        self.outbox = Outbox(
            _raw_text_sender(websocket),
            max_frames=settings.queue_frames,
            max_bytes=settings.queue_bytes,
            batch=query.batch,
            on_overflow=self._overflow,
        )
        self._held: list[tuple[int | None, str]] = []  # frames that arrive while SYNCING
        self._inflight = 0
        self._slot = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self._tokens = float(settings.rate_burst)
        self._refill = time.monotonic()
        self._limited = 0

    # -- called by the hub (synchronously, never awaiting the socket) --------------------------------------

    def send_events(self, first: int, last: int, frames: list[tuple[int, str]], chunk: str | None) -> None:
        if self.state is ConnState.OPEN:
            if first > self.seq:
                self.seq = last
                if chunk is not None and self.batch:
                    self.outbox.push(chunk, len(frames))
                else:
                    for _, frame in frames:
                        self.outbox.push(frame)
            elif last > self.seq:  # overlaps what the snapshot already covered: only the newer ones
                for seq, frame in frames:
                    if seq > self.seq:
                        self.seq = seq
                        self.outbox.push(frame)
        elif self.state is ConnState.SYNCING:
            self._held.extend(frames)

    def send_frame(self, frame: str) -> None:
        if self.state is ConnState.OPEN:
            self.outbox.push(frame)
        elif self.state is ConnState.SYNCING:
            self._held.append((None, frame))

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def serve(self) -> None:
        rt = self.rt
        await self.ws.accept()
        self._hook_keepalive()
        rt.connections.add(self)
        rt.per_address[self.address] += 1
        if self.grant.expires is not None:  # a live socket ends with its token
            expiry = asyncio.get_running_loop().call_later(
                max(0.0, self.grant.expires - time.time()), self._close_soon, CLOSE_POLICY, "token expired"
            )
        rt.hub.join(self)
        rt.presence.joined(self.board, self.name)
        log.info("open board=%s address=%s name=%s since=%s", self.board, self.address, self.name, self.query.since)
        reason = "client closed"
        try:
            try:
                snap = await read_snapshot(
                    rt.store,
                    self.board,
                    self.query.since,
                    self.query.epoch,
                    self.query.limit or rt.settings.snapshot_limit,
                )
            except NotesError as exc:
                reason = f"snapshot failed: {exc.message}"
                self.state = ConnState.CLOSING
                await self.ws.send_text(error_frame(exc))
                await self.ws.close(CLOSE_TRY_AGAIN, "database unavailable")
                return
            if self.state is not ConnState.SYNCING:  # closed while reading the snapshot (token expiry, resync)
                reason = await self._read_loop()
                return
            self.seq = snap.seq
            presence = rt.hub.count(self.board)
            frame = snapshot_frame(self.board, snap.epoch, snap.seq, snap.notes, presence, snap.reset, snap.more)
            held, self._held = self._held, []
            self.state = ConnState.OPEN
            for seq, held_frame in held:
                if seq is None:
                    self.send_frame(held_frame)
                else:
                    self.send_events(seq, seq, [(seq, held_frame)], None)
            # The snapshot goes out directly, outside the outbox's bound: a resume snapshot may be large, and
            # counting it would close the very client that is catching up. Events queue (bounded) meanwhile.
            try:
                await self.ws.send_text(frame)
            except Exception:  # noqa: BLE001 - the peer left, or a close won the race
                reason = "gone during snapshot"
                return
            if self.state is ConnState.OPEN:
                self._sender = asyncio.get_running_loop().create_task(self._send_loop())
                direct = _direct_writer(self.ws.scope.get(RAW_SEND_KEY)) if self.rt.settings.direct_writes else None
                if direct is not None:  # only now: nothing may overtake the snapshot
                    self.outbox.enable_direct(direct)
            reason = await self._read_loop()
        finally:
            if self.grant.expires is not None:
                expiry.cancel()
            self.state = ConnState.CLOSED
            self.outbox.close()
            for task in (self._sender, self._closer):
                if task is not None and not task.done():
                    task.cancel()
            rt.hub.leave(self)
            rt.presence.left(self.board, self.name)
            rt.connections.discard(self)
            rt.per_address[self.address] -= 1
            if rt.per_address[self.address] <= 0:
                del rt.per_address[self.address]
            log.info("close board=%s address=%s name=%s reason=%s", self.board, self.address, self.name, reason)

    async def _send_loop(self) -> None:
        try:
            await self.outbox.run()
        except Exception:  # noqa: BLE001 - the peer went away; the read loop sees the disconnect
            self.outbox.close()

    async def _read_loop(self) -> str:
        receive = self.ws.receive
        settings = self.rt.settings
        rate = settings.rate_limit
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return f"disconnect code={message.get('code')}"
            if self.state is not ConnState.OPEN:
                continue
            text = message.get("text")
            if text is None:
                self._error(BadRequest("binary frames are not accepted; send JSON text"))
                continue
            command: Command | NotesError
            try:
                command = parse_frame(text, settings.max_text)
            except NotesError as exc:
                command = exc
            # Rate limiting comes after parsing so that a refusal can carry the request's client_id.
            if rate and not self._take_token(rate, settings.rate_burst, getattr(command, "client_id", None)):
                continue
            if isinstance(command, NotesError):
                self._error(command)
                continue
            if isinstance(command, Ping):
                self.outbox.push(PONG)
                continue
            if not self.grant.can_write():
                self._error(Forbidden("this token is read-only", command.client_id))
                continue
            while self._inflight >= settings.max_inflight:
                self._slot.clear()
                await self._slot.wait()
            self._inflight += 1
            future = self.rt.notes.submit(self.board, command, self.name)
            future.add_done_callback(partial(self._committed, command.client_id))

    def _committed(self, client_id: str | None, future: asyncio.Future[Outcome]) -> None:
        self._inflight -= 1
        self._slot.set()
        if future.cancelled() or (self.state is not ConnState.OPEN and self.state is not ConnState.CLOSING):
            return
        exc = future.exception()
        if exc is None:
            result = future.result()
            assert isinstance(result, WriteResult)  # the socket sends note commands only
            self.outbox.push(ack_frame(client_id, result.seq, result.note))
        elif isinstance(exc, NotesError):
            self._error(exc)
        else:
            self._error(Unavailable(f"write failed: {type(exc).__name__}", client_id))

    def _error(self, exc: NotesError) -> None:
        self.rt.metrics.error(exc.code)
        self.outbox.push(error_frame(exc))

    def _take_token(self, rate: float, burst: int, client_id: str | None) -> bool:
        now = time.monotonic()
        self._tokens = min(float(burst), self._tokens + (now - self._refill) * rate)
        self._refill = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            self._limited = 0
            return True
        self._limited += 1
        self._error(RateLimited(f"more than {rate:g} frames/s; slow down", client_id))
        if self._limited > burst:
            self._close_soon(CLOSE_POLICY, "sustained rate limit abuse")
        return False

    def resync(self) -> None:
        """Events were missed between processes (see Hub.resync): resume with since."""
        self._close_soon(CLOSE_TRY_AGAIN, "missed events; resume with since")

    def _overflow(self) -> None:
        log.info("slow consumer board=%s name=%s: closing 1013", self.board, self.name)
        self.rt.overflows += 1
        self._close_soon(CLOSE_TRY_AGAIN, "too slow to read; resume with since")

    def check_stalled(self, now: float, limit: float) -> None:
        """Called every second: a send that has waited `limit` seconds means the peer stopped reading.

        Such a peer also stops answering transport pings, and uvicorn's keepalive would close it with 1011
        ("keepalive ping timeout"). The contract says 1013 for a client too slow to read, so we close it
        first, writing the close frame behind the data the transport already holds (a normal close would
        wait for that data to drain, which is what never happens here).
        """
        since = self.outbox.blocked_since
        if since is None or now - since < limit or self.state is not ConnState.OPEN:
            return
        log.info("stalled reader board=%s name=%s: closing 1013", self.board, self.name)
        self._close_unread(CLOSE_TRY_AGAIN, "stopped reading; resume with since")

    def _close_unread(self, code: int, reason: str) -> None:
        """Close a peer that is not reading: the close frame goes behind what is buffered (see above)."""
        if self.state is not ConnState.OPEN and self.state is not ConnState.SYNCING:
            return
        self.rt.overflows += 1
        if _close_behind_buffer(self.ws.scope.get(RAW_SEND_KEY), code, reason):
            self.state = ConnState.CLOSING
            self.outbox.close()
            if self._sender is not None:
                self._sender.cancel()
        else:
            self._close_soon(code, reason)

    def _hook_keepalive(self) -> None:
        """Make uvicorn's keepalive timeout close with 1013 instead of 1011.

        A peer that leaves a transport ping unanswered for `ping_timeout` is either gone or not reading (its
        unread data sits in socket buffers in front of the ping). uvicorn would fail the connection with 1011,
        which the contract reserves; for us it is a client too slow to read, so 1013 and resume with `since`.
        The protocol object looks up `keepalive_timeout` when it arms the timer, so an instance attribute
        replaces it for this connection only. Without the attribute (another server), nothing changes.
        """
        proto = getattr(self.ws.scope.get(RAW_SEND_KEY), "__self__", None)
        if proto is None or not callable(getattr(proto, "keepalive_timeout", None)):
            return
        original = proto.keepalive_timeout

        def keepalive_timeout() -> None:
            if self.state is not ConnState.OPEN:
                original()
                return
            log.info("no pong board=%s name=%s: closing 1013", self.board, self.name)
            proto.pong_timer = None
            proto.pending_ping_payload = None
            self._close_unread(CLOSE_TRY_AGAIN, "no answer to pings: too slow or gone; resume with since")
            if self.state is ConnState.OPEN:  # could not close directly: let uvicorn end it
                original()

        proto.keepalive_timeout = keepalive_timeout

    def _close_soon(self, code: int, reason: str) -> None:
        if self.state is not ConnState.OPEN and self.state is not ConnState.SYNCING:
            return
        self.state = ConnState.CLOSING
        self.outbox.close()
        if self._sender is not None:
            self._sender.cancel()
        self._closer = asyncio.get_running_loop().create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        # This may wait for the transport to drain (a peer that never reads): memory stays bounded by the
        # transport's buffer, and the task ends when the peer reads or disconnects.
        try:
            await self.ws.close(code, reason)
        except Exception:  # noqa: BLE001 - already gone
            pass

    async def shutdown(self, timeout: float) -> None:
        """Server shutdown: deliver what is queued (acks included), then close 1001."""
        if self.state is ConnState.OPEN:
            self.state = ConnState.CLOSING
            try:
                await asyncio.wait_for(self.outbox.flushed(), timeout)
            except TimeoutError:
                pass
            self.outbox.close()
            if self._sender is not None:
                self._sender.cancel()
            self._closer = asyncio.get_running_loop().create_task(self._close(CLOSE_GOING_AWAY, "server shutting down"))
        if self._closer is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._closer), timeout)
            except TimeoutError:
                pass
