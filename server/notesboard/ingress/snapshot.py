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

The newest fresh read of a board with connections is also *kept* in the board's hub room (`cache_bytes`:
all boards' kept pages together at most that size) and serves the board's next connects without a database
read until the board changes.
It obeys the same rule: the hub drops it on every change it sees for the board (an event queued, a resync,
the last local connection leaving), and a read is kept only if nothing changed from its start to its end.
A connection served from it joined the hub after the read started and nothing reached the hub since, so
every event the read did not see reaches the connection live, as after a read of its own.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import partial

from notesboard.contract.model import BoardPage, Note, Session
from notesboard.fanout.hub import Hub
from notesboard.storage import Store

__all__ = ["SharedReads", "Snapshot", "read_snapshot"]


@dataclass(slots=True)
class Snapshot:
    epoch: str
    seq: int
    notes: list[Note]
    reset: bool
    more: bool = False  # live notes were left out of a fresh snapshot (the socket's `limit=` asks for more)
    private: dict[int, str] = field(default_factory=dict)  # private note id -> its writer (core/privacy.py)


async def read_snapshot(store: Store, board: str, since: int | None, epoch: str | None, limit: int) -> Snapshot:
    """Honour `since` when the epoch matches (or is absent) and it is not ahead of the board; else reset.

    Resume reads are not capped: a client that asks for the changes since N gets all of them, tombstones
    included, so it can apply them in order.
    """
    if since is not None and (epoch is None or epoch == store.epoch):
        page = await store.read_notes(board, since, None)
        if since <= page.seq:
            return Snapshot(page.epoch, page.seq, page.notes, False, False, page.private)
    page = await store.read_notes(board, None, limit)
    return Snapshot(page.epoch, page.seq, page.notes, since is not None, page.more, page.private)


@dataclass(slots=True)
class _Read:
    """One database read and the requests it serves; `since`/`limit` widen until it starts."""

    since: int | None  # changes read: the lowest since asked; fresh read: None
    limit: int | None  # fresh read: the largest limit asked; changes read: None (uncapped)
    task: asyncio.Task[BoardPage] | None = None


@dataclass(slots=True)
class _Kept:
    """A board's newest fresh page, as read with `limit` (kept in its hub room while nothing changes), and
    the board's session once a read of it ended with nothing changed (`SharedReads.session`)."""

    page: BoardPage
    limit: int
    session: Session | None = None
    has_session: bool = False

    def snapshot(self, since: int | None, epoch: str | None, limit: int) -> Snapshot | None:
        """What `read_snapshot` would give from this page, or None when it needs the database."""
        page = self.page
        if since is not None and (epoch is None or epoch == page.epoch) and since <= page.seq:
            if since < page.seq:
                return None  # the changes since: tombstones too, which a fresh page does not hold
            return Snapshot(page.epoch, page.seq, [], False)
        if len(page.notes) > limit:
            return Snapshot(page.epoch, page.seq, page.notes[-limit:], since is not None, True, page.private)
        if page.more and limit > self.limit:
            return None  # asks for more than was read
        return Snapshot(page.epoch, page.seq, page.notes, since is not None, page.more, page.private)


def page_bytes(page: BoardPage) -> int:
    """About what a page costs in memory (its texts, and ~300 bytes for each note's other fields)."""
    return sum(len(n["text"]) + 300 for n in page.notes)


class SharedReads:
    """Snapshot reads shared by the connections of a board that ask at about the same time (see above)."""

    def __init__(self, store: Store, hub: Hub, *, share: bool = True, cache_bytes: int = 0) -> None:
        self._store = store
        self._hub = hub
        self._share = share  # off (the `share_snapshot_reads` setting): one read per request, as before
        self._cache_bytes = cache_bytes if share else 0  # what all kept pages may take together (0: none)
        self._open: dict[tuple[str, bool], _Read] = {}  # gathering requests, not started yet
        self._last: dict[tuple[str, bool], _Read] = {}  # the newest read of the key (open or in flight)
        self.reads = 0  # database reads made
        self.requests = 0  # reads asked for (the difference was shared or kept)
        self.kept_hits = 0  # requests answered from a kept page
        self.session_hits = 0  # sessions answered from beside a kept page

    async def snapshot(self, board: str, since: int | None, epoch: str | None, limit: int) -> Snapshot:
        """As `read_snapshot`; call it only after the connection joined the hub."""
        kept: _Kept | None = self._hub.kept(board) if self._cache_bytes else None
        if kept is not None and kept.page.epoch == self._store.epoch:
            snap = kept.snapshot(since, epoch, limit)
            if snap is not None:
                self.requests += 1
                self.kept_hits += 1
                return snap
        if not self._share:
            self.requests += 1
            self.reads += 1
            return await read_snapshot(self._store, board, since, epoch, limit)
        if since is not None and (epoch is None or epoch == self._store.epoch):
            page = await self._page(board, since, None)
            if since <= page.seq:
                return Snapshot(
                    page.epoch, page.seq, [n for n in page.notes if n["seq"] > since], False, False, page.private
                )
        page = await self._page(board, None, limit)
        notes = page.notes[-limit:] if len(page.notes) > limit else page.notes
        more = page.more or len(notes) < len(page.notes)
        return Snapshot(page.epoch, page.seq, notes, since is not None, more, page.private)

    async def session(self, board: str) -> Session | None:
        """The board's session (call it after `snapshot`): kept beside the board's kept page, so the connects
        of a board that does not change read it once. Every session change is a change of the board, which
        drops the page and its session; a read is kept only if nothing changed from its start to its end."""
        kept = self._hub.kept(board) if self._cache_bytes else None
        if not isinstance(kept, _Kept):
            return await self._store.read_session(board)
        if kept.has_session:
            self.session_hits += 1
            return kept.session
        stamp = self._hub.stamp(board)
        session = await self._store.read_session(board)
        if self._hub.kept(board) is kept and self._hub.stamp(board) == stamp:
            kept.session, kept.has_session = session, True
        return session

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
        board, changes = key
        stamp = None if changes or not self._cache_bytes else self._hub.stamp(board)
        page = await self._store.read_notes(board, read.since, read.limit)
        if stamp is not None and read.limit is not None:  # kept only if nothing changed meanwhile, and it fits
            self._hub.keep(board, stamp, _Kept(page, read.limit), page_bytes(page), self._cache_bytes)
        return page

    def _done(self, key: tuple[str, bool], read: _Read, task: asyncio.Task[BoardPage]) -> None:
        if self._last.get(key) is read:
            del self._last[key]
        if self._open.get(key) is read:  # cancelled before it started
            del self._open[key]
        if not task.cancelled():
            task.exception()  # retrieved here too: every waiter may have left
