"""The board session's pure rules (contract/session.py, core/session.py): shapes, versions, timer windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notesboard.contract.errors import BadRequest, Conflict
from notesboard.contract.model import Session, SessionCommand
from notesboard.contract.session import EMPTY_SESSION, format_instant, parse_session
from notesboard.core.session import apply_session, check_timer

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def command(body: dict[str, object], max_timer: float = 3600) -> SessionCommand:
    session, version = parse_session(body)
    return SessionCommand(session, version, max_timer)


def test_defaults_and_normalised_times() -> None:
    session, version = parse_session({"vote": {"open": True}, "timer": {"ends_at": "2026-12-05T13:00:00+01:00"}})
    assert version is None
    assert session["vote"] == {"open": True, "budget": 3, "hidden": False, "multiple": False}
    assert session["timer"] == {"ends_at": "2026-12-05T12:00:00.000Z", "paused_left": None}
    assert parse_session({"timer": {}})[0]["timer"] is None  # neither running nor paused: no timer


def test_versions() -> None:
    first = apply_session(command({"writing": "private", "version": 0}), EMPTY_SESSION, NOW)
    assert not isinstance(first, Exception) and first["version"] == 1 and first["writing"] == "private"
    stale = apply_session(command({"version": 0}), first, NOW)
    assert isinstance(stale, Conflict)
    blind = apply_session(command({}), first, NOW)
    assert not isinstance(blind, Exception) and blind["version"] == 2


@pytest.mark.parametrize(
    ("ends_in", "ok"), [(-60, False), (-1, True), (0, True), (3600, True), (3604, True), (3700, False)]
)
def test_running_timer_window(ends_in: float, ok: bool) -> None:
    timer = {"ends_at": format_instant(NOW + timedelta(seconds=ends_in)), "paused_left": None}
    if ok:
        check_timer(timer, None, NOW, 3600)  # type: ignore[arg-type]
    else:
        with pytest.raises(BadRequest):
            check_timer(timer, None, NOW, 3600)  # type: ignore[arg-type]


def test_a_stored_timer_sent_back_is_not_checked_again() -> None:
    expired = {"ends_at": format_instant(NOW - timedelta(hours=1)), "paused_left": None}
    stored: Session = {**EMPTY_SESSION, "timer": expired, "version": 4}  # type: ignore[typeddict-item]
    again = apply_session(command({"timer": expired, "version": 4}), stored, NOW)
    assert not isinstance(again, Exception) and again["version"] == 5
    assert isinstance(apply_session(command({"timer": expired}), EMPTY_SESSION, NOW), BadRequest)


def test_paused_timer_bounds() -> None:
    check_timer({"ends_at": None, "paused_left": 3600}, None, NOW, 3600)
    with pytest.raises(BadRequest):
        check_timer({"ends_at": None, "paused_left": 3600.5}, None, NOW, 3600)
    with pytest.raises(BadRequest):
        parse_session({"timer": {"paused_left": -0.1}})
