"""Errors as exceptions: one class per code of the wire contract, so callers catch what they handle.

The same classes come from every transport: a socket `error` frame, a refused socket handshake (an HTTP
status with the contract's JSON body) and a REST error response.

    NotesError                 any refusal: `code`, `message`, `client_id`, `status` (HTTP, when there was one)
    ├── BadRequest             bad_request (400): a bad board name, query, frame or body
    ├── TooLarge               too_large (413)
    ├── NotFound               not_found (404)
    ├── Conflict               conflict (409): the note's version moved on
    ├── Forbidden              forbidden (401/403): no, bad or read-only token; Origin; caps
    ├── RateLimited            rate_limited (429)
    ├── Unavailable            unavailable (503), or the server could not be reached
    └── Timeout                no answer in time (also a TimeoutError)
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = [
    "BadRequest",
    "Conflict",
    "Forbidden",
    "NotFound",
    "NotesError",
    "RateLimited",
    "Timeout",
    "TooLarge",
    "Unavailable",
    "error_from_frame",
    "error_from_response",
    "gives_up",
    "is_permanent",
]

GIVE_UP_CODES = frozenset({1008})  # policy (bad board, bad token): reconnecting cannot help
RETRY_STATUSES = frozenset({408, 425, 429})  # 4xx that waiting can cure; every 5xx is retried too


def is_permanent(status: int) -> bool:
    """Whether a refused handshake's HTTP status is final (400, 401, 403, 404...) rather than worth a retry."""
    return 400 <= status < 500 and status not in RETRY_STATUSES


def gives_up(close_code: int | None) -> bool:
    """Whether a close code means reconnecting cannot help (1008: bad board, bad token, abuse)."""
    return close_code in GIVE_UP_CODES


class NotesError(Exception):
    """A refusal: `code` (the contract's), `message` (the server's reason), the request's `client_id` if any,
    and the HTTP `status` when it came as an HTTP response (REST, or a refused socket handshake)."""

    code = "error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        client_id: str | None = None,
        frame: Any = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or type(self).code
        self.client_id = client_id
        self.frame = frame
        self.status = status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r}, status={self.status!r})"


class BadRequest(NotesError):
    """The request itself is wrong (board name, query, field): sending it again cannot help."""

    code = "bad_request"


class TooLarge(NotesError):
    code = "too_large"


class NotFound(NotesError):
    code = "not_found"


class Conflict(NotesError):
    """The note's version moved on (someone else changed it first)."""

    code = "conflict"


class Forbidden(NotesError):
    """No token, a bad, expired or read-only one, another board's, a refused Origin, or a cap reached."""

    code = "forbidden"


class RateLimited(NotesError):
    code = "rate_limited"


class Unavailable(NotesError):
    """The server could not commit in time, is shutting down, or could not be reached: worth retrying later."""

    code = "unavailable"


class Timeout(NotesError, TimeoutError):
    """No answer in time. The outcome is unknown: the change may still be made (a create sent again with the
    same `client_id` is made at most once). Also a `TimeoutError`, so `except TimeoutError` catches it."""

    code = "timeout"


_BY_CODE: dict[str, type[NotesError]] = {
    c.code: c for c in (BadRequest, TooLarge, Conflict, NotFound, Forbidden, RateLimited, Unavailable)
}
_BY_STATUS: dict[int, type[NotesError]] = {
    400: BadRequest,
    401: Forbidden,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: TooLarge,
    422: BadRequest,
    429: RateLimited,
    503: Unavailable,
}


def error_from_frame(frame: dict[str, Any]) -> NotesError:
    """The exception for an `error` frame; codes without a class of their own give a plain NotesError."""
    code = str(frame.get("code", "error"))
    cls = _BY_CODE.get(code, NotesError)
    return cls(str(frame.get("message", code)), code=code, client_id=frame.get("client_id"), frame=frame)


def error_from_response(status: int, body: bytes) -> NotesError:
    """The exception for an HTTP error response: the class from the body's code (else from the status), the
    message from the body's `{"error": {"code", "message"}}` (else the start of the body)."""
    try:
        error = orjson.loads(body)["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "", body[:200].decode(errors="replace").strip() or f"HTTP {status}"
    cls = _BY_CODE.get(code) or _BY_STATUS.get(status) or (Unavailable if status >= 500 else NotesError)
    return cls(message, code=code or cls.code, status=status)
