"""The board session's rules, pure: what a PUT does to the stored session (domain.decide calls this inside
the write transaction, where the stored session is locked with its board row).

- `version`: None replaces whatever is stored; otherwise it must be the stored version (a board that never
  had a session is at 0), else `conflict`, like a note's stale version.
- a timer that the PUT changes must end within `max_timer` seconds from now and not before now (a negative
  duration), and a paused one may hold at most `max_timer`: else `bad_request`. A timer sent back exactly as
  stored passes, so a client that changes the vote does not trip over a timer that has since run out.
- the result takes version + 1; the caller gives it the board's next seq.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from notesboard.contract.errors import BadRequest, Conflict, NotesError
from notesboard.contract.model import Session, SessionCommand, Timer
from notesboard.contract.session import parse_instant

__all__ = ["CLOCK_SLACK_S", "apply_session", "check_timer"]

CLOCK_SLACK_S = 5.0  # a client's clock may be this far behind the server's when it computes ends_at


def check_timer(timer: Timer | None, stored: Timer | None, now: datetime, max_timer: float) -> None:
    """BadRequest when a new or changed timer is negative or longer than `max_timer` seconds."""
    if timer is None or timer == stored:
        return
    left = timer["paused_left"]
    if left is not None and left > max_timer:
        raise BadRequest(f"timer.paused_left is over the longest timer, {max_timer:g} s")
    if timer["ends_at"] is not None:
        ends = parse_instant(timer["ends_at"])
        if ends < now - timedelta(seconds=CLOCK_SLACK_S):
            raise BadRequest("timer.ends_at is in the past (a negative duration)")
        if ends > now + timedelta(seconds=max_timer + CLOCK_SLACK_S):
            raise BadRequest(f"timer.ends_at is further away than the longest timer, {max_timer:g} s")


def apply_session(cmd: SessionCommand, stored: Session, now: datetime) -> Session | NotesError:
    """The session after `cmd` (version + 1), or the contract error that refuses it."""
    if cmd.version is not None and cmd.version != stored["version"]:
        return Conflict(f"the session is at version {stored['version']}, not {cmd.version}", cmd.client_id)
    try:
        check_timer(cmd.session["timer"], stored["timer"], now, cmd.max_timer)
    except BadRequest as exc:
        return BadRequest(exc.message, cmd.client_id)
    return {**cmd.session, "version": stored["version"] + 1}
