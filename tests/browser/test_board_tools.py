"""The board as a tool (#11): undo/redo across pages, resize and stacking, delete board, import/export, search,
the shortcut overlay, the visible text limit, presence while offline, note contrast, layout shift on a phone,
the bad-board page, the picker's recent boards and a 5,000-note board opened whole.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.browser.conftest import BoardPage
from tests.support import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.timeout(90)]

OpenBoard = Callable[..., BoardPage]
Rest = Callable[[ServerProcess], httpx.Client]


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as pw_expect

    return pw_expect(locator)


def stored(api: httpx.Client, board: str) -> list[dict[str, Any]]:
    res = api.get(f"/api/boards/{board}/notes")
    assert res.status_code == 200, res.text
    return res.json()["notes"]  # type: ignore[no-any-return]


def test_undo_redo_reach_the_other_page(server: ServerProcess, open_board: OpenBoard, rest: Rest) -> None:
    api = rest(server)
    alice = open_board(server, "undo", name="alice")
    bob = open_board(server, "undo", name="bob")
    alice.create_note("first words")
    expect(alice.note("first words")).to_have_attribute("data-pending", "false")
    alice.edit(alice.note("first words"), "second words")
    expect(bob.note("second words")).to_have_count(1)
    expect(alice.note("second words")).to_have_attribute("data-pending", "false")

    alice.page.keyboard.press("Control+z")  # the edit
    expect(bob.note("first words")).to_have_count(1)
    alice.page.keyboard.press("Control+z")  # the create
    expect(bob.notes).to_have_count(0)
    expect(alice.notes).to_have_count(0)
    alice.page.keyboard.press("Control+Shift+z")  # the create again: same id, restored
    expect(bob.note("first words")).to_have_count(1)
    alice.by("redo").click()
    expect(bob.note("second words")).to_have_count(1)
    notes = stored(api, "undo")
    assert [(n["text"], n["id"]) for n in notes] == [("second words", notes[0]["id"])]

    # Delete, then undo: the note comes back with its id, text and place.
    note = alice.note("second words")
    left = note.evaluate("el => el.style.left")
    note.focus()
    alice.page.keyboard.press("Delete")
    alice.by("confirm-ok").click()
    expect(bob.notes).to_have_count(0)
    alice.page.keyboard.press("Control+y")  # nothing to redo: a no-op
    alice.by("undo").click()
    expect(bob.note("second words")).to_have_count(1)
    expect(bob.note("second words")).to_have_css("left", left)
    assert [n["id"] for n in stored(api, "undo")] == [notes[0]["id"]]

    # Someone else changes it: undoing our last change (the restore) is refused, never silent.
    alice.edit(alice.note("second words"), "alice again")
    expect(alice.note("alice again")).to_have_attribute("data-pending", "false")
    bob.edit(bob.note("alice again"), "bob's version")
    expect(alice.note("bob's version")).to_have_count(1)
    alice.page.keyboard.press("Control+z")
    expect(alice.notes.first.get_by_test_id("note-conflict")).to_be_visible()
    assert [n["text"] for n in stored(api, "undo")] == ["bob's version"]

    # Undo of a note someone else deleted: explained, no crash.
    bob.notes.first.focus()
    bob.page.keyboard.press("Delete")
    bob.by("confirm-ok").click()
    expect(alice.notes).to_have_count(0)
    alice.page.keyboard.press("Control+z")
    expect(alice.by("toast").filter(has_text="deleted by someone else")).to_have_count(1)


def test_resize_and_bring_to_front_sync(server: ServerProcess, open_board: OpenBoard, rest: Rest) -> None:
    api = rest(server)
    for text, x in (("under", 80), ("over", 120)):
        assert api.post("/api/boards/stack/notes", json={"text": text, "x": x, "y": 80}).status_code == 201
    a = open_board(server, "stack")
    b = open_board(server, "stack")
    under = a.note("under")
    expect(under).to_have_css("width", "208px")  # defaults for notes without w/h
    expect(under).to_have_css("height", "150px")

    # Picking a note brings it to the front on every page (one update: z = max + 1).
    box = under.bounding_box()
    a.page.mouse.click(box["x"] + 20, box["y"] + 100)
    expect(b.note("under")).to_have_css("z-index", "1")
    # The resize handle: one update with w and h.
    handle = under.get_by_test_id("note-resize")
    under.hover()
    hb = handle.bounding_box()
    a.page.mouse.move(hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2)
    a.page.mouse.down()
    a.page.mouse.move(hb["x"] + 100, hb["y"] + 80, steps=8)
    a.page.mouse.up()
    expect(b.note("under")).to_have_css("width", re.compile(r"29\d(\.\d+)?px"))
    row = next(n for n in stored(api, "stack") if n["text"] == "under")
    assert 290 <= row["w"] <= 300 and 220 <= row["h"] <= 235 and row["z"] == 1, row
    assert row["version"] == 3, "one update for the pick, one for the resize"

    # Long text scrolls inside its note instead of growing it.
    a.note("over").focus()  # "under" now covers it: edit it from the keyboard
    a.page.keyboard.press("Enter")
    a.by("note-editor").fill("line\n" * 60)
    a.by("note-editor").press("Enter")
    over = b.notes.filter(has_text="line")
    expect(over).to_have_css("height", "150px")
    assert over.get_by_test_id("note-text").evaluate("el => el.scrollHeight > el.clientHeight")
    # It scrolls where the pointer (or the focus) is; elsewhere the text is clipped (no scroll container).
    scrolled = "el => { el.scrollTop = 60; return el.scrollTop; }"
    assert over.get_by_test_id("note-text").evaluate(scrolled) == 0
    over.focus()  # "under" covers it on this page too: the focus, not the pointer
    assert over.get_by_test_id("note-text").evaluate(scrolled) == 60

    # Keyboard: PageUp brings to front, Alt+arrows resize.
    a.notes.filter(has_text="line").focus()
    a.page.keyboard.press("PageUp")
    a.note("under").focus()
    a.page.keyboard.press("Alt+ArrowRight")
    expect(b.notes.filter(has_text="line")).to_have_css("z-index", "2")
    expect(b.note("under")).to_have_css("width", re.compile(r"30\d(\.\d+)?px"))


def test_delete_board_and_import_appear_live(
    server: ServerProcess, open_board: OpenBoard, rest: Rest, tmp_path: Any
) -> None:
    api = rest(server)
    for i in range(3):
        api.post("/api/boards/doomed/notes", json={"text": f"n{i}", "author": "zoe"})
    a = open_board(server, "doomed")
    b = open_board(server, "doomed")
    expect(b.notes).to_have_count(3)
    exported = api.get("/api/boards/doomed/export?format=json")
    assert exported.status_code == 200
    href = a.by("export-md").get_attribute("href")
    assert href == "/api/boards/doomed/export?format=md"

    a.by("board-menu-button").click()
    with a.page.expect_download() as download:
        a.by("export-json").click()
    saved = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert saved["format"] == "notesboard-export" and len(saved["notes"]) == 3
    assert download.value.suggested_filename == "doomed.json"
    a.by("delete-board").click()
    expect(a.by("confirm-dialog")).to_contain_text("Delete the board")
    a.by("confirm-ok").click()
    expect(b.notes).to_have_count(0)
    expect(a.notes).to_have_count(0)
    assert stored(api, "doomed") == []

    # Import the export back: the notes appear on the other page, live; a bad file says why.
    good = tmp_path / "board.json"
    good.write_text(exported.text)
    a.by("import-file").set_input_files(str(good))
    expect(b.notes).to_have_count(3)
    expect(a.by("toast").filter(has_text="Imported 3 notes")).to_have_count(1)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "notesboard-export", "version": 1, "notes": [{"text": 5}]}))
    a.by("import-file").set_input_files(str(bad))
    expect(a.by("toast").filter(has_text="Import failed")).to_have_count(1)
    expect(b.notes).to_have_count(3)


def test_search_shortcuts_and_text_limit(server: ServerProcess, open_board: OpenBoard, rest: Rest) -> None:
    api = rest(server)
    api.post("/api/boards/find/notes", json={"text": "Ship the release", "author": "ada", "x": 40, "y": 40})
    api.post("/api/boards/find/notes", json={"text": "Lunch menu", "author": "bob", "x": 300, "y": 40})
    page = open_board(server, "find")
    page.page.keyboard.press("/")
    expect(page.by("search")).to_be_focused()
    page.page.keyboard.type("ship")
    expect(page.note("Ship the release")).to_have_class(re.compile(r"\bmatch\b"))
    expect(page.note("Lunch menu")).to_have_class(re.compile(r"\bdimmed\b"))
    expect(page.by("search-count")).to_have_text("1 match")
    # Live: a note that changes to match is highlighted.
    lunch = next(n for n in stored(api, "find") if n["text"] == "Lunch menu")
    api.patch(f"/api/boards/find/notes/{lunch['id']}", json={"text": "Ship lunch too", "author": "bob"})
    expect(page.note("Ship lunch too")).to_have_class(re.compile(r"\bmatch\b"))
    expect(page.note("Ship lunch too").get_by_test_id("note-edited")).to_have_text("edited by bob")
    expect(page.note("Ship lunch too").get_by_test_id("note-time")).to_have_text("just now")
    page.page.keyboard.press("Escape")
    expect(page.page.locator(".note.dimmed")).to_have_count(0)

    # ? lists every shortcut.
    page.by("canvas").click(position={"x": 900, "y": 600})
    page.page.keyboard.press("?")
    expect(page.by("shortcuts")).to_be_visible()
    expect(page.by("shortcut")).to_have_count(27)
    expect(page.by("shortcuts")).to_contain_text("Select every note")
    expect(page.by("shortcuts")).to_contain_text("Replay the board's history")
    expect(page.by("shortcuts")).to_contain_text("Versions of the focused note")
    expect(page.by("shortcuts")).to_contain_text("Undo")
    page.page.keyboard.press("Escape")
    expect(page.by("shortcuts")).to_be_hidden()

    # Zoom keys and fit.
    page.page.keyboard.press("-")
    expect(page.by("zoom-level")).to_have_text("80%")
    page.page.keyboard.press("f")
    expect(page.by("zoom-level")).to_have_text("100%")
    page.page.keyboard.press("0")

    # Past the limit the editor says so and nothing is cut or sent.
    page.by("new-note").click()
    editor = page.by("note-editor")
    editor.fill("x" * 10_005)
    expect(page.by("note-limit")).to_contain_text("too long")
    editor.press("Enter")
    expect(editor).to_be_visible()
    assert len(editor.input_value()) == 10_005
    editor.press("Escape")
    assert len(stored(api, "find")) == 2


def test_presence_badge_offline(fresh_server: ServerProcess, open_board: OpenBoard) -> None:
    fresh_server.start()
    a = open_board(fresh_server, "pres")
    open_board(fresh_server, "pres")
    expect(a.by("presence-count")).to_have_text("2")
    fresh_server.stop()
    expect(a.status).to_have_attribute("data-state", re.compile("reconnecting|offline"))
    expect(a.by("presence-count")).not_to_have_text("2")
    expect(a.by("presence")).to_have_attribute("data-live", "false")


CONTRAST_JS = """() => {
  const lum = (rgb) => {
    const [r, g, b] = rgb.match(/[\\d.]+/g).slice(0, 3).map(Number).map((c) => {
      const s = c / 255; return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const out = [];
  for (const note of document.querySelectorAll('[data-testid="note"]')) {
    const bg = lum(getComputedStyle(note).backgroundColor);
    for (const el of note.querySelectorAll('.note-text, .note-author, .note-time')) {
      const st = getComputedStyle(el);
      let op = 1;
      for (let e = el; e && e !== note.parentElement; e = e.parentElement) op *= Number(getComputedStyle(e).opacity);
      const fg = lum(st.color);
      const [hi, lo] = [Math.max(fg, bg), Math.min(fg, bg)];
      out.push({ color: note.dataset.color, cls: el.className, ratio: (hi + 0.05) / (lo + 0.05), opacity: op });
    }
  }
  return out;
}"""


def test_note_text_contrast_on_every_colour(server: ServerProcess, open_board: OpenBoard, rest: Rest) -> None:
    api = rest(server)
    colours = [
        "#fde68a",
        "#fdba74",
        "#f9a8d4",
        "#c4b5fd",
        "#93c5fd",
        "#86efac",
        "#e5e7eb",
        "#00eb14",
        "#767676",
        "#0000ff",
        "#ff0000",
    ]
    for i, c in enumerate(colours):
        api.post(
            "/api/boards/ink/notes",
            json={"text": c, "author": "ann", "color": c, "x": 10 + (i % 5) * 220, "y": 10 + (i // 5) * 170},
        )
    page = open_board(server, "ink")
    expect(page.notes).to_have_count(len(colours))
    rows = page.page.evaluate(CONTRAST_JS)
    assert len(rows) == 3 * len(colours)
    bad = [r for r in rows if r["ratio"] < 4.5 or r["opacity"] < 1]
    assert bad == [], bad


CLS_JS = """() => new Promise((resolve) => {
  let cls = 0;
  new PerformanceObserver((list) => { for (const e of list.getEntries()) if (!e.hadRecentInput) cls += e.value; })
    .observe({ type: "layout-shift", buffered: true });
  setTimeout(() => resolve(cls), 1500);
})"""


def test_phone_header_does_not_shift_the_board(server: ServerProcess, open_board: OpenBoard, rest: Rest) -> None:
    api = rest(server)
    for i in range(4):
        api.post("/api/boards/phone-cls/notes", json={"text": f"note {i}", "x": 10, "y": 10 + i * 160})
    open_board(server, "phone-cls", name="someone with a long name")
    page = open_board(server, "phone-cls", name="Ada Lovelace", viewport=(412, 915))
    expect(page.notes).to_have_count(4)
    cls = page.page.evaluate(CLS_JS)
    assert cls < 0.1, f"cumulative layout shift {cls}"
    assert page.page.evaluate("document.documentElement.scrollWidth") <= 412


def test_bad_board_address_explains(server: ServerProcess, browser: Any) -> None:
    res = httpx.get(f"{server.url}/b/bad%20name")
    assert res.status_code == 404 and res.headers["content-type"].startswith("text/html")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{server.url}/b/bad%20name")
        expect(page.get_by_test_id("bad-board")).to_contain_text("is not a board name")
        expect(page.get_by_test_id("bad-board")).to_contain_text("bad name")
        page.get_by_test_id("bad-board-home").click()
        page.wait_for_url(server.url + "/")
    finally:
        context.close()


def test_picker_shows_recent_boards_not_the_server_list(
    fresh_server: ServerProcess, server: ServerProcess, open_board: OpenBoard, rest: Rest
) -> None:
    # Listing is off by default: the picker shows the boards this browser visited, not the server's list.
    fresh_server.start()
    rest(fresh_server).post("/api/boards/someone-elses/notes", json={"text": "private"})
    assert rest(fresh_server).get("/api/boards").status_code == 403
    page = open_board(fresh_server, "mine-visited")
    page.page.goto(fresh_server.url + "/")
    expect(page.page.get_by_test_id("recent-link").filter(has_text="mine-visited")).to_have_count(1)
    expect(page.page.get_by_test_id("all-boards")).to_be_hidden()
    assert page.page.get_by_text("someone-elses").count() == 0
    # With --list-boards (the module's server) "all boards" is shown too.
    rest(server).post("/api/boards/listed-board/notes", json={"text": "x"})
    page.page.goto(server.url + "/")
    expect(page.page.get_by_test_id("all-boards")).to_be_visible()
    expect(page.page.get_by_test_id("board-link").filter(has_text="listed-board")).to_contain_text("1 note")
