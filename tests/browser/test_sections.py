"""Sections in the page (issue #23, first part): a template on an empty board, a section's notes moving with it
on every page, "Tidy", collapsing on one page only, and a new section from the keyboard."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.board import BoardPage, stored_texts
from tests.support import ServerProcess

pytestmark = pytest.mark.browser


def section(page: BoardPage, title: str) -> Any:
    return page.page.locator('[data-testid="note"].section:visible').filter(
        has=page.page.get_by_test_id("note-text").get_by_text(title, exact=True)
    )


def stored(api: httpx.Client, board: str) -> dict[str, dict[str, Any]]:
    return {n["text"]: n for n in api.get(f"/api/boards/{board}/notes").json()["notes"]}


def test_a_retro_template_and_notes_that_move_with_their_section(
    server: ServerProcess, open_board: Callable[..., BoardPage], rest: Callable[[ServerProcess], httpx.Client]
) -> None:
    api = rest(server)
    ann = open_board(server, "retro-sections", name="Ann")
    bob = open_board(server, "retro-sections", name="Bob")
    expect(ann.by("templates")).to_be_visible()
    ann.by("template-retro").click()
    for title in ("Went well", "To improve", "Actions"):
        expect(section(bob, title)).to_have_count(1)
    notes = stored(api, "retro-sections")
    assert {t: n["kind"] for t, n in notes.items()} == {
        "Went well": "section",
        "To improve": "section",
        "Actions": "section",
    }
    went = notes["Went well"]

    # Two notes inside "Went well" (their centres in it), one outside every section.
    base = "/api/boards/retro-sections/notes"
    for text, x, y in (("Pairing", went["x"] + 300, went["y"] + 300), ("CI faster", went["x"] + 40, went["y"] + 80)):
        api.post(base, json={"text": text, "x": x, "y": y})
    api.post(base, json={"text": "Elsewhere", "x": 40, "y": 900})
    expect(ann.note("Pairing")).to_have_count(1)

    # Tidy: the section's notes in a grid from its top left, in reading order; one undo step.
    section(ann, "Went well").get_by_test_id("section-tidy").click()
    expect(bob.note("CI faster")).to_have_css("left", f"{went['x'] + 16:g}px")
    expect(bob.note("CI faster")).to_have_css("top", f"{went['y'] + 56:g}px")
    expect(bob.note("Pairing")).to_have_css("left", f"{went['x'] + 16 + 208 + 16:g}px")
    after_tidy = stored(api, "retro-sections")
    assert after_tidy["Elsewhere"]["version"] == 1  # not in the section: untouched

    # Dragging the section by its title takes its notes along (one undo step), not the others.
    title = section(ann, "Went well").get_by_test_id("note-text").bounding_box()
    ann.page.mouse.move(title["x"] + 20, title["y"] + 10)
    ann.page.mouse.down()
    ann.page.mouse.move(title["x"] + 70, title["y"] + 110, steps=6)
    ann.page.mouse.up()
    expect(section(bob, "Went well")).to_have_attribute("data-version", "2")  # created, moved
    expect(bob.note("Pairing")).to_have_attribute("data-version", "3")  # created, tidied, moved
    expect(bob.note("CI faster")).to_have_attribute("data-version", "3")
    moved = stored(api, "retro-sections")
    dx = moved["Went well"]["x"] - after_tidy["Went well"]["x"]  # screen pixels / the template's fitted zoom
    dy = moved["Went well"]["y"] - after_tidy["Went well"]["y"]
    assert dx > 20 and dy > 40
    for text in ("Pairing", "CI faster"):  # along with their section, by the same amount
        assert (moved[text]["x"], moved[text]["y"]) == (after_tidy[text]["x"] + dx, after_tidy[text]["y"] + dy), text
    expect(bob.note("Pairing")).to_have_css("left", f"{moved['Pairing']['x']:g}px")
    assert moved["Elsewhere"]["version"] == 1 and moved["To improve"]["version"] == 1
    ann.page.keyboard.press("Control+z")
    expect(bob.note("Pairing")).to_have_css("left", f"{after_tidy['Pairing']['x']:g}px")

    # Collapsing is this page's view only: the notes hide here, the other page keeps seeing them.
    section(ann, "Went well").get_by_test_id("section-collapse").click()
    expect(ann.note("Pairing")).to_have_count(0)
    expect(section(ann, "Went well").get_by_test_id("section-collapse")).to_have_attribute("aria-expanded", "false")
    expect(bob.note("Pairing")).to_have_count(1)
    section(ann, "Went well").get_by_test_id("section-collapse").click()
    expect(ann.note("Pairing")).to_have_count(1)
    assert ann.errors == [] and bob.errors == []


def test_a_new_section_from_the_keyboard_has_the_typed_title(
    server: ServerProcess, open_board: Callable[..., BoardPage], rest: Callable[[ServerProcess], httpx.Client]
) -> None:
    page = open_board(server, "sect-keys")
    page.by("canvas").click(position={"x": 600, "y": 500})
    page.page.keyboard.press("s")
    editor = page.by("note-editor")
    expect(editor).to_be_focused()
    page.page.keyboard.type("Parking lot")
    page.page.keyboard.press("Enter")
    expect(section(page, "Parking lot")).to_have_count(1)
    expect(section(page, "Parking lot")).to_have_attribute("aria-label", "Section: Parking lot")
    # The page shows the section as soon as it is typed; the server commits it a moment later.
    assert stored_texts(rest(server), "sect-keys", ["Parking lot"]) == ["Parking lot"]
    notes = rest(server).get("/api/boards/sect-keys/notes").json()["notes"]
    assert [(n["text"], n["kind"], n["w"], n["h"]) for n in notes] == [("Parking lot", "section", 560.0, 420.0)]


def test_the_blank_template_starts_with_a_note(server: ServerProcess, open_board: Callable[..., BoardPage]) -> None:
    page = open_board(server, "blank-start", name="Ann")
    expect(page.by("template-blank")).to_be_visible()
    page.by("template-blank").click()
    editor = page.by("note-editor")
    expect(editor).to_be_focused()
    editor.fill("first thought")
    editor.press("Enter")
    expect(page.note("first thought")).to_have_count(1)
    expect(page.page.locator('[data-testid="note"].section')).to_have_count(0)  # no sections
