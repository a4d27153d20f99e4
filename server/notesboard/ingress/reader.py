"""A connection's input side: each frame -> a command -> the use cases, pipelined.

Writes are handed to the use cases without waiting: the ack (or error) is pushed to the connection's outbox
when the commit is done, so one client can have up to `max_inflight` writes in flight. Frames are parsed
before rate limiting, so that a refusal can carry the request's client_id.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from typing import Any

from notesboard.contract.errors import BadRequest, Forbidden, NotesError, RateLimited, Unavailable
from notesboard.contract.model import Command, Outcome, Ping, VoteCommand, VoteResult, WriteResult
from notesboard.contract.protocol import PONG, ack_frame, decode, error_frame
from notesboard.contract.validate import parse_frame
from notesboard.contract.votes import vote_ack
from notesboard.core.auth import Grant
from notesboard.core.privacy import shown
from notesboard.fanout.flag import Flag
from notesboard.ingress.ratelimit import TokenBucket
from notesboard.ingress.services import Services

__all__ = ["FrameReader"]


class FrameReader:
    __slots__ = (
        "_abusive",
        "_board",
        "_bucket",
        "_grant",
        "_inflight",
        "_max_inflight",
        "_max_text",
        "_name",
        "_push",
        "_slot",
        "_svc",
        "_voter",
        "_wants_replies",
        "awareness",
    )

    def __init__(
        self,
        services: Services,
        board: str,
        name: str | None,
        grant: Grant,
        *,
        voter: str,
        push: Callable[[str], None],
        wants_replies: Callable[[], bool],
        abusive: Callable[[], None],
    ) -> None:
        self._svc = services
        self._board = board
        self._name = name
        self._grant = grant
        self._voter = voter  # who this socket's votes count for (core/voters.py)
        self._push = push  # the connection's outbox
        self._wants_replies = wants_replies  # False once the connection is gone: acks are dropped
        self._abusive = abusive  # sustained rate-limit abuse: the connection closes
        settings = services.settings
        self._max_text = settings.max_text
        self._max_inflight = settings.max_inflight
        self._bucket = (
            TokenBucket(settings.rate_limit, settings.rate_burst, time.monotonic()) if settings.rate_limit else None
        )
        self._inflight = 0
        self._slot = Flag()
        # `awareness` frames go here (set by the connection once its snapshot is out); never stored or acked.
        self.awareness: Callable[[dict[str, Any]], Awaitable[None]] | None = None

    async def frame(self, text: str | None) -> None:
        """One frame received while the connection is open (`None`: a binary frame)."""
        if text is None:
            self.error(BadRequest("binary frames are not accepted; send JSON text"))
            return
        if self.awareness is not None and '"awareness"' in text and await self._awareness(text):
            return
        command: Command | NotesError
        try:
            command = parse_frame(text, self._max_text)
        except NotesError as exc:
            command = exc
        if self._bucket is not None and not self._take_token(getattr(command, "client_id", None)):
            return
        if isinstance(command, NotesError):
            self.error(command)
            return
        if isinstance(command, Ping):
            self._push(PONG)
            return
        if not self._grant.can_write():
            self.error(Forbidden("this token is read-only", command.client_id))
            return
        while self._inflight >= self._max_inflight:
            self._slot.clear()
            await self._slot.wait()
        self._inflight += 1
        if isinstance(command, VoteCommand):
            command = replace(command, voter=self._voter)
        future = self._svc.notes.submit(self._board, command, self._name, self._voter)
        future.add_done_callback(partial(self._committed, command.client_id))

    async def _awareness(self, text: str) -> bool:
        """An awareness frame goes to the awareness relay (True); anything else to the v1 path (False)."""
        try:
            body = decode(text)
        except ValueError:
            return False
        if not isinstance(body, dict) or body.get("type") != "awareness" or self.awareness is None:
            return False
        try:
            await self.awareness(body)
        except NotesError as exc:
            self.error(exc)
        return True

    def _committed(self, client_id: str | None, future: asyncio.Future[Outcome]) -> None:
        self._inflight -= 1
        self._slot.set()
        if future.cancelled() or not self._wants_replies():
            return
        exc = future.exception()
        if exc is None:
            result = future.result()
            if isinstance(result, VoteResult):
                self._push(vote_ack(client_id, result))
                return
            assert isinstance(result, WriteResult)  # otherwise the socket sends note commands only
            note = result.note
            if result.owner is not None:  # someone's private note (moved by another): blank unless theirs
                note = shown([note], {note["id"]: result.owner}, self._voter)[0]
            self._push(ack_frame(client_id, result.seq, note))
        elif isinstance(exc, NotesError):
            self.error(exc)
        else:
            self.error(Unavailable(f"write failed: {type(exc).__name__}", client_id))

    def error(self, exc: NotesError) -> None:
        self._svc.error(exc.code)
        self._push(error_frame(exc))

    def _take_token(self, client_id: str | None) -> bool:
        bucket = self._bucket
        assert bucket is not None
        if bucket.take(time.monotonic()):
            return True
        self.error(RateLimited(f"more than {bucket.rate:g} frames/s; slow down", client_id))
        if bucket.abusive:
            self._abusive()
        return False
