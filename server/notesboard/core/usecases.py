"""The note use cases, shared by REST and the socket: validated commands -> the writer (one transaction) ->
published events. Transports translate their input into commands (`validate`) and the outcome back.

The rules a change obeys (not found, conflict, board cap, idempotent replay, restore) are `domain.decide`,
applied inside the write transaction (`storage`), where the rows they depend on are locked; this module
sequences whole operations: one change, a board delete, an import.
"""

from __future__ import annotations

import asyncio

from notesboard.contract.model import (
    BoardCleared,
    BoardPage,
    BoardSummary,
    CreateCommand,
    DeleteBoardCommand,
    NoteCommand,
    Outcome,
    Session,
    SessionCommand,
    SessionResult,
    VoteCommand,
    VoteResult,
    WriteOp,
    WriteResult,
)
from notesboard.contract.session import EMPTY_SESSION
from notesboard.storage import Store
from notesboard.storage.history_reads import HistoryPage, read_at, read_history
from notesboard.storage.writer import Writer

__all__ = ["ImportResult", "Notes"]


class ImportResult:
    __slots__ = ("board", "created", "seq", "skipped")

    def __init__(self, board: str, created: int, skipped: int, seq: int) -> None:
        self.board, self.created, self.skipped, self.seq = board, created, skipped, seq


class Notes:
    def __init__(self, store: Store, writer: Writer) -> None:
        self.store = store
        self.writer = writer

    def submit(
        self, board: str, command: NoteCommand | VoteCommand, author: str | None = None, owner: str | None = None
    ) -> asyncio.Future[Outcome]:
        """Queue a change without waiting (the socket pipelines its writes); resolves after commit. `owner`: who
        makes it (core/voters.py), whose a note written while private is."""
        return self.writer.submit(WriteOp(board, command, author, owner))

    async def change(self, board: str, command: NoteCommand, owner: str | None = None) -> WriteResult:
        """Make one change and wait for its commit (REST)."""
        result = await self.submit(board, command, None, owner)
        assert isinstance(result, WriteResult)
        return result

    async def delete_board(self, board: str, author: str | None) -> BoardCleared:
        """Delete every live note of the board: one tombstone and one event each, so `since` stays exact."""
        result = await self.writer.submit(WriteOp(board, DeleteBoardCommand(author)))
        assert isinstance(result, BoardCleared)
        return result

    async def import_notes(self, board: str, commands: list[CreateCommand]) -> ImportResult:
        """Create already-validated notes through the writer (live events); replays of earlier imports (same
        client_id) create nothing. All are queued before any is awaited, so they commit in few batches."""
        futures = [self.writer.submit(WriteOp(board, cmd)) for cmd in commands]
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        created = skipped = 0
        for outcome in outcomes:
            if isinstance(outcome, BaseException):  # a NotesError: unavailable, or the board cap
                raise outcome
            assert isinstance(outcome, WriteResult)
            if outcome.op is None:
                skipped += 1
            else:
                created += 1
        page = await self.store.read_notes(board, None, 1)
        return ImportResult(board, created, skipped, page.seq)

    async def session(self, board: str) -> Session:
        """The board's session (the empty one, version 0, when it never had one)."""
        return await self.store.read_session(board) or EMPTY_SESSION

    async def set_session(self, board: str, command: SessionCommand) -> SessionResult:
        """Replace the session through the writer: it takes the board's next seq, like a note change."""
        result = await self.writer.submit(WriteOp(board, command))
        assert isinstance(result, SessionResult)
        return result

    async def vote(self, board: str, command: VoteCommand) -> VoteResult:
        """One vote through the writer (the rules and the board's next seq, core/votes.py)."""
        result = await self.writer.submit(WriteOp(board, command))
        assert isinstance(result, VoteResult)
        return result

    async def votes(self, board: str) -> tuple[Session, dict[tuple[int, str], int]]:
        """The board's session and its current vote's tallies ((note, voter) -> votes)."""
        session = await self.session(board)
        return session, (await self.store.read_votes(board) if session["vote"] is not None else {})

    async def page(self, board: str, since: int | None, limit: int | None) -> BoardPage:
        return await self.store.read_notes(board, since, limit)

    async def boards(self, limit: int) -> list[BoardSummary]:
        return await self.store.list_boards(limit)

    async def history(self, board: str, since: int, limit: int, note_id: int | None = None) -> HistoryPage:
        """The board's changes after `since` as committed (the change log), or one note's (its versions)."""
        return await read_history(self.store, board, since, limit, note_id)

    async def page_at(self, board: str, at: int, limit: int) -> BoardPage:
        """The board's live notes right after seq `at` (BadRequest when the log cannot rebuild it)."""
        return await read_at(self.store, board, at, limit)
