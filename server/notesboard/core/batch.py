"""What a write batch reads and what it decides (`domain.decide`), as plain data shared by the rules of
`core/` (domain, votes, privacy) and the SQL of `storage/sql.py` that loads and persists them."""

from __future__ import annotations

from dataclasses import dataclass, field

from notesboard.contract.errors import NotesError
from notesboard.contract.model import Note, Outcome, Session, WriteResult

__all__ = ["Loaded", "Needs", "Plan", "Tallies"]

Tallies = dict[tuple[int, str], int]  # (note id, voter) -> that voter's votes on the note


@dataclass(slots=True, frozen=True)
class Needs:
    """What a batch reads before deciding."""

    boards: list[str]  # every board the batch touches, sorted (their rows are locked)
    created_on: list[str]  # boards with a create: made if absent (within the cap)
    ids: list[int]  # notes updated, deleted or restored
    cleared: list[str]  # boards deleted: their live notes are read
    client_ids: list[tuple[str, str]]  # (board, client_id) of creates: an earlier create with one is a replay
    creates: int  # fresh note ids to reserve
    text_ids: list[int] = field(default_factory=list)  # notes whose text changes: their Yjs documents are read
    sessions: list[str] = field(default_factory=list)  # boards whose session or votes change: sessions are read
    tallies: list[str] = field(default_factory=list)  # boards with votes or a session change: their tallies
    vote_ids: list[tuple[str, str]] = field(default_factory=list)  # (board, client_id) of votes: replays
    # (the session boards are also the ones whose private notes are read, if private: a reveal may come)


@dataclass(slots=True)
class Loaded:
    """The rows a batch depends on, as the store read them inside the write transaction."""

    seqs: dict[str, int]  # board -> seq, for the boards that exist (or were just made)
    live: dict[str, int]  # board -> live notes
    notes: dict[int, Note] = field(default_factory=dict)  # by id: targets, and live notes of cleared boards
    known: dict[tuple[str, str], WriteResult] = field(default_factory=dict)  # (board, client_id) -> first create
    fresh_ids: list[int] = field(default_factory=list)  # one per create, ascending
    ydocs: dict[int, bytes] = field(default_factory=dict)  # note id -> its Yjs document (notes that have one)
    ypending: set[int] = field(default_factory=set)  # notes whose latest Yjs commits await their announce
    sessions: dict[str, Session] = field(default_factory=dict)  # board -> its stored session (absent: none yet)
    tallies: dict[str, Tallies] = field(default_factory=dict)  # board -> its current vote's tallies (if read)
    votes: dict[tuple[str, str], tuple[int, str, int, int]] = field(default_factory=dict)
    # ^ (board, client_id) -> (note id, voter, delta, seq) of a vote made before: a replay answers it again
    private_boards: set[str] = field(default_factory=set)  # boards whose writing is private now
    private: dict[int, str] = field(default_factory=dict)  # private note id -> its writer (of the notes read)


@dataclass(slots=True)
class Plan:
    """What to persist, and each op's outcome in order."""

    results: list[Outcome | NotesError] = field(default_factory=list)
    inserts: list[tuple[Note, str | None]] = field(default_factory=list)  # new notes and their client_id
    dirty: dict[int, Note] = field(default_factory=dict)  # notes changed (by id)
    boards: list[tuple[str, int, int]] = field(default_factory=list)  # (board, seq, live) of touched boards
    cleared: list[str] = field(default_factory=list)  # boards deleted (their deleted_at is set)
    ydocs: dict[int, bytes] = field(default_factory=dict)  # Yjs documents to store (note id -> state)
    ydocs_dropped: set[int] = field(default_factory=set)  # notes deleted: their Yjs documents go (before ydocs)
    ypending: set[int] = field(default_factory=set)  # of `ydocs`, those stored with their announce pending
    purged: list[int] = field(default_factory=list)  # notes whose texts the history forgets
    sessions: dict[str, tuple[Session, int]] = field(default_factory=dict)  # board -> (new session, its seq)
    votes: list[tuple[str, int, int, str, int, str | None]] = field(default_factory=list)
    # ^ votes to insert: (board, seq, note id, voter, delta, client_id)
    votes_cleared: list[str] = field(default_factory=list)  # boards whose votes go (a new vote, or none)
    votes_dropped: set[int] = field(default_factory=set)  # deleted notes: their votes go
    private_new: list[tuple[int, str, str]] = field(default_factory=list)  # (note id, board, owner) made private
    private_cleared: list[str] = field(default_factory=list)  # boards revealed: their private rows go
    private_flags: dict[str, bool] = field(default_factory=dict)  # boards whose writing turned private (or not)
