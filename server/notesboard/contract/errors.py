"""Errors that carry the wire contract's codes.

    NotesError                (code, message, client_id)
    ├── BadRequest            bad_request   400 / socket error frame
    ├── TooLarge              too_large     413
    ├── NotFound              not_found     404
    ├── Conflict              conflict      409
    ├── RateLimited           rate_limited  429
    ├── Forbidden             forbidden     403
    │   └── Unauthorized      forbidden     401 (no, bad or expired token)
    └── Unavailable           unavailable   503

Each transport translates them: REST into `{"error": {...}}` with the status, the socket into an
`error` frame on a connection that stays open.
"""

from __future__ import annotations

__all__ = [
    "CLOSE_GOING_AWAY",
    "CLOSE_NORMAL",
    "CLOSE_POLICY",
    "CLOSE_TOO_BIG",
    "CLOSE_TRY_AGAIN",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "NotFound",
    "NotesError",
    "RateLimited",
    "TooLarge",
    "Unauthorized",
    "Unavailable",
]

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_TRY_AGAIN = 1013


class NotesError(Exception):
    code = "bad_request"
    status = 400

    def __init__(self, message: str, client_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.client_id = client_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, client_id={self.client_id!r})"


class BadRequest(NotesError):
    code = "bad_request"
    status = 400


class TooLarge(NotesError):
    code = "too_large"
    status = 413


class NotFound(NotesError):
    code = "not_found"
    status = 404


class Conflict(NotesError):
    code = "conflict"
    status = 409


class RateLimited(NotesError):
    code = "rate_limited"
    status = 429


class Forbidden(NotesError):
    code = "forbidden"
    status = 403


class Unauthorized(Forbidden):
    status = 401


class Unavailable(NotesError):
    code = "unavailable"
    status = 503
