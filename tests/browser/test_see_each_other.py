"""Seeing each other (issue #21) with two real pages on one board: the other's cursor with their name
follows their mouse, "<name> is editing" shows and clears, editing it yourself warns first, a note the other
has focused is outlined in their colour, and following someone's view until you move or press Escape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.board import BoardPage
from tests.support import ServerProcess

pytestmark = pytest.mark.browser


def _board_point(bp: BoardPage, x: float, y: float) -> tuple[float, float]:
    """The page coordinates of board point (x, y) in this page (its scroll and zoom)."""
    box = bp.by("canvas").bounding_box()
    zoom = bp.page.evaluate("window.notesboard.view.viewport.zoom")
    return box["x"] + x * zoom, box["y"] + y * zoom


def test_the_other_cursor_appears_with_the_name_and_follows_the_mouse(
    server: ServerProcess, open_board: Callable[..., BoardPage]
) -> None:
    ann = open_board(server, "see-cursor", name="Ann")
    bob = open_board(server, "see-cursor", name="Bob")
    ann.page.mouse.move(*_board_point(ann, 300, 200))
    ann.page.mouse.move(*_board_point(ann, 320, 210))
    cursor = bob.by("peer-cursor")
    expect(cursor).to_have_count(1)
    expect(cursor).to_contain_text("Ann")
    expect(cursor).not_to_have_class("peer-cursor idle")
    ann.page.mouse.move(*_board_point(ann, 520, 410), steps=5)

    def where() -> tuple[float, float]:
        box = cursor.bounding_box()
        canvas = bob.by("canvas").bounding_box()
        return box["x"] - canvas["x"], box["y"] - canvas["y"]

    bob.page.wait_for_function(
        """() => { const el = document.querySelector('[data-testid="peer-cursor"]');
                   return el && /translate\\(520px, 410px\\)/.test(el.style.transform); }"""
    )
    x, y = where()
    assert abs(x - 520) < 2 and abs(y - 410) < 2, (x, y)  # glided to where Ann's mouse is, in board units
    expect(ann.by("peer-cursor")).to_have_count(0)  # never her own; Bob has not moved his mouse yet
    bob.page.mouse.move(*_board_point(bob, 100, 100))
    bob.page.mouse.move(*_board_point(bob, 110, 100))
    expect(ann.by("peer-cursor")).to_have_count(1)
    expect(ann.by("peer-cursor")).to_contain_text("Bob")
    ann.page.mouse.move(5, 5)  # leaves the board (over the toolbar): her cursor goes
    expect(cursor).to_have_class("peer-cursor idle")


def test_editing_shows_on_the_other_page_and_both_type_together(
    server: ServerProcess, open_board: Callable[..., BoardPage]
) -> None:
    """ "Ann is editing" shows on Bob's page in Ann's colour; Bob may edit too without a question (issue #22's
    typing together replaced the question, not the sign), and what both type merges (exact interleaving)."""
    ann, bob, on_bob = _ann_writes_bob_sees(server, open_board, "see-edit", "shared idea")
    on_ann = ann.note("shared idea")
    on_ann.get_by_test_id("note-text").dblclick()
    expect(on_ann.get_by_test_id("note-editor")).to_be_visible()
    badge = on_bob.get_by_test_id("peer-editing")
    expect(badge).to_have_text("Ann is editing")
    colour = badge.evaluate("el => getComputedStyle(el).backgroundColor")
    assert colour not in ("", "rgba(0, 0, 0, 0)")
    on_bob.get_by_test_id("note-text").dblclick()  # no question: the two editors merge
    expect(bob.by("confirm-dialog")).to_be_hidden()
    ann_editor, bob_editor = ann.by("note-editor"), bob.by("note-editor")
    expect(bob_editor).to_be_visible()
    for page in (ann, bob):
        page.page.wait_for_function("[...window.notesboard.store.entries.values()].some(e => e.editing?.shared)")
    ann_editor.press("End")
    ann.page.keyboard.type(" +ann")
    expect(bob_editor).to_have_value("shared idea +ann")  # Ann's typing appears in Bob's editor as typed
    bob_editor.press("Home")
    bob.page.keyboard.type("bob: ")
    expect(ann_editor).to_have_value("bob: shared idea +ann")
    expect(bob_editor).to_have_value("bob: shared idea +ann")
    ann_editor.press("Enter")
    expect(badge).to_have_count(0)  # Ann closed her editor
    bob_editor.press("Enter")
    expect(ann.note("bob: shared idea +ann")).to_have_count(1)
    expect(bob.note("bob: shared idea +ann")).to_have_count(1)
    assert bob.dialogs == [] and ann.dialogs == []


def test_a_note_the_other_selected_is_outlined_in_their_colour(
    server: ServerProcess, open_board: Callable[..., BoardPage]
) -> None:
    ann, bob, on_bob = _ann_writes_bob_sees(server, open_board, "see-select", "pick me")
    ann.note("pick me").focus()
    expect(on_bob).to_have_class(_has("peer-selected"))
    expect(on_bob).to_have_attribute("data-selected-by", "Ann")
    ann_colour = bob.by("peer-avatar").get_attribute("style")
    assert ann_colour is not None and "--peer" in ann_colour
    ann.page.locator("#board").focus()  # the note loses the focus: no longer selected
    expect(on_bob).not_to_have_class(_has("peer-selected"))


def test_following_someone_takes_their_view_until_you_move_or_press_escape(
    server: ServerProcess, open_board: Callable[..., BoardPage], rest: Callable[[ServerProcess], Any]
) -> None:
    far = rest(server).post("/api/boards/see-follow/notes", json={"text": "far away", "x": 4000, "y": 3000})
    assert far.status_code == 201  # the board reaches far enough to pan around
    ann = open_board(server, "see-follow", name="Ann")
    bob = open_board(server, "see-follow", name="Bob")
    ann.page.evaluate("window.notesboard.view.viewport.setZoom(0.5, {x: 2400, y: 1600})")
    assert abs(_centre(ann)[0] - 2400) < 60 and abs(_centre(ann)[1] - 1600) < 60, _centre(ann)
    avatar = bob.by("peer-avatar")
    expect(avatar).to_have_count(1)
    expect(avatar).to_have_attribute("aria-label", "Follow Ann")
    avatar.click()
    banner = bob.by("follow-banner")
    expect(banner).to_have_text("Following Ann: move or press Esc to stop")
    bob.page.wait_for_function("Math.abs(window.notesboard.view.viewport.zoom - 0.5) < 0.01")
    centre = _centre(bob)
    assert abs(centre[0] - 2400) < 60 and abs(centre[1] - 1600) < 60, centre
    ann.page.evaluate("window.notesboard.view.viewport.setZoom(1, {x: 900, y: 700})")  # Ann moves: Bob follows
    bob.page.wait_for_function("Math.abs(window.notesboard.view.viewport.zoom - 1) < 0.01")
    bob.page.wait_for_function(
        """() => { const v = window.notesboard.view.viewport.visible();
                   return Math.abs(v.left + v.width / 2 - 900) < 60 && Math.abs(v.top + v.height / 2 - 700) < 60; }"""
    )
    bob.page.keyboard.press("Escape")
    expect(banner).to_be_hidden()
    expect(avatar).to_have_attribute("aria-pressed", "false")
    avatar.click()  # again, then Bob scrolls himself: following stops
    expect(banner).to_be_visible()
    bob.page.locator("#board").evaluate("el => el.scrollBy(200, 0)")
    expect(banner).to_be_hidden()


def _ann_writes_bob_sees(
    server: ServerProcess, open_board: Callable[..., BoardPage], board: str, text: str
) -> tuple[BoardPage, BoardPage, Any]:
    """Ann and Bob on `board`; Ann creates a note; returns both pages and the note on Bob's page."""
    ann = open_board(server, board, name="Ann")
    bob = open_board(server, board, name="Bob")
    ann.create_note(text)
    on_bob = bob.note(text)
    expect(on_bob).to_have_count(1)
    return ann, bob, on_bob


def _centre(bp: BoardPage) -> tuple[float, float]:
    v: dict[str, Any] = bp.page.evaluate("window.notesboard.view.viewport.visible()")
    return v["left"] + v["width"] / 2, v["top"] + v["height"] / 2


def _has(name: str) -> Any:
    import re

    return re.compile(rf"(^|\s){name}(\s|$)")
