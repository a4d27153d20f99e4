"""Phones (issue #21): nothing is cut off at 360 px (the tools that do not fit are in the "More" menu), and
touch works: one finger drags a note or pans the empty board, two fingers pinch-zoom around their centre, a
long press opens the note's actions. Touches are real input events sent through Chromium's DevTools protocol
(Input.dispatchTouchEvent), as a finger would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.board import BoardPage
from tests.support import ServerProcess

pytestmark = pytest.mark.browser

PHONE = (360, 740)


class Finger:
    """Touches through the DevTools protocol (one CDP session per page)."""

    def __init__(self, bp: BoardPage) -> None:
        self.page = bp.page
        self.cdp = bp.page.context.new_cdp_session(bp.page)
        self.cdp.send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})

    def touch(self, kind: str, points: list[tuple[float, float]]) -> None:
        pts = [{"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]
        self.cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": pts})

    def drag(self, start: list[tuple[float, float]], end: list[tuple[float, float]], steps: int = 8) -> None:
        self.touch("touchStart", start)
        for i in range(1, steps + 1):
            t = i / steps
            points = [(a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t) for a, b in zip(start, end, strict=True)]
            self.touch("touchMove", points)
            self.page.wait_for_timeout(16)
        self.touch("touchEnd", [])


def _controls_outside(bp: BoardPage) -> list[Any]:
    """Visible controls of the top bar and toolbar that are not fully on screen (outside the More menu)."""
    result: list[Any] = bp.page.evaluate(
        """() => [...document.querySelectorAll(
                '.topbar button, .topbar a, .toolbar button, .toolbar summary, .toolbar input')]
            .filter((el) => el.offsetParent !== null && !el.closest('#overflow-pop'))
            .map((el) => [el.id || el.dataset.testid || el.className, el.getBoundingClientRect()])
            .filter(([, r]) => r.left < 0 || r.right > innerWidth + 0.5 || r.width === 0)
            .map(([name, r]) => [name, Math.round(r.left), Math.round(r.right)])"""
    )
    return result


def test_nothing_is_cut_off_at_360_px_and_every_tool_is_in_reach(
    server: ServerProcess, open_board: Callable[..., BoardPage]
) -> None:
    wide = open_board(server, "phone-tools", name="Ann")
    expect(wide.by("overflow-menu")).to_be_hidden()  # a wide screen has room for everything
    phone = open_board(server, "phone-tools", name="Ann", viewport=PHONE)
    assert _controls_outside(phone) == []
    expect(phone.by("overflow-menu")).to_be_visible()
    phone.by("overflow-button").click()
    pop = phone.by("overflow-pop")
    for testid in ("help", "board-menu-button", "zoom-fit"):
        item = pop.get_by_test_id(testid)
        expect(item).to_be_visible()
        box = item.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE[0] + 0.5, (testid, box)
    pop.get_by_test_id("help").click()  # the moved tool still does its job
    expect(phone.by("shortcuts")).to_be_visible()
    phone.page.keyboard.press("Escape")
    phone.by("overflow-button").click()
    pop.get_by_test_id("board-menu-button").click()
    expect(pop.get_by_test_id("export-json")).to_be_visible()


def test_one_finger_drags_a_note_and_pans_the_empty_board(
    server: ServerProcess, open_board: Callable[..., BoardPage], rest: Callable[[ServerProcess], httpx.Client]
) -> None:
    client = rest(server)
    made = client.post("/api/boards/phone-drag/notes", json={"text": "drag me", "x": 40, "y": 40}).json()
    client.post("/api/boards/phone-drag/notes", json={"text": "far", "x": 2000, "y": 2400})
    bp = open_board(server, "phone-drag", name="Ann", viewport=PHONE)
    finger = Finger(bp)
    box = bp.note("drag me").get_by_test_id("note-text").bounding_box()
    start = (box["x"] + 20, box["y"] + 10)
    finger.drag([start], [(start[0] + 90, start[1] + 120)])

    def stored() -> Any:
        return client.get("/api/boards/phone-drag/notes").json()["notes"]

    bp.page.wait_for_function(f"window.notesboard.store.byId.get({made['id']}).server.version === 2")
    note = next(n for n in stored() if n["id"] == made["id"])
    assert abs(note["x"] - 130) <= 2 and abs(note["y"] - 160) <= 2, note
    scroller = bp.page.locator("#board")
    before = scroller.evaluate("el => [el.scrollLeft, el.scrollTop]")
    empty = bp.by("canvas").bounding_box()
    at = (empty["x"] + 300, empty["y"] + 500)  # on the empty board
    finger.drag([at], [(at[0] - 150, at[1] - 250)])
    bp.page.wait_for_function(f"document.getElementById('board').scrollTop > {before[1] + 100}")
    note = next(n for n in stored() if n["id"] == made["id"])
    assert note["version"] == 2  # panning moved no note


def test_two_fingers_pinch_zoom_around_their_centre(
    server: ServerProcess, open_board: Callable[..., BoardPage]
) -> None:
    bp = open_board(server, "phone-pinch", name="Ann", viewport=PHONE)
    finger = Finger(bp)
    canvas = bp.by("canvas").bounding_box()
    centre = (canvas["x"] + 180, canvas["y"] + 300)
    anchor = bp.page.evaluate(f"window.notesboard.view.viewport.point({{clientX: {centre[0]}, clientY: {centre[1]}}})")
    finger.drag(
        [(centre[0] - 40, centre[1]), (centre[0] + 40, centre[1])],
        [(centre[0] - 120, centre[1]), (centre[0] + 120, centre[1])],
    )
    zoom = bp.page.evaluate("window.notesboard.view.viewport.zoom")
    assert 2.5 <= zoom <= 3.0 or zoom == 2, zoom  # spread 3x (the zoom stops at 200 %)
    under = bp.page.evaluate(f"window.notesboard.view.viewport.point({{clientX: {centre[0]}, clientY: {centre[1]}}})")
    assert abs(under["x"] - anchor["x"]) < 4 and abs(under["y"] - anchor["y"]) < 4, (anchor, under)
    finger.drag(
        [(centre[0] - 120, centre[1]), (centre[0] + 120, centre[1])],
        [(centre[0] - 30, centre[1]), (centre[0] + 30, centre[1])],
    )
    assert bp.page.evaluate("window.notesboard.view.viewport.zoom") < zoom


def test_a_long_press_opens_the_note_actions(
    server: ServerProcess, open_board: Callable[..., BoardPage], rest: Callable[[ServerProcess], httpx.Client]
) -> None:
    rest(server).post("/api/boards/phone-press/notes", json={"text": "press me", "x": 40, "y": 40})
    bp = open_board(server, "phone-press", name="Ann", viewport=PHONE)
    finger = Finger(bp)
    box = bp.note("press me").get_by_test_id("note-text").bounding_box()
    at = (box["x"] + 20, box["y"] + 10)
    finger.touch("touchStart", [at])
    menu = bp.by("note-actions")
    expect(menu).to_be_visible()
    finger.touch("touchEnd", [])
    expect(menu.get_by_role("menuitem")).to_have_count(5)
    expect(menu.get_by_test_id("note-action-versions")).to_have_text("Versions…")
    menu.get_by_test_id("note-action-delete").click()
    expect(bp.by("confirm-dialog")).to_contain_text("press me")
    bp.by("confirm-ok").click()
    expect(bp.notes).to_have_count(0)
