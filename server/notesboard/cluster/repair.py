"""Per-board ordering and gap repair for events that come from several processes through a broker.

Each process publishes its own commits after they commit, so events of one board may reach a subscriber out
of order (two processes' publishes race), twice (its own, locally and back from the broker), or not at all
(the broker connection dropped; a process died between commit and publish). The relay hands the hub each
board's events in seq order, once: the next one goes straight through; one that arrives early waits up to
`gap_wait` for the missing ones, and then the missing changes are read from the database, which stays the
source of truth.

The database keeps each note's latest state, not every change: a change that a later change to the same note
superseded cannot be rebuilt. If a repair meets such a hole, the local connections that have not seen it
are asked to resume with `since` (close 1013), as the contract allows; the others go on without a gap.

What a board needs is decided by its local connections (`Hub.floor`): nothing at or below the lowest seq any
of them has, so a board nobody here watches costs one integer, and a fresh connection never waits.
"""

from __future__ import annotations

import asyncio
import logging

from notesboard.contract.errors import NotesError
from notesboard.contract.model import BoardPage
from notesboard.contract.protocol import change_op, event_frame, split_frame
from notesboard.core.privacy import blank, own
from notesboard.fanout.hub import Hub
from notesboard.storage import Store

__all__ = ["Relay"]

log = logging.getLogger("notesboard.backplane")

MAX_PENDING = 10_000  # early events held per board; past it they are dropped and read back from the database
MAX_TRACKED = 100_000  # boards remembered; past it the ones nobody here watches are forgotten
RETRY_S = 1.0  # after a failed repair (database unavailable)
SYNC_WAIT_S = 1.0  # a new subscription's check waits this long for the board's first snapshot to be read
SYNC_POLL_S = 0.02


class _Board:
    __slots__ = ("again", "last", "pending", "repairing", "timer")

    def __init__(self) -> None:
        self.last = 0  # every event up to here was handed to the hub (or is below every local connection)
        self.pending: dict[int, str | None] = {}  # early events; None: announced without its frame (too big)
        self.timer: asyncio.TimerHandle | None = None
        self.repairing = False
        self.again = False  # another repair was asked for while one ran


