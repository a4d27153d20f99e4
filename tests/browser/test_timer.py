"""The workshop timer (issue #23) in the page: every page counts down to the session's end time, pause and
resume, a minute more and reset reach the other pages, a reload shows the same time, and zero is said."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.board import BoardPage
from tests.support import ServerProcess

pytestmark = pytest.mark.browser


def seconds(text: str) -> int:
    minutes, secs = text.split(":")
    return int(minutes) * 60 + int(secs)


def test_the_timer_is_the_same_on_every_page_and_survives_a_reload(
    server: ServerProcess, open_board: Callable[..., BoardPage], rest: Callable[[ServerProcess], httpx.Client]
) -> None:
    ann = open_board(server, "retro-timer", name="Ann")
    bob = open_board(server, "retro-timer", name="Bob")
    expect(ann.by("timer")).to_have_attribute("data-state", "off")
    ann.by("timer-minutes").fill("5")
    ann.by("timer-start").click()
    for page in (ann, bob):
        expect(page.by("timer")).to_have_attribute("data-state", "running")
        expect(page.by("timer-left")).to_have_text(re.compile(r"^(5:00|4:5\d)$"))

    bob.by("timer-pause").click()  # anyone may run it with auth off
    for page in (ann, bob):
        expect(page.by("timer")).to_have_attribute("data-state", "paused")
        expect(page.by("timer-pause")).to_have_text("Resume")
    paused = seconds(ann.by("timer-left").inner_text())
    expect(bob.by("timer-left")).to_have_text(ann.by("timer-left").inner_text())
    ann.by("timer-more").click()
    expect(bob.by("timer-left")).to_have_text(f"{(paused + 60) // 60}:{(paused + 60) % 60:02d}")
    session = rest(server).get("/api/boards/retro-timer/session").json()
    assert session["timer"]["ends_at"] is None and round(session["timer"]["paused_left"]) in (paused + 59, paused + 60)

    bob.page.reload()  # the snapshot brings the session: the same time, still paused
    expect(bob.by("timer")).to_have_attribute("data-state", "paused")
    expect(bob.by("timer-left")).to_have_text(ann.by("timer-left").inner_text())
    bob.by("timer-pause").click()
    expect(ann.by("timer")).to_have_attribute("data-state", "running")
    ann.by("timer-reset").click()
    expect(bob.by("timer")).to_have_attribute("data-state", "off")
    assert rest(server).get("/api/boards/retro-timer/session").json()["timer"] is None


def test_zero_is_said_on_every_page(
    server: ServerProcess, open_board: Callable[..., BoardPage], rest: Callable[[ServerProcess], httpx.Client]
) -> None:
    ann = open_board(server, "retro-zero")
    bob = open_board(server, "retro-zero")
    ends = (datetime.now(UTC) + timedelta(seconds=2)).isoformat().replace("+00:00", "Z")
    r = rest(server).put("/api/boards/retro-zero/session", json={"timer": {"ends_at": ends, "paused_left": None}})
    assert r.status_code == 200, r.text
    for page in (ann, bob):
        expect(page.by("timer-said")).to_have_text("Time's up.", timeout=10_000)
        expect(page.by("timer-left")).to_have_text("0:00")
        expect(page.by("timer")).to_have_class(re.compile("timer-done"))
