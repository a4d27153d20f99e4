"""Test doubles for the backplane: a store that keeps notes in memory, and a strict subscriber.

The fake store keeps what the real one keeps (each note's latest state, a seq per board), so a change that a
later change to the same note superseded is gone from it, as it is from the database.
"""

from __future__ import annotations

from typing import Any

from notesboard.contract.errors import Unavailable
from notesboard.contract.model import BoardPage
from notesboard.contract.protocol import Note, Op, event_frame


class FakeStore:
    def __init__(self) -> None:
        self.epoch = "fake-epoch"
        self.seqs: dict[str, int] = {}
        self.notes: dict[int, Note] = {}
        self.reads = 0
        self.down = False
        self.private: dict[int, str] = {}  # note id -> its writer, while its board's writing is private

    def change(self, board: str, note_id: int | None = None, text: str = "x") -> tuple[int, str]:
        """Commit a create (note_id None) or an update; returns (seq, event frame)."""
        seq = self.seqs[board] = self.seqs.get(board, 0) + 1
        op: Op
        if note_id is None:
            note_id = len(self.notes) + 1
            note: Note = {
                "id": note_id,
                "board": board,
                "text": text,
                "author": None,
                "color": None,
                "x": None,
                "y": None,
                "version": 1,
                "seq": seq,
                "created_at": "2026-01-01T00:00:00.000Z",
                "updated_at": "2026-01-01T00:00:00.000Z",
                "deleted": False,
            }
            op = "created"
        else:
            old = self.notes[note_id]
            note = {**old, "text": text, "version": old["version"] + 1, "seq": seq}
            op = "updated"
        self.notes[note_id] = note
        return seq, event_frame(op, note)

    async def read_notes(self, board: str, since: int | None, limit: int | None) -> BoardPage:
        self.reads += 1
        if self.down:
            raise Unavailable("database unavailable: fake")
        found = sorted(
            (n for n in self.notes.values() if n["board"] == board and n["seq"] > (since or 0)), key=lambda n: n["seq"]
        )
        private = {i: who for i, who in self.private.items() if self.notes[i]["board"] == board}
        return BoardPage(board, self.epoch, self.seqs.get(board, 0), found, False, private)

    async def board_seqs(self, boards: list[str]) -> dict[str, int]:
        if self.down:
            raise Unavailable("database unavailable: fake")
        return {b: self.seqs[b] for b in boards if b in self.seqs}


class Sub:
    """A hub subscriber that records the seqs it gets and notes any gap (a real client would resume)."""

    def __init__(self, board: str, seq: int = 0, batch: bool = False, voter: str | None = None) -> None:
        self.board = board
        self.voter = voter  # whose votes and private notes it may see (the hub renders split frames by it)
        self.batch = batch
        self.seq = seq
        self.got: list[int] = []
        self.gaps: list[tuple[int, int]] = []
        self.resynced = False
        self.frames: list[str] = []

    def send_events(self, first: int, last: int, frames: list[tuple[int, str]], chunk: str | None) -> None:
        if self.resynced:
            return
        for seq, frame in frames:
            if seq <= self.seq:
                continue
            if seq != self.seq + 1:
                self.gaps.append((self.seq, seq))
            self.seq = seq
            self.got.append(seq)
            self.frames.append(frame)

    def send_frame(self, frame: str) -> None:
        self.frames.append(frame)

    def resync(self) -> None:
        self.resynced = True


def presence_frames(sub: Sub) -> list[dict[str, Any]]:
    import orjson

    return [f for f in map(orjson.loads, sub.frames) if f["type"] == "presence"]
