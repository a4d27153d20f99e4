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
    "session_frame",
    "snapshot_frame",
]


def encode(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def decode(data: str | bytes) -> Any:
    """Parse JSON; raises orjson.JSONDecodeError (a ValueError) on bad input."""
    return orjson.loads(data)


PONG = encode({"type": "pong"})


def snapshot_frame(
    board: str,
    epoch: str,
    seq: int,
    notes: list[Note],
    presence: int,
    reset: bool,
    more: bool = False,
    session: Session | None = None,
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
    return encode(frame)


def session_frame(seq: int, session: Session) -> str:
    """A committed session change: it took the board's seq `seq` like a note event."""
    return encode({"type": "session", "seq": seq, "session": session})


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
