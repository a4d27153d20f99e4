"""Awareness: who points where, edits and selects what, relayed per board once per tick, never stored.

Each board's changed peers are collected between ticks (a peer's newest state wins: coalescing is just
overwriting) and flushed at most once per `tick` seconds: every changed local peer's entry is encoded once,
the entries are joined once (`frames.Joined`), and each connection gets the shared frame or, if it is one of
the changed peers, the same text without its own entry. Connections that are busy get the changes merged
into their pending state instead (`peer.LocalPeer`). With several processes, each flush also hands this
process's changed entries to `publish` (the cluster backplane), and other processes' entries come back
through `remote`; a process that crashed is dropped with its presence entry (`remote_gone`, after
`presence_ttl`).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from notesboard.awareness.frames import Joined
from notesboard.awareness.parse import parse_awareness
from notesboard.awareness.peer import LocalPeer, Sink
from notesboard.awareness.relay import Relay
from notesboard.contract.errors import BadRequest

__all__ = ["PALETTE", "Awareness", "Publish"]

# 12 colours that stay apart from each other (and readable as text on white): the board's first 12 peers each
# get their own, lowest free first; later peers reuse the least used.
PALETTE = (
    "#e6194b",
    "#3cb44b",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#42d4f4",
    "#f032e6",
    "#9a6324",
    "#808000",
    "#000075",
    "#469990",
    "#800000",
)
RATE = 20.0  # frames a second a connection may send (the contract's one per 50 ms); more are dropped
BURST = 10
CHUNK_CHARS = 64 * 1024

Publish = Callable[[str, list[str]], None]  # (board, lines) to the other processes
NoteCheck = Callable[[str, int], Awaitable[bool]]  # is this note live on this board?


class _Room:
    __slots__ = ("changed", "heard", "last", "local", "local_gone", "relay", "remote", "republish", "scheduled")

    def __init__(self, relay: Relay) -> None:
        self.relay = relay  # the ticks on their way to the local connections
        self.local: dict[str, LocalPeer] = {}
        self.remote: dict[str, tuple[str, str, str]] = {}  # peer -> (origin, colour, entry)
        self.changed: dict[str, LocalPeer | str | None] = {}  # local peer (encode at flush), remote entry, gone
        self.local_gone: list[str] = []  # local peers gone since the last flush (for the other processes)
        self.scheduled = False
        self.last = -1e9
        self.republish = False  # another process asked for the full state of this board
        self.heard: dict[str, float] = {}  # other process -> when its last awareness message came (monotonic)


class Awareness:
    def __init__(
        self,
        *,
        tick: float,
        enabled: bool,
        note_check: NoteCheck,
        publish: Publish | None = None,
        chunk: int = CHUNK_CHARS,
    ) -> None:
        self.tick = tick
        self.enabled = enabled
        self.publish = publish
        self._note_check = note_check
        self._chunk = chunk
        self._rooms: dict[str, _Room] = {}
        self._origin = uuid.uuid4().hex[:10]
        # Where this process starts in the palette: peers joining on two processes at once (before either has
        # heard of the other) then rarely get the same colour.
        self._rotation = int(self._origin, 16) % len(PALETTE)
        self._next = 0
        self.frames_in = 0  # awareness frames received (all, dropped ones included)
        self.frames_out = 0  # awareness frames handed to connections
        self.entries_encoded = 0
        self.flushes = 0
        self.remote_in = 0  # entries and gone notices from other processes
        self.dropped: Counter[str] = Counter()  # frames received and not relayed, by reason

    # -- connections -----------------------------------------------------------------------------------

    def attach(self, board: str, name: str | None, sink: Sink, expires: float | None) -> LocalPeer | None:
        """A connection's snapshot went out: give it the full frame, and announce it at the next tick."""
        if not self.enabled:
            return None
        room = self._rooms.get(board)
        if room is None:
            room = self._rooms[board] = self._new_room()
        self._next += 1
        peer = f"{self._origin}-{self._next:x}"
        me = LocalPeer(
            peer,
            board,
            name or "",
            self._colour(room),
            sink,
            rate=RATE,
            burst=BURST,
            limit=self._chunk,
            expires=expires,
        )
        entries = {p: lp.encoded() for p, lp in room.local.items()}
        entries.update((p, entry) for p, (_, _, entry) in room.remote.items())
        self.frames_out += me.owe_full(entries)
        room.local[peer] = me
        self._changed(board, room, peer, me)
        return me

    def detach(self, me: LocalPeer) -> None:
        room = self._rooms.get(me.board)
        if room is None or room.local.get(me.peer) is not me:
            return
        del room.local[me.peer]
        me.pending.clear()
        room.local_gone.append(me.peer)
        self._changed(me.board, room, me.peer, None)

    def drained(self, me: LocalPeer) -> None:
        """The connection's outbox is empty again: send what waited."""
        if me.pending or me.pending_empty:
            self.frames_out += me.flush()

    async def receive(self, me: LocalPeer | None, body: dict[str, Any]) -> None:
        """One client awareness frame (decoded). Raises BadRequest for a malformed one (nothing relayed)."""
        self.frames_in += 1
        if me is None:
            self.dropped["off"] += 1
            return
        if me.expires is not None and time.time() >= me.expires:
            self.dropped["expired"] += 1
            return
        if not me.bucket.take(time.monotonic()):
            self.dropped["rate"] += 1
            return
        try:
            update = parse_awareness(body)
            editing = update.get("editing")
            if editing is not None and editing != me.checked_editing:
                if not await self._note_check(me.board, editing):
                    raise BadRequest(f"awareness: editing: note {editing} is not on this board")
                me.checked_editing = editing
        except BadRequest:
            self.dropped["invalid"] += 1
            raise
        room = self._rooms.get(me.board)
        if room is None or room.local.get(me.peer) is not me:
            return  # closed while the note was looked up
        me.state.update(update)
        me.dirty = True
        self._changed(me.board, room, me.peer, me)

    # -- other processes -------------------------------------------------------------------------------

    def remote(self, origin: str, board: str, lines: list[str]) -> None:
        """Lines from another process: `+<peer> <colour> <entry>` (changed) or `-<peer>` (gone)."""
        room = self._rooms.get(board)
        if room is None:
            room = self._rooms[board] = self._new_room()
        room.heard[origin] = time.monotonic()
        for line in lines:
            if line.startswith("+"):
                peer, colour, entry = line[1:].split(" ", 2)
                room.remote[peer] = (origin, colour, entry)
                self._changed(board, room, peer, entry)
            elif line.startswith("-"):
                peer = line[1:]
                if room.remote.pop(peer, None) is not None:
                    self._changed(board, room, peer, None)
            self.remote_in += 1

    def remote_gone(self, board: str, origin: str) -> None:
        """Another process left the board (its presence entry was withdrawn or expired): its peers are gone."""
        room = self._rooms.get(board)
        if room is None:
            return
        room.heard.pop(origin, None)
        for peer in [p for p, (o, _, _) in room.remote.items() if o == origin]:
            del room.remote[peer]
            self._changed(board, room, peer, None)

    def expire(self, ttl: float, listed: Callable[[str, str], bool]) -> None:
        """Drop the peers of processes not heard from for `ttl` seconds that presence does not list either
        (`listed(board, origin)`): a process that crashed before its presence entry got here. One that presence
        lists is looked at again `ttl` later: until then the roster answers for it (its entry's expiry calls
        `remote_gone`), and asking again every tick, for every quiet board and process, was 4% of a worker at
        100,000 sockets on 1,000 boards."""
        now = time.monotonic()
        for board, room in list(self._rooms.items()):
            for origin in [o for o, at in room.heard.items() if at + ttl < now]:
                if listed(board, origin):
                    room.heard[origin] = now
                else:
                    del room.heard[origin]
                    self.remote_gone(board, origin)

    def asked(self, board: str) -> None:
        """Another process just subscribed to the board: send it everything at the next tick."""
        room = self._rooms.get(board)
        if room is not None and room.local:
            room.republish = True
            self._schedule(board, room)

    def forget(self, board: str) -> None:
        """This process stopped listening to the board: the others' entries would only go stale."""
        room = self._rooms.get(board)
        if room is not None:
            room.remote.clear()
            room.heard.clear()
            if not room.local and not room.scheduled:
                del self._rooms[board]

    def peers(self, board: str) -> int:
        room = self._rooms.get(board)
        return len(room.local) + len(room.remote) if room else 0

    # -- the tick ----------------------------------------------------------------------------------------

    def _colour(self, room: _Room) -> str:
        used = Counter(lp.color for lp in room.local.values())
        used.update(colour for _, colour, _ in room.remote.values())
        start = self._rotation
        return min(PALETTE, key=lambda c: (used[c], (PALETTE.index(c) - start) % len(PALETTE)))

    def _changed(self, board: str, room: _Room, peer: str, what: LocalPeer | str | None) -> None:
        room.changed[peer] = what
        self._schedule(board, room)

    def _schedule(self, board: str, room: _Room) -> None:
        if room.scheduled:
            return
        room.scheduled = True
        loop = asyncio.get_running_loop()
        wait = room.last + self.tick - loop.time()
        if wait > 0:
            loop.call_later(wait, self._flush, board, room)
        else:
            loop.call_soon(self._flush, board, room)

    def _flush(self, board: str, room: _Room) -> None:
        room.scheduled = False
        room.last = asyncio.get_running_loop().time()
        changed, room.changed = room.changed, {}
        entries: dict[str, str] = {}
        gone: list[str] = []
        lines: list[str] = []
        publish = self.publish
        for peer, what in changed.items():
            if what is None:
                gone.append(peer)
            elif isinstance(what, str):
                entries[peer] = what
            else:
                entries[peer] = entry = what.encoded()
                self.entries_encoded += 1
                if publish is not None and not room.republish:
                    lines.append(f"+{peer} {what.color} {entry}")
        if publish is not None:
            lines += [f"-{peer}" for peer in room.local_gone]
            if room.republish:
                lines += [f"+{p} {lp.color} {lp.encoded()}" for p, lp in room.local.items()]
                room.republish = False
            if lines:
                publish(board, lines)
        room.local_gone = []
        if (entries or gone) and room.local:
            self._send(room, entries, gone)
        if not room.local and not room.remote and not room.changed and self._rooms.get(board) is room:
            del self._rooms[board]

    def _send(self, room: _Room, entries: dict[str, str], gone: list[str]) -> None:
        self.flushes += 1
        changes: dict[str, str | None] = dict(entries)
        changes.update(dict.fromkeys(gone))
        only_one = len(entries) == 1 and not gone
        room.relay.send(Joined(entries, gone), changes, list(room.local.values()), only_one)

    def _new_room(self) -> _Room:
        return _Room(Relay(self._chunk, self._count_out))

    def _count_out(self, pushed: int) -> None:
        self.frames_out += pushed
