"""`notesboard post`: one create over REST, retried while the failure may pass, never stored twice.

Each call carries a fresh `client_id`, so a retry after a lost answer returns the note the first attempt
stored instead of a second one. Transient failures (no answer, 503, 429, a proxy's 502/504) are retried with
backoff for up to `retry_for` seconds; a permanent refusal raises `Refused` at once with the server's reason.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape

from notesboard.refusals import Refused, from_response, reason_of

__all__ = ["Refused", "Unreachable", "post_note"]


class Unreachable(Exception):
    """Still failing when the retry time ran out."""


def post_note(
    url: str, board: str, body: dict[str, Any], *, token: str | None, retry_for: float, log: Console
) -> dict[str, Any]:
    """The stored note. Raises Refused (permanent) or Unreachable (transient, for longer than retry_for)."""
    body = {**body, "client_id": body.get("client_id") or f"cli-{secrets.token_hex(8)}"}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    endpoint = f"{url.rstrip('/')}/api/boards/{board}/notes"
    deadline = time.monotonic() + retry_for
    delay = 0.25
    with httpx.Client(timeout=10, headers=headers) as client:
        while True:
            try:
                r = client.post(endpoint, json=body)
            except httpx.HTTPError as exc:
                problem = f"cannot reach {url}: {exc or type(exc).__name__}"
            else:
                if r.status_code < 400:
                    note: dict[str, Any] = r.json()
                    return note
                refused = from_response(r.status_code, r.content)
                if refused is not None:
                    raise refused
                problem = f"{r.status_code}: {reason_of(r.status_code, r.content)}"
            if time.monotonic() + delay > deadline:
                raise Unreachable(problem)
            log.print(f"[yellow]{escape(problem)}; retrying in {delay:.1f}s[/]", highlight=False)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
