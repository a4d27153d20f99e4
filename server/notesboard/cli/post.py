"""`notesboard post`: one create over REST, retried while the failure may pass, never stored twice.

Each call carries a fresh `client_id`, so a retry after a lost answer returns the note the first attempt
stored instead of a second one. Transient failures (no answer, 503, 429, a proxy's 502/504) are retried with
backoff for up to `retry_for` seconds; a permanent refusal raises `Refused` at once with the server's reason.
It is a coroutine so that Ctrl-C cancels it at an `await` (interrupts.py says why that matters).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

from rich.console import Console
from rich.markup import escape

from notesboard.cli.refusals import Refused
from notesboard.client import AsyncRest, NotesError, RateLimited, Timeout, Unavailable

__all__ = ["Refused", "Unreachable", "post_note"]


class Unreachable(Exception):
    """Still failing when the retry time ran out."""


async def post_note(
    url: str, board: str, body: dict[str, Any], *, token: str | None, retry_for: float, log: Console
) -> dict[str, Any]:
    """The stored note. Raises Refused (permanent) or Unreachable (transient, for longer than retry_for)."""
    fields = {**body, "client_id": body.get("client_id") or f"cli-{secrets.token_hex(8)}"}
    text = fields.pop("text")
    deadline = time.monotonic() + retry_for
    delay = 0.25
    async with AsyncRest(url, token=token, timeout=10) as api:  # one REST implementation: notesboard.client
        while True:
            try:
                return await api.create(board, text, **fields)
            except (Unavailable, Timeout, RateLimited) as exc:  # what may pass by itself
                problem = f"{exc.status}: {exc.message}" if exc.status else exc.message
            except NotesError as exc:
                raise Refused(exc.status or 400, exc.message) from None
            if time.monotonic() + delay > deadline:
                raise Unreachable(problem)
            log.print(f"[yellow]{escape(problem)}; retrying in {delay:.1f}s[/]", highlight=False)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
