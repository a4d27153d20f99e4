"""The single writer: one task commits every change, many at a time (group commit).

Callers `submit()` a write and get a future; the writer takes everything waiting (up to `batch_max`), commits
it in one transaction through `Store.apply`, publishes the events in seq order, then resolves the futures,
so an ack always follows its commit. One writer per process means no "database is locked" races between
our own writers and a per-board seq order that publication cannot scramble.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from enum import Enum

from notesboard.contract.errors import NotesError, Unavailable
from notesboard.contract.model import BoardCleared, Outcome, SessionResult, VoteResult, WriteOp, WriteResult
from notesboard.fanout.publish import Publisher
from notesboard.storage import Store

__all__ = ["Writer", "WriterState"]

log = logging.getLogger("notesboard.writer")


class WriterState(Enum):
    IDLE = "idle"  # not started
    RUNNING = "running"
    DRAINING = "draining"  # refusing new writes, committing what is queued
    STOPPED = "stopped"


class Writer:
    """An async context manager: started on enter; on exit it drains (see `drain`) within `drain_timeout`."""

    def __init__(
        self,
        store: Store,
        publisher: Publisher,
        *,
        batch_max: int,
        queue_max: int,
        drain_timeout: float = 10.0,
        on_commit: Callable[[float], None] | None = None,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._batch_max = batch_max
        self._queue_max = queue_max
        self._drain_timeout = drain_timeout
        self._queue: deque[tuple[WriteOp, asyncio.Future[Outcome]]] = deque()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.state = WriterState.IDLE
        self.batches = 0
        self.committed = 0
        self._on_commit = on_commit  # seconds per committed batch (metrics)

    def start(self) -> None:
        assert self.state is WriterState.IDLE, f"writer is {self.state.value}"
        self.state = WriterState.RUNNING
        self._task = asyncio.get_running_loop().create_task(self._run(), name="notesboard-writer")

    async def __aenter__(self) -> Writer:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.drain(self._drain_timeout)

    def submit(self, op: WriteOp) -> asyncio.Future[Outcome]:
        """Queue a write; the future resolves after commit (or fails with a NotesError)."""
        fut: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        if self.state is not WriterState.RUNNING:
            fut.set_exception(Unavailable("server is shutting down", op.command.client_id))
        elif len(self._queue) >= self._queue_max:
            fut.set_exception(Unavailable("too many writes waiting; retry shortly", op.command.client_id))
        else:
            self._queue.append((op, fut))
            self._wakeup.set()
        return fut

    async def drain(self, timeout: float) -> None:
        """Refuse new writes, commit the queued ones, stop. Anything still queued at the timeout fails."""
        if self.state is WriterState.RUNNING:
            self.state = WriterState.DRAINING
            self._wakeup.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            except TimeoutError:
                self._task.cancel()
        self.state = WriterState.STOPPED
        while self._queue:
            op, fut = self._queue.popleft()
            if not fut.done():
                fut.set_exception(Unavailable("server is shutting down", op.command.client_id))

    async def _run(self) -> None:
        while True:
            if not self._queue:
                if self.state is not WriterState.RUNNING:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            n = min(len(self._queue), self._batch_max)
            batch = [self._queue.popleft() for _ in range(n)]
            started = time.perf_counter()
            try:
                outcomes = await self._store.apply([op for op, _ in batch])
            except NotesError as exc:
                for op, fut in batch:
                    if not fut.done():
                        fut.set_exception(type(exc)(exc.message, op.command.client_id))
                continue
            except Exception as exc:  # a bug: fail the batch loudly but keep the writer alive
                log.exception("writer batch failed")
                for op, fut in batch:
                    if not fut.done():
                        fut.set_exception(Unavailable(f"write failed: {type(exc).__name__}", op.command.client_id))
                continue
            self.batches += 1
            self.committed += n
            if self._on_commit is not None:
                self._on_commit(time.perf_counter() - started)
            self._publisher.publish(_events(outcomes))
            for (_, fut), outcome in zip(batch, outcomes, strict=True):
                if fut.done():
                    continue
                if isinstance(outcome, NotesError):
                    fut.set_exception(outcome)
                else:
                    fut.set_result(outcome)


def _events(outcomes: list[Outcome | NotesError]) -> list[WriteResult | SessionResult | VoteResult]:
    """The changes to announce, in commit order (a board delete is one event per note it deleted)."""
    events: list[WriteResult | SessionResult | VoteResult] = []
    for o in outcomes:
        if isinstance(o, BoardCleared):
            events.extend(o.deleted)
        elif isinstance(o, SessionResult):  # the session's seq, then the notes a reveal made everyone's
            events.append(o)
            events.extend(o.revealed)
        elif (
            isinstance(o, SessionResult)
            or (isinstance(o, WriteResult) and o.op is not None)
            or (isinstance(o, VoteResult) and not o.replay)
        ):
            events.append(o)
    return events
