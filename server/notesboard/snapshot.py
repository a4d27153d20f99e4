"""The first frame of a connection: a full snapshot, or the changes since the client's `since`."""

from __future__ import annotations

from dataclasses import dataclass

from notesboard.model import Note
from notesboard.storage import Store

__all__ = ["Snapshot", "read_snapshot"]


@dataclass(slots=True)
class Snapshot:
    epoch: str
    seq: int
    notes: list[Note]
    reset: bool
    more: bool = False  # live notes were left out of a fresh snapshot (the socket's `limit=` asks for more)


async def read_snapshot(store: Store, board: str, since: int | None, epoch: str | None, limit: int) -> Snapshot:
    """Honour `since` when the epoch matches (or is absent) and it is not ahead of the board; else reset.

    Resume reads are not capped: a client that asks for the changes since N gets all of them, tombstones
    included, so it can apply them in order.
    """
    if since is not None and (epoch is None or epoch == store.epoch):
        page = await store.read_notes(board, since, None)
        if since <= page.seq:
            return Snapshot(page.epoch, page.seq, page.notes, False)
    page = await store.read_notes(board, None, limit)
    return Snapshot(page.epoch, page.seq, page.notes, since is not None, page.more)
