"""What `/y/` sockets use of the runtime: the rooms, the announcer, and opening a note's document."""

from __future__ import annotations

import logging
from collections.abc import Callable

from notesboard.contract.errors import NotesError, NotFound
from notesboard.contract.model import WriteResult, YUpdateCommand
from notesboard.core.usecases import Notes
from notesboard.fanout.hub import Hub
from notesboard.ingress.registry import Registry
from notesboard.runtime.config import Settings
from notesboard.storage import Store
from notesboard.ytext.announce import Announcer
from notesboard.ytext.room import Rooms

__all__ = ["YText"]

log = logging.getLogger("notesboard.ytext")


class YText:
    def __init__(
        self,
        settings: Settings,
        hub: Hub,
        store: Store,
        notes: Notes,
        registry: Registry,
        error: Callable[[str], None],
    ) -> None:
        self.settings = settings
        self.store = store
        self.notes = notes
        self.registry = registry
        self.error = error  # counts an error by code (metrics)
        self.announcer = Announcer(notes, settings.ytext_announce_window)
        self.rooms = Rooms(hub, store, self.announcer.flush)
        self.updates = 0  # Yjs updates received (metrics)
        self.commits = 0  # commits of them (several merged into one when they arrive while one commits)

    async def open(self, board: str, note_id: int) -> tuple[bytes, int]:
        """The note's committed document and seq; NotFound (a 404 at the handshake) for a missing or deleted
        note or one on another board. A note that has only plain text gets its document made and stored
        (through the writer) before anyone sees it, so no two processes or restarts can hand out another."""
        found = await self.store.read_ydoc(note_id)
        if found is None or found[0]["deleted"] or found[0]["board"] != board:
            raise NotFound(f"note {note_id} not found on board {board}")
        note, state = found
        if state is None:
            outcome = await self.notes.submit(board, YUpdateCommand(note_id, {}, None, None))
            assert isinstance(outcome, WriteResult) and outcome.ystate is not None
            state = outcome.ystate
        return state, note["seq"]

    async def start(self) -> None:
        """At start-up (the writer running): announce what a stopped process left due. A failure is logged,
        not fatal: the flags stay set for the next start (the text itself is already committed)."""
        try:
            await self.announcer.sweep(await self.store.pending_ydocs())
        except NotesError as exc:
            log.warning("could not announce the notes a stopped process left due: %s", exc.message)
