"""One WebSocket connection after the handshake: snapshot, read loop, bounded outbox, and how it ends.

Its life is a checked state machine (`state.py`, moved only by `_enter`): SYNCING while the snapshot is read
(events are held back), OPEN once it is sent, CLOSING when a close was decided (overflow, shutdown, abuse;
input is ignored), CLOSED when the endpoint returns. Frames read while OPEN go to its `FrameReader`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from starlette.websockets import WebSocket

from notesboard.awareness.peer import LocalPeer
from notesboard.contract.errors import (
    CLOSE_GOING_AWAY,
    CLOSE_POLICY,
    CLOSE_TRY_AGAIN,
    NotesError,
)
from notesboard.contract.protocol import error_frame, snapshot_frame
from notesboard.core.auth import Grant
from notesboard.core.privacy import shown
from notesboard.core.voters import socket_voter
from notesboard.core.votes import view as votes_view
from notesboard.fanout.outbox import Outbox
from notesboard.ingress.handshake import Handshake
from notesboard.ingress.reader import FrameReader
from notesboard.ingress.services import Services
from notesboard.ingress.state import LIVE, ConnState, StateMachine
from notesboard.ingress.undo import Undo
from notesboard.runtime.uvicorn_adapter import SocketHandle

__all__ = ["SocketConnection"]

log = logging.getLogger("notesboard.ingress")


class SocketConnection(StateMachine):
    def __init__(
        self, websocket: WebSocket, services: Services, board: str, query: Handshake, grant: Grant, address: str
    ) -> None:
        self.ws = websocket
        self.grant = grant
        self.address = address
        self.svc = services
        self.board = board
        self.query = query
        self.name = query.name
        self.voter = socket_voter(grant, query.key)  # whose votes it casts; the hub renders by it
        self.batch = query.batch
        super().__init__()
        self.seq = 0  # the last event seq this connection was given
        settings = services.settings
        self.handle = SocketHandle(websocket.scope, services.fast)
        self.outbox = Outbox(
            self.handle.text_sender(websocket.send_text),
            max_frames=settings.queue_frames,
            max_bytes=settings.queue_bytes,
            batch=query.batch,
            on_overflow=self._overflow,
        )
        self.reader = FrameReader(
            services,
            board,
            query.name,
            grant,
            voter=self.voter,
            push=self.outbox.push,
            wants_replies=self._wants_replies,
            abusive=self._abusive,
        )
        self._held: list[tuple[int | None, str]] = []  # frames that arrive while SYNCING
        self._closer: asyncio.Task[None] | None = None
        self.aware: LocalPeer | None = None  # this connection's awareness, once its snapshot is out

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
        await self.ws.accept()
        self.handle.hook_keepalive(self._keepalive_timeout)
        reason = "client closed"
        try:
            with self._register():
                log.info(
                    "open board=%s address=%s name=%s since=%s", self.board, self.address, self.name, self.query.since
                )
                # The snapshot is read and sent in a coroutine of its own so that nothing of it (the notes, the
                # encoded frame: easily kilobytes) stays referenced by this frame for the socket's lifetime.
                reason = await self._sync() or await self._read_loop()
        finally:
            log.info("close board=%s address=%s name=%s reason=%s", self.board, self.address, self.name, reason)

    def _register(self) -> Undo:
        """Every registration of this socket (registry, token expiry, hub, awareness, presence), to be undone in
        reverse on any exit, including one that fails half-way through registering. (Awareness attaches later,
        once the snapshot is out: `_start_awareness`; its detach is registered here.)"""
        svc = self.svc
        undo = Undo()
        try:
            svc.registry.add(self)
            undo.callback(svc.registry.remove, self)
            if self.grant.expires is not None:  # a live socket ends with its token
                expiry = asyncio.get_running_loop().call_later(
                    max(0.0, self.grant.expires - time.time()), self._close_soon, CLOSE_POLICY, "token expired"
                )
                undo.callback(expiry.cancel)
            svc.hub.join(self)
            undo.callback(svc.hub.leave, self)
            undo.callback(self._leave_awareness)
            svc.presence.joined(self.board, self.name)
            undo.callback(svc.presence.left, self.board, self.name)
            undo.callback(self._ended)  # first on exit: no frame is queued for a socket that is gone
        except BaseException:
            undo.run()
            raise
        return undo

    def _leave_awareness(self) -> None:
        if self.aware is not None:
            self.svc.awareness.detach(self.aware)

    def _ended(self) -> None:
        self._enter(ConnState.CLOSED)
        self.outbox.close()
        if self._closer is not None and not self._closer.done():
            self._closer.cancel()

    async def _sync(self) -> str | None:
        """Read and send the snapshot, then OPEN with what arrived meanwhile; a reason if the socket ends."""
        svc = self.svc
        try:
            limit = self.query.limit or svc.settings.snapshot_limit
            # Shared with the board's other connects; only reads that start after the hub join in `serve`.
            snap = await svc.snapshots.snapshot(self.board, self.query.since, self.query.epoch, limit)
            # Read after the notes: a session at least as new as the snapshot's seq (a `session` event that the
            # snapshot already holds only repeats the same whole state).
            session = await svc.snapshots.session(self.board)
            votes = None
            if session is not None and session["vote"] is not None:
                votes = votes_view(session, await svc.store.read_votes(self.board), self.voter)
        except NotesError as exc:
            self._enter(ConnState.CLOSING)
            await self.ws.send_text(error_frame(exc))
            await self.ws.close(CLOSE_TRY_AGAIN, "database unavailable")
            return f"snapshot failed: {exc.message}"
        if self.state is not ConnState.SYNCING:  # closed while reading the snapshot (token expiry, resync)
            return None
        self.seq = snap.seq
        presence = svc.hub.count(self.board)
        notes = shown(snap.notes, snap.private, self.voter)  # others' private notes: blank (core/privacy.py)
        frame = snapshot_frame(self.board, snap.epoch, snap.seq, notes, presence, snap.reset, snap.more, session, votes)
        held, self._held = self._held, []
        self._enter(ConnState.OPEN)
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
            return "gone during snapshot"
        if self.is_open:  # a close may have been decided while the snapshot was sent
            self.outbox.start()  # a writer task only while frames wait: none for an idle socket
            direct = self.handle.direct_writer()
            if direct is not None:  # only now: nothing may overtake the snapshot
                self.outbox.enable_direct(direct)
            self._start_awareness()
        return None

    def _start_awareness(self) -> None:
        """The full awareness frame follows the snapshot; from now on this connection is a peer."""
        awareness = self.svc.awareness
        aware = self.aware = awareness.attach(self.board, self.name, self.outbox, self.grant.expires)
        if aware is not None:
            self.outbox.on_drained = lambda: awareness.drained(aware)

        async def receive(body: dict[str, Any]) -> None:
            await awareness.receive(aware, body)

        self.reader.awareness = receive

    def _wants_replies(self) -> bool:
        """The reader's acks and errors are wanted while OPEN or CLOSING (not once the socket is gone)."""
        return self.state is ConnState.OPEN or self.state is ConnState.CLOSING

    def _abusive(self) -> None:
        self._close_soon(CLOSE_POLICY, "sustained rate limit abuse")

    async def _read_loop(self) -> str:
        receive, frame = self.ws.receive, self.reader.frame
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return f"disconnect code={message.get('code')}"
            if self.state is ConnState.OPEN:
                await frame(message.get("text"))

    # -- closing -------------------------------------------------------------------------------------------

    def resync(self) -> None:
        """Events were missed between processes (see Hub.resync): resume with since."""
        self._close_soon(CLOSE_TRY_AGAIN, "missed events; resume with since")

    def _overflow(self) -> None:
        log.info("slow consumer board=%s name=%s: closing 1013", self.board, self.name)
        self.svc.registry.overflowed()
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

    def _keepalive_timeout(self) -> bool:
        """uvicorn's keepalive gave up on a pong: for us a client too slow to read (1013, not 1011).

        A peer that leaves a transport ping unanswered is either gone or not reading (its unread data sits
        in socket buffers in front of the ping). Returns False to let uvicorn end it its own way.
        """
        if self.state is not ConnState.OPEN:
            return False
        log.info("no pong board=%s name=%s: closing 1013", self.board, self.name)
        self._close_unread(CLOSE_TRY_AGAIN, "no answer to pings: too slow or gone; resume with since")
        return self.state is not ConnState.OPEN

    def _close_unread(self, code: int, reason: str) -> None:
        """Close a peer that is not reading: the close frame goes behind what is buffered (see above)."""
        if self.state not in LIVE:
            return
        self.svc.registry.overflowed()
        if self.handle.close_behind_buffer(code, reason):
            self._enter(ConnState.CLOSING)
            self.outbox.close()
        else:
            self._close_soon(code, reason)

    def _close_soon(self, code: int, reason: str) -> None:
        if self.state not in LIVE:
            return
        self._enter(ConnState.CLOSING)
        self.outbox.close()
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
            self._enter(ConnState.CLOSING)
            try:
                await asyncio.wait_for(self.outbox.flushed(), timeout)
            except TimeoutError:
                pass
            self.outbox.close()
            self._closer = asyncio.get_running_loop().create_task(self._close(CLOSE_GOING_AWAY, "server shutting down"))
        if self._closer is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._closer), timeout)
            except TimeoutError:
                pass
