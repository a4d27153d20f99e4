"""The types that cross layers: the note, the commands a transport validated, and what the writer and the
reads hand back. Plain data, no behaviour and no imports from the rest of the package but the field limits
(`fields`), so every layer (validate, domain, storage, writer, transports, backplane) can share them without
depending on each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, NotRequired, TypedDict

from notesboard.contract.fields import DEFAULT_H, DEFAULT_W, DEFAULT_Z

__all__ = [
    "DEFAULT_H",
    "DEFAULT_W",
    "DEFAULT_Z",
    "BoardCleared",
    "BoardPage",
    "BoardSummary",
    "Command",
    "CreateCommand",
    "DeleteBoardCommand",
    "DeleteCommand",
    "Note",
    "NoteCommand",
    "Op",
    "Outcome",
    "Ping",
    "Session",
    "SessionCommand",
    "SessionResult",
    "Timer",
    "UpdateCommand",
    "Vote",
    "VoteCommand",
    "VoteResult",
    "WriteOp",
    "WriteResult",
    "YUpdateCommand",
    "now_iso",
]

Op = Literal["created", "updated", "deleted"]


class Note(TypedDict):
    id: int
    board: str
    text: str
    author: str | None
    color: str | None
    x: float | None
    y: float | None
    w: float
    h: float
    z: int
    version: int
    seq: int
    created_at: str
    updated_at: str
    deleted: bool
    updated_by: str | None
    kind: str  # fields.KINDS: "note" or "section"
    # Only on a note written while its board's writing is private (core/privacy.py), as one reader sees it:
    hidden: NotRequired[bool]  # someone else's: its text is empty until the reveal
    private: NotRequired[bool]  # your own: nobody else sees its text until the reveal


# -- the board session (contract/session.py parses it) ---------------------------------------------------


class Vote(TypedDict):
    open: bool
    budget: int
    hidden: bool
    multiple: bool


class Timer(TypedDict):
    ends_at: str | None  # RFC 3339 UTC, milliseconds, "Z": running until then
    paused_left: float | None  # seconds left while paused


class Session(TypedDict):
    vote: Vote | None
    writing: Literal["open", "private"]
    timer: Timer | None
    version: int  # 0: the board never had a session


def now_iso() -> str:
    """The timestamp format of `created_at`/`updated_at` (UTC, milliseconds, `Z`)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- commands (validate.py builds them) ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateCommand:
    text: str
    client_id: str | None
    color: str | None
    x: float | None
    y: float | None
    author: str | None
    w: float = DEFAULT_W
    h: float = DEFAULT_H
    z: int = DEFAULT_Z
    kind: str = "note"  # fields.KINDS


@dataclass(frozen=True, slots=True)
class UpdateCommand:
    id: int
    changes: dict[str, Any]  # only the fields the client sent; None clears color/x/y
    version: int | None
    client_id: str | None
    restore: bool = False  # "deleted": false: bring a tombstone back (undo of a delete)
    author: str | None = None  # REST: who made the change (`updated_by`); the socket uses its name=


@dataclass(frozen=True, slots=True)
class YUpdateCommand(UpdateCommand):
    """A Yjs update to a note's text (`/y/{board}/{id}`); an empty `update` only makes sure the note has its
    document (built from its plain text) and answers its state. See ytext/."""

    update: bytes = b""
    max_text: int = 10_000
    # False: commit the document and the note's text only, leaving version, seq and the `updated` event to a
    # later announce (a YUpdateCommand with announce=True), so v1 clients get at most one event per window.
    announce: bool = True


@dataclass(frozen=True, slots=True)
class DeleteCommand:
    id: int
    version: int | None
    client_id: str | None
    author: str | None = None
    purge: bool = False  # REST ?purge=true: the note's earlier texts are blanked in the history too


@dataclass(frozen=True, slots=True)
class DeleteBoardCommand:
    """Delete every live note of a board (REST `DELETE /api/boards/{board}`); text is not kept."""

    author: str | None = None
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class Ping:
    pass


@dataclass(frozen=True, slots=True)
class SessionCommand:
    """Replace a board's session (REST PUT); `version`: the one it was based on (None: whatever it is)."""

    session: Session
    version: int | None
    max_timer: float  # seconds a timer may run or hold (settings.max_timer), checked against the clock
    author: str | None = None
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class VoteCommand:
    """Put one of `voter`'s votes on note `id` (delta 1) or take one back (-1), while the board's vote is open.

    `voter` is who the budget is counted for (`core/voters.py`); a transport fills it in, never the client's body.
    """

    id: int
    delta: int  # 1 or -1
    client_id: str | None
    voter: str = ""
    author: str | None = None


NoteCommand = CreateCommand | UpdateCommand | DeleteCommand
Command = NoteCommand | VoteCommand | Ping  # what a socket frame can be


# -- writes and reads ------------------------------------------------------------------------------------


@dataclass(slots=True)
class WriteOp:
    """One change waiting for the writer."""

    board: str
    command: NoteCommand | DeleteBoardCommand | SessionCommand | VoteCommand
    author: str | None = None  # a socket's display name; REST passes it in the command
    owner: str | None = None  # who makes it (core/voters.py): a note written while private is theirs alone


@dataclass(slots=True)
class WriteResult:
    """A committed change. `op` is None for the replay of an idempotent create (nothing new happened)."""

    note: Note
    seq: int
    op: Op | None
    ystate: bytes | None = None  # the note's Yjs document after the change, when the change went through it
    owner: str | None = None  # the note is private (written while the board's writing is private): whose it is


@dataclass(slots=True)
class BoardCleared:
    """A committed board delete: one tombstone (and event) per note that was live, in seq order."""

    board: str
    seq: int
    deleted: list[WriteResult]


@dataclass(slots=True)
class SessionResult:
    """A committed session change: the board's next seq, the session with its new version."""

    board: str
    seq: int
    session: Session
    # Every note's vote total when the tallies may be seen (a vote that is closed, or open and not hidden),
    # else None: what the `session` frame carries as "votes".
    totals: dict[int, int] | None = None
    # The reveal (private writing switched to open): every private live note, now everyone's, with the seqs
    # that follow the session's; announced as `updated` events after it.
    revealed: list[WriteResult] = field(default_factory=list)


@dataclass(slots=True)
class VoteResult:
    """A committed vote (or the replay of one by its client_id: `replay`, nothing new to announce)."""

    board: str
    seq: int
    note_id: int
    voter: str
    delta: int
    total: int  # the note's votes, everyone's
    mine: int  # the voter's votes on the note
    left: int  # the voter's votes left in this vote
    hidden: bool  # the vote's tallies are hidden: only the voter learns where it went
    replay: bool = False


Outcome = WriteResult | BoardCleared | SessionResult | VoteResult


@dataclass(slots=True)
class BoardPage:
    board: str
    epoch: str
    seq: int
    notes: list[Note]
    more: bool
    private: dict[int, str] = field(default_factory=dict)  # private note id -> its writer (core/privacy.py)


@dataclass(slots=True)
class BoardSummary:
    board: str
    notes: int
    seq: int