class Relay:
    def __init__(self, hub: Hub, store: Store, *, gap_wait: float) -> None:
        self._hub = hub
        self._store = store
        self._gap_wait = gap_wait
        self._boards: dict[str, _Board] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._reads = asyncio.Semaphore(2)  # repairs share the store's read connections with snapshots
        self._suspects: dict[str, int] = {}  # board -> database seq seen ahead of us at the last check
        self.closed = False
        self.repairs = 0  # database reads done to fill gaps
        self.repaired = 0  # events delivered from those reads
        self.resyncs = 0  # connections asked to resume because of a superseded change

    # -- events in ---------------------------------------------------------------------------------------

    def receive(self, board: str, seq: int, frame: str | None) -> None:
        """One committed event, from this process or another; any order, duplicates allowed."""
        b = self._boards.get(board)
        if b is None:
            if len(self._boards) >= MAX_TRACKED:
                self._forget_idle()
            b = self._boards[board] = _Board()
        if seq <= b.last:
            return
        if seq == b.last + 1 and frame is not None and not b.pending:
            b.last = seq
            self._hub.deliver(board, seq, frame)
            return
        floor = self._hub.floor(board)
        if floor is None:  # nobody here watches this board: remember how far it got, nothing to deliver
            b.last = seq
            self._clear(b)
            return
        if floor > b.last:
            b.last = floor
            if seq <= b.last:
                return
        if len(b.pending) >= MAX_PENDING:
            b.pending.clear()  # the repair reads them back
        b.pending[seq] = frame
        self._advance(board, b)

    def _advance(self, board: str, b: _Board) -> None:
        """Deliver what is now in order, then decide how to get the rest."""
        for seq in [s for s in b.pending if s <= b.last]:
            del b.pending[seq]
        while b.pending:
            frame = b.pending.get(b.last + 1)
            if frame is None:
                break
            del b.pending[b.last + 1]
            b.last += 1
            self._hub.deliver(board, b.last, frame)
        if not b.pending:
            if b.timer is not None:
                b.timer.cancel()
                b.timer = None
        elif b.last + 1 in b.pending:  # the next one came without its frame: read it now
            self.repair(board)
        elif b.timer is None and not b.repairing:
            b.timer = asyncio.get_running_loop().call_later(self._gap_wait, self._timed_out, board)

    def _timed_out(self, board: str) -> None:
        b = self._boards.get(board)
        if b is not None:
            b.timer = None
            if b.pending:
                self.repair(board)

    # -- repair from the database ----------------------------------------------------------------------------

    def repair(self, board: str, delay: float = 0.0) -> None:
        """Read the board's changes after what we have from the database and deliver them (one at a time)."""
        if self.closed:
            return
        b = self._boards.setdefault(board, _Board())
        if b.timer is not None:
            b.timer.cancel()
            b.timer = None
        if b.repairing:
            b.again = True
            return
        b.repairing = True
        task = asyncio.get_running_loop().create_task(self._repair(board, b, delay), name=f"repair-{board}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _repair(self, board: str, b: _Board, delay: float) -> None:
        failed = False
        try:
            if delay:
                await asyncio.sleep(delay)
            async with self._reads:
                floor = self._hub.floor(board)
                if floor is None:
                    self._clear(b)
                    return
                since = max(b.last, floor)
                page = await self._store.read_notes(board, since, None)
            self.repairs += 1
            self._apply(board, b, page)
        except NotesError as exc:
            failed = True
            log.warning("repair of board %s failed (%s); retrying in %.0f s", board, exc.message, RETRY_S)
        except asyncio.CancelledError:
            raise
        except Exception:
            failed = True
            log.exception("repair of board %s failed", board)
        finally:
            b.repairing = False
        if self.closed:
            return
        if failed:
            self.repair(board, RETRY_S)
        elif b.again:
            b.again = False
            self.repair(board)
        elif b.pending:
            self._advance(board, b)

    async def _until_synced(self, board: str, b: _Board) -> None:
        """A board just subscribed to (we know nothing of it) while its first connection reads its snapshot
        (floor 0, or an empty board): wait for that snapshot rather than read the whole board."""
        for _ in range(int(SYNC_WAIT_S / SYNC_POLL_S)):
            if b.last or self._hub.floor(board) != 0:
                return
            await asyncio.sleep(SYNC_POLL_S)

    async def _fresh(self, boards: list[str]) -> None:
        waits = [self._until_synced(board, self._boards.setdefault(board, _Board())) for board in boards]
        await asyncio.gather(*waits)
        boards = [board for board in boards if self._hub.floor(board) is not None]
        if not boards:
            return
        try:
            async with self._reads:
                seqs = await self._store.board_seqs(boards)
        except NotesError as exc:
            log.info("check of new subscriptions failed (%s); repairing", exc.message)
            seqs = {board: 1 << 62 for board in boards}
        for board in boards:
            b = self._boards.get(board)
            if seqs.get(board, 0) > max(b.last if b else 0, self._hub.floor(board) or 0):
                self.repair(board)

    def subscribed(self, boards: list[str]) -> None:
        """These boards' broker channels just became live: events committed before that (and published before
        we listened) never come through the broker, so compare with the database now."""
        if self.closed:
            return
        task = asyncio.get_running_loop().create_task(self._fresh(boards), name="fresh-subscriptions")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def forget(self, board: str) -> None:
        """Nobody here watches the board any more and we stop listening to it: what we knew of it goes stale."""
        b = self._boards.pop(board, None)
        if b is not None:
            self._clear(b)
        self._suspects.pop(board, None)

    def _apply(self, board: str, b: _Board, page: BoardPage) -> None:
        floor = self._hub.floor(board)
        if floor is None:
            b.last = max(b.last, page.seq)
            self._clear(b)
            return
        b.last = max(b.last, floor)
        notes = {n["seq"]: n for n in page.notes if n["seq"] > b.last}
        out: list[tuple[int, str]] = []
        hole = 0
        for seq in range(b.last + 1, page.seq + 1):
            frame = b.pending.pop(seq, None)  # an event we hold is exact; prefer it
            if frame is None:
                note = notes.get(seq)
                if note is None:
                    hole = seq  # superseded by a later change to the same note
                    continue
                frame = event_frame(change_op(note), note)
                owner = page.private.get(note["id"])
                if owner is not None:  # a private note: its text for its writer only (core/privacy.py)
                    op = change_op(note)
                    frame = split_frame(owner, event_frame(op, own(note)), event_frame(op, blank(note)))
                self.repaired += 1
            out.append((seq, frame))
        if hole:
            asked = self._hub.resync(board, hole)
            self.resyncs += asked
            log.info("board %s: change %d was superseded before it arrived; %d connections resume", board, hole, asked)
        for seq, frame in out:
            self._hub.deliver(board, seq, frame)
        b.last = max(b.last, page.seq)
        self._suspects.pop(board, None)

    # -- checks against the database ---------------------------------------------------------------------

    async def check(self, urgent: bool) -> None:
        """Compare every watched board with the database and repair the ones behind.

        Catches what no later event would reveal: the last change of a board lost with the broker connection,
        or published by a process that died right after its commit. Unless `urgent` (the broker is down, or we
        just resubscribed), a board is repaired only when it was already behind at the previous check: an
        event in flight is no reason to read.
        """
        boards = self._hub.boards()
        if not boards:
            self._suspects.clear()
            return
        try:
            seqs = await self._store.board_seqs(boards)
        except NotesError as exc:
            log.info("seq check skipped: %s", exc.message)
            return
        suspects: dict[str, int] = {}
        for board, seq in seqs.items():
            b = self._boards.get(board)
            have = max(b.last if b else 0, self._hub.floor(board) or 0)
            if seq <= have:
                continue
            before = self._suspects.get(board)
            if urgent or (before is not None and have < before):
                self.repair(board)
            else:
                suspects[board] = seq
        self._suspects = suspects

    # -- housekeeping -------------------------------------------------------------------------------------

    def _clear(self, b: _Board) -> None:
        b.pending.clear()
        if b.timer is not None:
            b.timer.cancel()
            b.timer = None

    def _forget_idle(self) -> None:
        watched = set(self._hub.boards())
        for board in [k for k, b in self._boards.items() if k not in watched and not b.repairing and not b.pending]:
            del self._boards[board]

    def tracked(self) -> list[str]:
        """The boards the relay keeps state for (tests)."""
        return list(self._boards)

    def stats(self) -> dict[str, int]:
        return {
            "boards": len(self._boards),
            "repairs": self.repairs,
            "repaired": self.repaired,
            "resyncs": self.resyncs,
        }

    async def close(self) -> None:
        self.closed = True
        for b in self._boards.values():
            self._clear(b)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
