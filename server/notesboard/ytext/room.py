"""One note's editors on this process: a room holds the committed document (its mirror), the peers and
their awareness, and is a subscriber of the note's board on the hub.

The mirror only ever holds committed state. A peer's update is applied to it (and relayed to the other
peers) after the writer committed it. Everything else that changes the note (a v1 `update`, a commit on
another process, an announce) reaches the room as the board's ordinary `updated` event, local or through
the backplane with its gap repair; the room then reads the committed document and relays what its mirror
lacks (`catch_up`). So several processes converge on the database's state without a second channel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

import orjson
from pycrdt import Doc, Text

from notesboard.contract.errors import CLOSE_POLICY, Forbidden, NotesError
from notesboard.fanout.hub import Hub
from notesboard.storage import Store
from notesboard.ytext import wire
from notesboard.ytext.doc import TEXT

__all__ = ["Peer", "Room", "Rooms"]

log = logging.getLogger("notesboard.ytext")
MAX_CLIENTS = 8  # awareness client ids one connection may speak for (a page has one; a reload keeps it)


class Peer(Protocol):
    def send(self, data: bytes) -> None:
        """Queue a binary message (never awaits the socket)."""

    def close_soon(self, code: int, reason: str) -> None: ...


class Room:
    """A hub subscriber for its board: `batch`, `seq`, `send_events`, `send_frame`, `resync`."""

    def __init__(self, hub: Hub, store: Store, board: str, note_id: int, state: bytes, seq: int) -> None:
        self._hub = hub
        self._store = store
        self.board = board
        self.note_id = note_id
        self.batch = False
        self.counted = False  # not a connection: presence counts leave it out (fanout.Hub)
        self.seq = seq
        self.doc: Doc[Text] = Doc()
        self.doc.get(TEXT, type=Text)
        self.doc.apply_update(state)
        self.peers: set[Peer] = set()
        self.awareness: dict[int, tuple[int, str, Peer]] = {}  # client id -> (clock, state JSON, its peer)
        self._catching_up: asyncio.Task[None] | None = None
        self._again = False
        self.on_empty: Callable[[Room], None] | None = None

    # -- peers ---------------------------------------------------------------------------------------------

    def add(self, peer: Peer) -> None:
        self.peers.add(peer)

    def remove(self, peer: Peer) -> None:
        self.peers.discard(peer)
        gone = [(c, clock + 1, "null") for c, (clock, _, p) in self.awareness.items() if p is peer]
        for client, _, _ in gone:
            del self.awareness[client]
        if gone and self.peers:
            self.broadcast(wire.awareness(wire.awareness_update(gone)), None)
        if not self.peers and self.on_empty is not None:
            self.on_empty(self)

    def broadcast(self, message: bytes, sender: Peer | None) -> None:
        for peer in tuple(self.peers):
            if peer is not sender:
                peer.send(message)

    def awareness_message(self) -> bytes | None:
        """Every known peer's awareness, for a newcomer (None: nobody has any)."""
        entries = [(c, clock, state) for c, (clock, state, _) in self.awareness.items()]
        return wire.awareness(wire.awareness_update(entries)) if entries else None

    def awareness_from(self, peer: Peer, payload: bytes) -> None:
        """Record a peer's awareness update (BadRequest if malformed) and relay it to everyone as is. A
        connection speaks for at most MAX_CLIENTS client ids (Forbidden past that), so what a room keeps is
        bounded by its connections."""
        for client, clock, state in wire.awareness_entries(payload):
            known = self.awareness.get(client)
            if known is not None and known[2] is not peer:
                continue  # a client id another connection speaks for: relayed, never taken over
            if known is None and state != "null":
                if sum(1 for _, _, p in self.awareness.values() if p is peer) >= MAX_CLIENTS:
                    raise Forbidden(f"a connection may speak for at most {MAX_CLIENTS} awareness clients")
            if state == "null":
                self.awareness.pop(client, None)
            else:
                self.awareness[client] = (clock, state, peer)
        # To every peer, the sender too, as the stock y-websocket server does: a lone editor's awareness renewals
        # (every 15 s) then come back to it, which keeps y-websocket's 30 s "no message received" timer quiet.
        self.broadcast(wire.awareness(payload), None)

    # -- committed changes ---------------------------------------------------------------------------------

    def committed(self, update: bytes, sender: Peer | None) -> None:
        """`update` was committed: the mirror takes it and the other peers get it."""
        self.doc.apply_update(update)
        self.broadcast(wire.sync_update(update), sender)

    def catch_up(self) -> None:
        """Bring the mirror to the committed document (one read at a time; another if asked meanwhile)."""
        if self._catching_up is not None and not self._catching_up.done():
            self._again = True
            return
        self._catching_up = asyncio.get_running_loop().create_task(self._catch_up(), name="notesboard-ytext-catchup")

    async def _catch_up(self) -> None:
        while True:
            self._again = False
            try:
                found = await self._store.read_ydoc(self.note_id)
            except NotesError as exc:
                log.info("room %s/%s could not read the note: %s", self.board, self.note_id, exc.message)
                return  # the next event asks again
            if found is None or found[0]["deleted"] or found[0]["board"] != self.board:
                self.close_all(CLOSE_POLICY, "note deleted")
                return
            state = found[1]
            if state is not None:
                delta = _diff(state, self.doc)
                if delta is not None:
                    self.doc.apply_update(delta)
                    self.broadcast(wire.sync_update(delta), None)
            if not self._again:
                return

    def close_all(self, code: int, reason: str) -> None:
        for peer in tuple(self.peers):
            peer.close_soon(code, reason)

    # -- hub subscriber ------------------------------------------------------------------------------------

    def send_events(self, first: int, last: int, frames: list[tuple[int, str]], chunk: str | None) -> None:
        self.seq = max(self.seq, last)
        marker = f'"id":{self.note_id},'
        for _, frame in frames:
            if marker in frame and (orjson.loads(frame).get("note") or {}).get("id") == self.note_id:
                self.catch_up()
                return

    def send_frame(self, frame: str) -> None:
        """Presence and other board frames: not for Yjs peers."""

    def resync(self) -> None:
        """Events were missed between processes: read the committed document instead."""
        self.catch_up()


