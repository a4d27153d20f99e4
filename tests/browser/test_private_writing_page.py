"""Private writing in the page (issue #23): the facilitator's Private writing, everyone writes, each page shows
its own new notes (marked as only theirs) and the others' as placeholders without text, nobody can edit
someone else's; Reveal shows them all on every page at once. Raw sockets and REST check the same rule on every
path in tests/test_private_writing.py."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.board import BoardPage
from tests.support import ServerProcess

pytestmark = pytest.mark.browser


def private_notes(page: BoardPage, privacy: str) -> object:
    return page.page.locator(f'[data-testid="note"][data-privacy="{privacy}"]')


def test_private_writing_then_reveal_with_three_pages(
    server: ServerProcess, open_board: Callable[..., BoardPage], rest: Callable[[ServerProcess], httpx.Client]
) -> None:
    board = "retro-private"
    ann = open_board(server, board, name="Ann")
    bob = open_board(server, board, name="Bob")
    carl = open_board(server, board, name="Carl")
    ann.create_note("said before")
    expect(bob.note("said before")).to_have_count(1)

    ann.by("writing-private").click()
    for page in (ann, bob, carl):
        expect(page.by("writing-reveal")).to_be_visible()
        expect(page.by("writing-said")).to_have_text("Writing privately")
    bob.create_note("bob thinks quietly")
    carl.create_note("carl's hunch")
    expect(private_notes(bob, "private")).to_have_count(1)
    expect(bob.note("bob thinks quietly")).to_have_attribute("data-privacy", "private")
    expect(private_notes(ann, "hidden")).to_have_count(2)  # where, and by whom; not what
    expect(private_notes(bob, "hidden")).to_have_count(1)
    for page in (ann, carl):
        expect(page.note("bob thinks quietly")).to_have_count(0)
    assert "bob thinks quietly" not in ann.page.content() and "carl's hunch" not in bob.page.content()
    hidden = private_notes(ann, "hidden").first
    expect(hidden).to_have_attribute("aria-label", "Note by Bob: being written privately")
    hidden.get_by_test_id("note-text").dblclick()  # someone else's: no editor opens
    expect(ann.by("note-editor")).to_have_count(0)
    assert "bob thinks quietly" not in rest(server).get(f"/api/boards/{board}/export", params={"format": "md"}).text
    bob.edit(bob.note("bob thinks quietly"), "bob thinks it over")  # his own: typed on /y/ with his key
    expect(bob.note("bob thinks it over")).to_have_attribute("data-privacy", "private")
    bob.page.wait_for_timeout(500)
    assert "bob thinks it over" not in ann.page.content()

    ann.by("writing-reveal").click()
    for page in (ann, bob, carl):
        expect(page.note("bob thinks it over")).to_have_count(1)
        expect(page.note("carl's hunch")).to_have_count(1)
        expect(page.page.locator('[data-testid="note"][data-privacy]:not([data-privacy=""])')).to_have_count(0)
        expect(page.by("writing-private")).to_be_visible()
    assert not ann.errors and not bob.errors and not carl.errors
