"""For the CLI clients: is a failure worth retrying, and what did the server say?

A refusal that another attempt cannot change (400 a bad request, 401 no or a bad token, 403 a token for
another board or a foreign Origin, 404, 409, 413) ends `tail` and `post` with the server's own reason. What
can pass by itself (the server restarting or unreachable, 503 unavailable, 429 too many connections, a
proxy's 502/504, a dropped socket) is retried with backoff.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

__all__ = ["PERMANENT", "Refused", "from_handshake", "from_response", "reason_of"]

PERMANENT = frozenset({400, 401, 403, 404, 405, 409, 413, 422})


@dataclass(frozen=True)
class Refused(Exception):
    """A permanent refusal: stop, say why, exit non-zero."""

    status: int
    reason: str

    def __str__(self) -> str:
        return f"the server refused ({self.status}): {self.reason}"


def reason_of(status: int, body: bytes) -> str:
    """The message of a contract error body (`{"error": {"message"}}`), or the start of whatever came."""
    try:
        data: Any = orjson.loads(body)
        message = data["error"]["message"]
        if isinstance(message, str) and message:
            return message
    except (orjson.JSONDecodeError, KeyError, TypeError):
        pass
    text = body.decode(errors="replace").strip()[:200]
    return text or f"HTTP {status}"


def from_response(status: int, body: bytes) -> Refused | None:
    """A REST answer: the refusal if permanent; None if it succeeded or may succeed on a retry."""
    return Refused(status, reason_of(status, body)) if status in PERMANENT else None


def from_handshake(exc: BaseException) -> Refused | None:
    """A failed WebSocket handshake (websockets' InvalidStatus carries the HTTP response)."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if not isinstance(status, int):
        return None
    return from_response(status, bytes(getattr(response, "body", b"") or b""))
