"""Typing together in the page (issue #22): the editor of a saved note shares every keystroke on /y/. What is
typed before the shared document arrives is kept (typed at once, and while it arrives), Escape takes back only
this person's typing, and each editor shows the other's caret with their name."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.board import BoardPage, stored_texts
from tests.support import ServerProcess

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("delay", [0, 25], ids=["at-once", "while-it-arrives"])
def test_typing_right_away_is_kept_whenever_the_shared_document_arrives(
    server: ServerProcess,
    open_board: Callable[..., BoardPage],
    rest: Callable[[ServerProcess], httpx.Client],
    delay: int,
) -> None:
    board = f"type-early-{delay}"
    rest(server).post(f"/api/boards/{board}/notes", json={"text": "tab to me", "x": 40, "y": 40})
    page = open_board(server, board)
    page.note("tab to me").focus()
    page.page.keyboard.press("Enter")
    page.page.keyboard.press("Control+A")
    page.page.keyboard.type("line one", delay=delay)
    page.page.keyboard.press("Shift+Enter")
    page.page.keyboard.type("line two", delay=delay)
    page.page.keyboard.press("Enter")
    expect(page.note("line one\nline two")).to_have_count(1)
    assert stored_texts(rest(server), board, ["line one\nline two"]) == ["line one\nline two"]


def test_escape_takes_back_only_what_this_person_typed(
    server: ServerProcess, open_board: Callable[..., BoardPage], rest: Callable[[ServerProcess], httpx.Client]
) -> None:
    note = rest(server).post("/api/boards/type-escape/notes", json={"text": "base", "x": 40, "y": 40}).json()
    ann = open_board(server, "type-escape", name="Ann")
    bob = open_board(server, "type-escape", name="Bob")
    for page in (ann, bob):
        page.note("base").get_by_test_id("note-text").dblclick()
        page.page.wait_for_function(f"!!window.notesboard.store.byId.get({note['id']}).editing?.shared")
    ann_editor, bob_editor = ann.by("note-editor"), bob.by("note-editor")
    ann_editor.press("End")
    ann.page.keyboard.type(" ann")
    expect(bob_editor).to_have_value("base ann")
    bob_editor.press("Home")
    bob.page.keyboard.type("bob ")
    expect(ann_editor).to_have_value("bob base ann")
    bob_editor.press("Escape")  # Bob's typing goes, Ann's stays
    expect(ann_editor).to_have_value("base ann")
    ann_editor.press("Enter")
    expect(bob.note("base ann")).to_have_count(1)
    assert stored_texts(rest(server), "type-escape", ["base ann"]) == ["base ann"]


def test_the_other_editor_s_caret_shows_with_their_name_where_they_type(
    server: ServerProcess, open_board: Callable[..., BoardPage], rest: Callable[[ServerProcess], httpx.Client]
) -> None:
    note = rest(server).post("/api/boards/type-caret/notes", json={"text": "one two three", "x": 40, "y": 40}).json()
    ann = open_board(server, "type-caret", name="Ann")
    bob = open_board(server, "type-caret", name="Bob")
    for page in (ann, bob):
        page.note("one two three").get_by_test_id("note-text").dblclick()
        page.page.wait_for_function(f"!!window.notesboard.store.byId.get({note['id']}).editing?.shared")
    ann_editor = ann.by("note-editor")
    ann_editor.press("Home")
    ann.page.keyboard.type("A")  # Ann's caret: after "A", at the start of the text
    caret = bob.by("remote-caret")
    expect(caret).to_have_count(1)
    expect(caret).to_have_text("Ann")
    badge = bob.by("peer-editing")  # "Ann is editing", in the colour the board gives Ann
    expect(badge).to_have_text("Ann is editing")
    colour = badge.evaluate("el => getComputedStyle(el).backgroundColor")
    expect(caret).to_have_css("background-color", colour)
    start = caret.bounding_box()
    ann_editor.press("End")
    ann.page.keyboard.type("!")  # now at the end: further right
    bob.page.wait_for_function(
        f"""() => {{ const el = document.querySelector('[data-testid=remote-caret]');
                   return el && el.getBoundingClientRect().x > {start["x"] + 40}; }}"""
    )
    expect(ann.by("remote-caret")).to_have_text("Bob")  # and Ann sees Bob's, never her own
    ann_editor.press("Enter")
    expect(caret).to_have_count(0)  # Ann closed her editor: her caret goes


def test_a_save_before_the_shared_document_arrives_is_applied_to_it_not_a_conflict(
    server: ServerProcess, open_board: Callable[..., BoardPage], rest: Callable[[ServerProcess], httpx.Client]
) -> None:
    """An earlier edit's Escape committed this person's own typing (and took it back) and the page has not heard
    of it yet; a second edit saved before its document arrives must not be saved against the version it
    opened on (a conflict with oneself) but applied to the document when it comes. Both sockets are routed
    here so that the board's events and the note's document can be held back."""
    created = rest(server).post("/api/boards/type-late/notes", json={"text": "tab to me", "x": 40, "y": 40}).json()
    entry = f"window.notesboard.store.byId.get({created['id']})"
    page = open_board(server, "type-late")
    held: dict[str, list[tuple[Any, str | bytes]]] = {"ws": [], "y": []}
    holding: set[str] = set()

    def route(kind: str) -> Callable[[Any], None]:
        def connect(ws: Any) -> None:
            upstream = ws.connect_to_server()

            def down(message: str | bytes) -> None:
                if kind in holding:
                    held[kind].append((ws, message))
                else:
                    ws.send(message)

            upstream.on_message(down)
            ws.on_message(lambda message: upstream.send(message))

        return connect

    def release(kind: str) -> None:
        holding.discard(kind)
        for ws, message in held[kind]:
            ws.send(message)
        held[kind].clear()

    page.page.route_web_socket(re.compile(r"/y/"), route("y"))
    page.page.route_web_socket(re.compile(r"/ws/"), route("ws"))
    page.page.reload()  # the board's socket again, now through the route
    note = page.note("tab to me")
    key = note.get_attribute("data-key")
    note.get_by_test_id("note-text").dblclick()
    page.page.wait_for_function(f"!!{entry}.editing?.shared")
    editor = page.by("note-editor")
    page.page.keyboard.type("discarded")
    expect(editor).to_have_value("tab to mediscarded")
    page.page.wait_for_function(f"{entry}.server.version >= 2")
    holding.add("ws")  # the page does not hear of what follows yet
    page.page.keyboard.press("Escape")  # the typing was committed and is taken back: a newer version
    expect(editor).to_have_count(0)  # (the note still shows the first keystroke's version, "tab to med")

    holding.add("y")  # and the next editor's document does not come yet
    page.page.locator(f'[data-key="{key}"]').get_by_test_id("note-text").dblclick()
    expect(page.by("note-editor")).to_be_focused()
    page.page.keyboard.press("Control+A")
    page.page.keyboard.type("written before it came")
    page.page.keyboard.press("Enter")
    expect(page.by("note-editor")).to_have_count(0)  # closed at once
    page.page.wait_for_timeout(300)
    release("y")
    release("ws")
    expect(page.note("written before it came")).to_have_count(1)
    assert stored_texts(rest(server), "type-late", ["written before it came"]) == ["written before it came"]
    expect(page.by("note-conflict")).to_have_count(0)
    assert page.errors == []
