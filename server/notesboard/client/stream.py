"""Seq and epoch tracking: the client half of the contract's ordering and resume rules.

A board's changes are numbered 1, 2, 3...; a client that has seen up to `seq` of `epoch` resumes with
`?since=seq&epoch=epoch` and gets, in its snapshot, every change it missed in seq order (or `reset: true`
with the whole board when the server cannot tell, e.g. a new database). After that, each event must be the
next seq: a lower one is a repeat (skip it), a higher one means a gap (resume to fill it).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

__all__ = ["ProtocolError", "SeqTracker", "SnapshotKind", "Verdict", "event_op"]


def event_op(note: dict[str, Any]) -> str:
    """The event op of a change a resume snapshot brings (it carries the note, not the op)."""
    if note.get("deleted"):
        return "deleted"
    return "created" if note.get("version") == 1 else "updated"


class ProtocolError(Exception):
    """The server broke the contract (a resume snapshot out of order, a snapshot that is not first...)."""


class Verdict(Enum):
    NEXT = "next"  # the next seq: apply it
    REPEAT = "repeat"  # already seen: skip it
    GAP = "gap"  # later than the next: some were missed, resume


class SnapshotKind(Enum):
    FRESH = "fresh"  # the board as it is (no since/epoch asked)
    RESUMED = "resumed"  # only the changes after `since`, in order
    RESET = "reset"  # the server could not resume: the whole board replaces what the client had


class SeqTracker:
    """How far a client got on one board, and what each snapshot and event means for it.

    `since` starts a tracker at a seq it has not seen the epoch of (e.g. `notesboard tail --since`).
    """

    def __init__(self, since: int | None = None) -> None:
        self.seq = since or 0
        self.epoch: str | None = None
        self._since = since
        self.missed: list[int] = []  # seqs the last resume snapshot brought

    def resume_query(self) -> dict[str, Any]:
        """The query that continues from here: since + epoch once a snapshot was seen, else only since."""
        if self.epoch is not None:
            return {"since": self.seq, "epoch": self.epoch}
        return {"since": self._since} if self._since is not None else {}

    def snapshot(self, frame: dict[str, Any], asked: dict[str, Any] | None = None) -> SnapshotKind:
        """Take a snapshot frame; ProtocolError if a resume is out of order or older than asked.

        `asked`: the since/epoch the socket was opened with, when not this tracker's `resume_query()`.
        """
        if frame.get("type") != "snapshot":
            raise ProtocolError(f"expected a snapshot first, got {frame.get('type')!r}")
        asked = self.resume_query() if asked is None else asked
        seq = int(frame["seq"])
        self.missed = []
        if not asked:
            kind = SnapshotKind.FRESH
        elif frame.get("reset"):
            kind = SnapshotKind.RESET
        else:
            if "epoch" in asked and frame["epoch"] != asked["epoch"]:
                raise ProtocolError(f"resumed in epoch {frame['epoch']}, asked for {asked['epoch']}")
            missed = [int(n["seq"]) for n in frame["notes"]]
            if missed != sorted(missed) or any(s <= int(asked["since"]) for s in missed):
                raise ProtocolError(f"resume after {asked['since']} brought seqs {missed[:10]}...")
            self.missed = missed
            kind = SnapshotKind.RESUMED
        self.epoch = str(frame["epoch"])
        self.seq = seq
        return kind

    def event(self, frame: dict[str, Any]) -> Verdict:
        """Take an event frame: NEXT advances the seq; REPEAT and GAP leave it where it is."""
        seq = int(frame["seq"])
        if seq <= self.seq:
            return Verdict.REPEAT
        if seq > self.seq + 1:
            return Verdict.GAP
        self.seq = seq
        return Verdict.NEXT
