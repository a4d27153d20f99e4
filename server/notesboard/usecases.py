"""The note use cases, shared by REST and the socket: validate -> write (one transaction) -> publish.

Transports translate their input into validated commands (`validate`), call these, and translate the
outcome back. Nothing about notes is decided anywhere else.
"""

from __future__ import annotations

import asyncio

from notesboard.store import BoardPage, BoardSummary, Store, WriteOp, WriteResult
from notesboard.validate import CreateCommand, DeleteCommand, UpdateCommand
from notesboard.writer import Writer

__all__ = ["Notes"]


class Notes:
    def __init__(self, store: Store, writer: Writer) -> None:
        self.store = store
        self.writer = writer

    def submit(
        self, board: str, command: CreateCommand | UpdateCommand | DeleteCommand, author: str | None = None
    ) -> asyncio.Future[WriteResult]:
        """Queue a change without waiting (the socket pipelines its writes); resolves after commit."""
        return self.writer.submit(WriteOp(board, command, author))

    async def change(self, board: str, command: CreateCommand | UpdateCommand | DeleteCommand) -> WriteResult:
        """Make one change and wait for its commit (REST)."""
        return await self.submit(board, command)

    async def page(self, board: str, since: int | None, limit: int | None) -> BoardPage:
        return await self.store.read_notes(board, since, limit)

    async def boards(self, limit: int) -> list[BoardSummary]:
        return await self.store.list_boards(limit)
