"""A whole retro in the page (issue #23) with three pages. The facilitator starts from the Retro template,
private writing and its reveal, then a hidden vote; two people vote with the buttons and the keyboard, each
sees only their own dots and votes left while the tallies are hidden (and REST tells nobody else either);
closing the vote shows every total on every page; Sort by votes orders the section; the export carries the
totals."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.board import BoardPage
from tests.support import ServerProcess

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


def votes_of(page: BoardPage, text: str) -> Any:
    return page.note(text).get_by_test_id("note-votes")


def retro(server: ServerProcess, api: httpx.Client, board: str, ann: BoardPage) -> dict[str, Any]:
    """The Retro template (unless the board has it) and three notes in "Went well"; the section as stored."""
    if ann.by("template-retro").is_visible():
        ann.by("template-retro").click()
    expect(ann.page.locator('[data-testid="note"].section')).to_have_count(3)
    titles = {"Went well", "To improve", "Actions"}
    deadline = time.monotonic() + 5  # the page shows the sections before the server has committed them
    while not titles <= (notes := {n["text"]: n for n in api.get(f"/api/boards/{board}/notes").json()["notes"]}).keys():
        assert time.monotonic() < deadline, sorted(notes)
        time.sleep(0.05)
    went = notes["Went well"]
    base = f"/api/boards/{board}/notes"
    for i, (text, author) in enumerate((("Pairing", "Grace"), ("CI faster", "Linus"), ("Fewer meetings", "Ada"))):
        x, y = went["x"] + 20 + 230 * (i % 2), went["y"] + 70 + 170 * (i // 2)
        api.post(base, json={"text": text, "author": author, "x": x, "y": y})
    return went  # type: ignore[no-any-return]


def test_a_whole_retro_vote_with_hidden_tallies(
    server: ServerProcess, open_board: Callable[..., BoardPage], rest: Callable[[ServerProcess], httpx.Client]
) -> None:
    api = rest(server)
    board = "retro-vote"
    ann = open_board(server, board, name="Ann")  # facilitates (auth off: anyone may)
    bob = open_board(server, board, name="Bob")
    carl = open_board(server, board, name="Carl")
    # Private writing first: each writes unseen, then the reveal shows all (details: test_private_writing_page).
    ann.by("template-retro").click()
    ann.by("writing-private").click()
    expect(carl.by("writing-reveal")).to_be_visible()
    bob.create_note("Bob's quiet idea")
    carl.create_note("Carl's quiet idea")
    expect(ann.page.locator('[data-testid="note"][data-privacy="hidden"]')).to_have_count(2)
    ann.by("writing-reveal").click()
    for page in (ann, bob, carl):
        expect(page.note("Bob's quiet idea")).to_have_count(1)
        expect(page.note("Carl's quiet idea")).to_have_count(1)
    went = retro(server, api, board, ann)
    for page in (ann, bob, carl):
        expect(page.note("Fewer meetings")).to_have_count(1)
        expect(votes_of(page, "Pairing")).to_be_hidden()  # no vote yet: no dots, no buttons

    ann.by("vote-menu-button").click()
    ann.by("vote-budget").fill("2")
    ann.by("vote-hidden").check()
    ann.by("vote-start").click()
    for page in (ann, bob, carl):
        expect(page.by("vote-left")).to_have_text("2 votes left")
        expect(page.by("vote-close")).to_be_visible()

    bob.note("Pairing").get_by_test_id("note-vote").click()
    bob.note("CI faster").get_by_test_id("note-vote").click()
    expect(bob.by("vote-left")).to_have_text("0 votes left")
    expect(votes_of(bob, "Pairing").get_by_test_id("note-dots")).to_have_text("●")
    expect(bob.note("Fewer meetings").get_by_test_id("note-vote")).to_be_hidden()  # nothing left to give
    carl.note("Pairing").focus()
    carl.page.keyboard.press("d")  # the keyboard votes too
    expect(carl.by("vote-left")).to_have_text("1 vote left")
    carl.note("Pairing").focus()
    carl.page.keyboard.press("Shift+D")  # and takes it back
    expect(carl.by("vote-left")).to_have_text("2 votes left")
    carl.note("Pairing").focus()
    carl.page.keyboard.press("d")
    expect(carl.by("vote-left")).to_have_text("1 vote left")

    # Hidden: nobody sees a total; each page sees only its own dots.
    for page in (ann, bob, carl):
        expect(votes_of(page, "Pairing").get_by_test_id("note-total")).to_have_text("")
    expect(votes_of(ann, "Pairing").get_by_test_id("note-dots")).to_have_text("")
    expect(votes_of(carl, "CI faster").get_by_test_id("note-dots")).to_have_text("")
    view = api.get(f"/api/boards/{board}/votes").json()
    assert "totals" not in view and view["mine"] == {}

    ann.by("vote-close").click()
    for page in (ann, bob, carl):
        expect(votes_of(page, "Pairing").get_by_test_id("note-total")).to_have_text("2")
        expect(votes_of(page, "CI faster").get_by_test_id("note-total")).to_have_text("1")
        expect(page.by("vote-left")).to_have_text("Vote closed")
        expect(page.note("Pairing").get_by_test_id("note-vote")).to_be_hidden()

    # Sort by votes: the section's notes tidied, most votes first.
    ann.by("vote-sort").click()
    first = (went["x"] + 16, went["y"] + 56)
    expect(bob.note("Pairing")).to_have_css("left", f"{first[0]:g}px")
    expect(bob.note("Pairing")).to_have_css("top", f"{first[1]:g}px")
    expect(bob.note("CI faster")).to_have_css("left", f"{first[0] + 208 + 16:g}px")
    md = api.get(f"/api/boards/{board}/export", params={"format": "md"}).text
    pairing, ci, fewer = (
        md.index(f"- {line}")
        for line in ("Pairing (Grace) (2 votes)", "CI faster (Linus) (1 vote)", "Fewer meetings (Ada) (0 votes)")
    )
    assert pairing < ci < fewer


def test_retro_screenshot(
    server: ServerProcess,
    open_board: Callable[..., BoardPage],
    rest: Callable[[ServerProcess], httpx.Client],
    tmp_path: Path,
) -> None:
    """A retro in progress (sections, open tallies, a running timer), saved to $NOTESBOARD_RETRO_SCREENSHOT
    (`make screenshot`: docs/retro.png)."""
    target = os.environ.get("NOTESBOARD_RETRO_SCREENSHOT")
    shot = ROOT / target if target else tmp_path / "retro.png"
    api = rest(server)
    board = "retro-shot"
    ann = open_board(server, board, name="Ann", viewport=(1280, 720))
    went = retro(server, api, board, ann)
    notes = {n["text"]: n["id"] for n in api.get(f"/api/boards/{board}/notes").json()["notes"]}
    api.put(f"/api/boards/{board}/session", json={"vote": {"open": True, "budget": 3}})
    for voter, text in (("a", "Pairing"), ("b", "Pairing"), ("c", "CI faster")):
        api.post(f"/api/boards/{board}/notes/{notes[text]}/votes", json={"delta": 1, "voter": voter})
    expect(votes_of(ann, "Pairing").get_by_test_id("note-total")).to_have_text("2")
    ann.note("Pairing").get_by_test_id("note-vote").click()
    expect(ann.by("vote-left")).to_have_text("2 votes left")
    ann.by("timer-minutes").fill("5")
    ann.by("timer-start").click()
    expect(ann.by("timer")).to_have_attribute("data-state", "running")
    assert went["x"] is not None
    ann.page.mouse.move(1, 700)
    shot.parent.mkdir(exist_ok=True)
    ann.page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
