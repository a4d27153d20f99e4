"""Error frames as exceptions: one class per code of the wire contract, so callers catch what they handle."""

from __future__ import annotations

from typing import Any

__all__ = ["Conflict", "Forbidden", "NotFound", "NotesError", "RateLimited", "Unavailable", "error_from_frame"]


class NotesError(Exception):
    """An `error` frame (or REST error body): `code`, `message`, and the request's `client_id` if any."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, client_id: str | None = None, frame: Any = None):
        super().__init__(message)
        self.message = message
        self.code = code or type(self).code
        self.client_id = client_id
        self.frame = frame


class Conflict(NotesError):
    """The note's version moved on (someone else changed it first)."""

    code = "conflict"


class NotFound(NotesError):
    code = "not_found"


class Forbidden(NotesError):
    """A read-only token, or a cap (boards per database) reached."""

    code = "forbidden"


class RateLimited(NotesError):
    code = "rate_limited"


class Unavailable(NotesError):
    """The server could not commit in time (database down or overloaded): worth retrying later."""

    code = "unavailable"


_BY_CODE: dict[str, type[NotesError]] = {c.code: c for c in (Conflict, NotFound, Forbidden, RateLimited, Unavailable)}


def error_from_frame(frame: dict[str, Any]) -> NotesError:
    """The exception for an `error` frame; codes without a class of their own give a plain NotesError."""
    code = str(frame.get("code", "error"))
    cls = _BY_CODE.get(code, NotesError)
    return cls(str(frame.get("message", code)), code=code, client_id=frame.get("client_id"), frame=frame)
