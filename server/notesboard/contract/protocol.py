"""Wire frames: the contract's message shapes and their JSON encoding (pure, no I/O).

Every server frame is built here and encoded once with orjson; the fan-out shares that one string among
all the connections of a board.
"""

from __future__ import annotations

from typing import Any

import orjson

from notesboard.contract.errors import NotesError
from notesboard.contract.model import Note, Op, Session

__all__ = [
    "PONG",
    "Note",
    "Op",
    "Session",
    "ack_frame",
    "change_op",
    "decode",
    "encode",
    "error_frame",
    "event_frame",
    "presence_frame",
    "render",
    "session_frame",
    "snapshot_frame",
    "split_frame",
]


def encode(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def decode(data: str | bytes) -> Any:
    """Parse JSON; raises orjson.JSONDecodeError (a ValueError) on bad input."""
    return orjson.loads(data)


PONG = encode({"type": "pong"})

# A frame whose content depends on the reader (a vote while tallies are hidden): SPLIT, the owner's key, the
# owner's frame and everyone else's, joined by SPLIT. Encoded JSON never holds a raw U+001F (orjson escapes
# control characters), so the marker cannot occur in a frame, and a split frame crosses the broker as one
# line like any other. Only `render` turns it into what a connection receives.
SPLIT = "\x1f"


def split_frame(owner: str, own: str, other: str) -> str:
    return f"{SPLIT}{owner}{SPLIT}{own}{SPLIT}{other}"


def render(frame: str, reader: str | None) -> str:
    """The frame as `reader` (a voter key, None for nobody) receives it: itself unless it is a split frame."""
    if not frame.startswith(SPLIT):
        return frame
    _, owner, own, other = frame.split(SPLIT, 3)
    return own if reader is not None and reader == owner else other


def snapshot_frame(
    board: str,
    epoch: str,
    seq: int,
    notes: list[Note],
    presence: int,
    reset: bool,
    more: bool = False,
    session: Session | None = None,
    votes: dict[str, Any] | None = None,
) -> str:
    frame = {
        "type": "snapshot",
        "board": board,
        "epoch": epoch,
        "seq": seq,
        "notes": notes,
        "presence": presence,
        "reset": reset,
        "more": more,
    }
    if session is not None:  # only boards that have one: older clients see the snapshot they know
        frame["session"] = session
    if votes is not None:  # the board's vote as this reader may see it (contract/votes.py `votes_view`)
        frame["votes"] = votes
    return encode(frame)


def session_frame(seq: int, session: Session, totals: dict[int, int] | None = None) -> str:
    """A committed session change: it took the board's seq `seq` like a note event. `totals`: every note's
    votes, when they may be seen (a closed vote, or an open one whose tallies are not hidden)."""
    frame: dict[str, Any] = {"type": "session", "seq": seq, "session": session}
    if totals is not None:
        frame["votes"] = {str(k): v for k, v in sorted(totals.items())}
    return encode(frame)


def change_op(note: Note) -> Op:
    """The change that gave a note its current seq, read from the note alone (exact unless a later change
    superseded it; a restore reads as "updated"): how a change read back from the database is announced."""
    return "deleted" if note["deleted"] else "created" if note["version"] == 1 else "updated"


def event_frame(op: Op, note: Note) -> str:
    return encode({"type": "event", "op": op, "seq": note["seq"], "note": note})


def ack_frame(client_id: str | None, seq: int, note: Note) -> str:
    return encode({"type": "ack", "client_id": client_id, "seq": seq, "note": note})


def error_frame(error: NotesError) -> str:
    return encode({"type": "error", "code": error.code, "message": error.message, "client_id": error.client_id})


def presence_frame(count: int, names: list[str]) -> str:
    return encode({"type": "presence", "count": count, "names": names})