def _diff(state: bytes, mirror: Doc[Text]) -> bytes | None:
    """What `state` holds that the mirror lacks, as an update (None: nothing)."""
    doc: Doc[Text] = Doc()
    doc.apply_update(state)
    if doc.get_state() == mirror.get_state() and doc.get_update() == mirror.get_update():
        return None
    return doc.get_update(mirror.get_state())


class Rooms:
    """The rooms of this process, by note: made on a note's first connection, dropped after its last."""

    def __init__(self, hub: Hub, store: Store, on_closed: Callable[[str, int], None]) -> None:
        self._hub = hub
        self._store = store
        self._on_closed = on_closed
        self.rooms: dict[int, Room] = {}

    def join(self, peer: Peer, board: str, note_id: int, state: bytes, seq: int) -> Room:
        room = self.rooms.get(note_id)
        if room is None:
            room = self.rooms[note_id] = Room(self._hub, self._store, board, note_id, state, seq)
            room.on_empty = self._drop
            self._hub.join(room)
            # `state` was read before an await: a commit of the room that was dropped meanwhile may be missing
            # from it, with its event gone before this room joined the hub. Read once more, now subscribed.
            room.catch_up()
        else:
            delta = _diff(state, room.doc)  # this connection read a newer state than the room holds
            if delta is not None:
                room.catch_up()
        room.add(peer)
        return room

    def _drop(self, room: Room) -> None:
        if self.rooms.get(room.note_id) is room:
            del self.rooms[room.note_id]
            self._hub.leave(room)
            self._on_closed(room.board, room.note_id)
