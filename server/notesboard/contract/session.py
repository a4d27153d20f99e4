"""The board session's wire shape (protocol-collab.md "Board session"): vote, writing mode, timer, version.

Parsed here with pydantic like notes, so a bad body is one `bad_request` with the field named. What depends
on the clock or on the stored session (a timer's window, the optimistic `version`) is `core/session.py`.
`vote.multiple` (several votes of one voter on one note) is an extension of the contract; absent: false.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

from notesboard.contract.errors import BadRequest
from notesboard.contract.model import Session, Timer, Vote

__all__ = [
    "DEFAULT_BUDGET",
    "EMPTY_SESSION",
    "MAX_BUDGET",
    "Session",
    "Timer",
    "Vote",
    "format_instant",
    "parse_instant",
    "parse_session",
]

DEFAULT_BUDGET = 3
MAX_BUDGET = 100


EMPTY_SESSION: Session = {"vote": None, "writing": "open", "timer": None, "version": 0}


class _Vote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    open: StrictBool
    budget: StrictInt = Field(DEFAULT_BUDGET, ge=1, le=MAX_BUDGET)
    hidden: StrictBool = False
    multiple: StrictBool = False


class _Timer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ends_at: StrictStr | None = None
    paused_left: StrictInt | StrictFloat | None = None


class _Session(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vote: _Vote | None = None
    writing: Literal["open", "private"] = "open"
    timer: _Timer | None = None
    version: StrictInt | None = Field(None, ge=0, le=2**63 - 1)


def parse_instant(raw: str) -> datetime:
    """An RFC 3339 time with an explicit offset (BadRequest otherwise), as aware UTC."""
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest("timer.ends_at must be an RFC 3339 time such as 2026-01-01T10:00:00Z") from None
    if when.tzinfo is None:
        raise BadRequest("timer.ends_at needs a UTC offset (Z)")
    return when.astimezone(UTC)


def format_instant(when: datetime) -> str:
    """The wire's time format (the same as notes' `updated_at`)."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_session(body: Any) -> tuple[Session, int | None]:
    """A PUT body -> (the session it asks for, with version 0 as a placeholder; the `version` it was based on).

    Shape only: a timer needs exactly one of `ends_at` (running) and `paused_left` (paused); both null is
    no timer. Its bounds against the clock are checked where the clock is (`core.session.check_timer`).
    """
    if not isinstance(body, dict):
        raise BadRequest("the session must be a JSON object")
    try:
        parsed = _Session.model_validate(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        raise BadRequest(f"session {where}: {err['msg']}") from None
    timer: Timer | None = None
    if parsed.timer is not None:
        ends_at, left = parsed.timer.ends_at, parsed.timer.paused_left
        if ends_at is not None and left is not None:
            raise BadRequest("timer: give ends_at (running) or paused_left (paused), not both")
        if left is not None and not (0 <= left < float("inf")):
            raise BadRequest("timer.paused_left must be a duration in seconds, 0 or more")
        if ends_at is not None:
            ends_at = format_instant(parse_instant(ends_at))
        if ends_at is not None or left is not None:
            timer = {"ends_at": ends_at, "paused_left": None if left is None else float(left)}
    vote: Vote | None = None
    if parsed.vote is not None:
        v = parsed.vote
        vote = {"open": v.open, "budget": v.budget, "hidden": v.hidden, "multiple": v.multiple}
    return {"vote": vote, "writing": parsed.writing, "timer": timer, "version": 0}, parsed.version
