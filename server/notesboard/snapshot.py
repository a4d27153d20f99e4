"""The first frame of a connection: a full snapshot, or the changes since the client's `since`.

`SharedReads` lets the connects and resumes of one board share database reads (a reconnect storm brings
a board's clients back within a second or two of each other). The rule that keeps it race-free: a
connection may only use a read that *starts after* it joined the hub. Events committed before the read
began are then in the read, and every later one reaches the connection live (held while SYNCING, and
those at or below the snapshot's seq dropped). So a request never joins a read already in flight: it joins
the board's next read, which starts when the one in flight ends. Per board and kind (changes, fresh) there
is at most one read in flight and one gathering requests; a changes read asks from the lowest `since` of
its requests and each gets the notes above its own, a fresh read asks for the largest `limit` and each
keeps the newest of its own.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial

from notesboard.model import BoardPage, Note
from notesboard.storage import Store

__all__ = ["SharedReads", "Snapshot", "read_snapshot"]


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


@dataclass(slots=True)
class _Read:
    """One database read and the requests it serves; `since`/`limit` widen until it starts."""

    since: int | None  # changes read: the lowest since asked; fresh read: None
    limit: int | None  # fresh read: the largest limit asked; changes read: None (uncapped)
    task: asyncio.Task[BoardPage] | None = None


class SharedReads:
    """Snapshot reads shared by the connections of a board that ask at about the same time (see above)."""

    def __init__(self, store: Store, *, share: bool = True) -> None:
        self._store = store
        self._share = share  # off (the `share_snapshot_reads` setting): one read per request, as before
        self._open: dict[tuple[str, bool], _Read] = {}  # gathering requests, not started yet
        self._last: dict[tuple[str, bool], _Read] = {}  # the newest read of the key (open or in flight)
        self.reads = 0  # database reads made
        self.requests = 0  # reads asked for (the difference was shared)

    async def snapshot(self, board: str, since: int | None, epoch: str | None, limit: int) -> Snapshot:
        """As `read_snapshot`; call it only after the connection joined the hub."""
        if not self._share:
            self.requests += 1
            self.reads += 1
            return await read_snapshot(self._store, board, since, epoch, limit)
        if since is not None and (epoch is None or epoch == self._store.epoch):
            page = await self._page(board, since, None)
            if since <= page.seq:
                return Snapshot(page.epoch, page.seq, [n for n in page.notes if n["seq"] > since], False)
        page = await self._page(board, None, limit)
        notes = page.notes[-limit:] if len(page.notes) > limit else page.notes
        return Snapshot(page.epoch, page.seq, notes, since is not None, page.more or len(notes) < len(page.notes))

    async def _page(self, board: str, since: int | None, limit: int | None) -> BoardPage:
        self.requests += 1
        key = (board, since is not None)
        read = self._open.get(key)
        if read is None:
            read = _Read(since, limit)
            read.task = asyncio.get_running_loop().create_task(self._run(key, read, self._last.get(key)))
            read.task.add_done_callback(partial(self._done, key, read))
            self._open[key] = self._last[key] = read
        else:
            if since is not None and read.since is not None:
                read.since = min(read.since, since)
            if limit is not None and read.limit is not None:
                read.limit = max(read.limit, limit)
        assert read.task is not None
        # Shielded: a connection that leaves while waiting must not cancel the read the others wait for.
        return await asyncio.shield(read.task)

    async def _run(self, key: tuple[str, bool], read: _Read, before: _Read | None) -> BoardPage:
        if before is not None and before.task is not None and not before.task.done():
            await asyncio.wait([before.task])  # one read in flight per key: the next starts when it ends
        if self._open.get(key) is read:
            del self._open[key]  # from here on a request needs a read that starts later
        self.reads += 1
        return await self._store.read_notes(key[0], read.since, read.limit)

    def _done(self, key: tuple[str, bool], read: _Read, task: asyncio.Task[BoardPage]) -> None:
        if self._last.get(key) is read:
            del self._last[key]
        if self._open.get(key) is read:  # cancelled before it started
            del self._open[key]
        if not task.cancelled():
            task.exception()  # retrieved here too: every waiter may have left
