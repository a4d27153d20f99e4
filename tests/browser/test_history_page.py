"""History in the page (issue #24): a note's versions with "restore this version" (seen live on another page,
undoable), and the board replayed forward and back, read-only, then back to live with what changed meanwhile."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.board import BoardPage
from tests.support import ROOT, ServerProcess

pytestmark = pytest.mark.browser


def replayed(page: BoardPage) -> Any:
    """The notes of the replayed board."""
    return page.page.locator('#replay-canvas [data-testid="note"]:visible')


def replayed_texts(page: BoardPage) -> Any:
    return replayed(page).get_by_test_id("note-text")


def test_restore_a_version_is_seen_live_and_can_be_undone(
    server: ServerProcess, open_board: Callable[..., BoardPage], rest: Callable[[ServerProcess], httpx.Client]
) -> None:
    api = rest(server)
    base = "/api/boards/hist-versions/notes"
    note = api.post(base, json={"text": "first draft", "x": 40, "y": 40, "author": "ann"}).json()
    api.patch(f"{base}/{note['id']}", json={"text": "second draft", "author": "bob"})
    api.patch(f"{base}/{note['id']}", json={"x": 300, "y": 60})
    api.patch(f"{base}/{note['id']}", json={"color": "#bfdbfe"})
    ann = open_board(server, "hist-versions", name="Ann")
    bob = open_board(server, "hist-versions", name="Bob")

    ann.note("second draft").focus()
    ann.page.keyboard.press("v")
    dialog = ann.by("versions-dialog")
    expect(dialog).to_be_visible()
    versions = ann.by("version")
    expect(versions).to_have_count(4)  # newest first
    expect(versions.nth(0)).to_contain_text("Version 4")
    expect(versions.nth(0)).to_contain_text("recoloured")
    expect(versions.nth(1)).to_contain_text("moved")
    expect(versions.nth(2)).to_contain_text("bob")
    expect(versions.nth(2).locator("del")).to_have_text("first")
    expect(versions.nth(2).locator("ins")).to_have_text("second")
    expect(versions.nth(3)).to_contain_text("created")
    expect(versions.nth(0).get_by_test_id("version-restore")).to_have_count(0)  # the note as it is now
    versions.nth(3).get_by_role("button", name="Restore version 1").click()
    expect(dialog).to_be_hidden()

    # An ordinary versioned update: every page sees it, and it is a new version, not a rewrite of the log.
    expect(bob.note("first draft")).to_have_count(1)
    expect(bob.note("first draft")).to_have_css("left", "40px")
    stored = api.get(base).json()["notes"]
    assert [(n["text"], n["x"], n["y"], n["color"], n["version"]) for n in stored] == [
        ("first draft", 40, 40, note["color"], 5)
    ]
    expect(ann.note("first draft")).to_have_attribute("data-pending", "false")

    # Undoable like any change of this page: the note is as it was before the restore.
    ann.note("first draft").focus()
    ann.page.keyboard.press("Control+z")
    expect(bob.note("second draft")).to_have_count(1)
    expect(bob.note("second draft")).to_have_css("left", "300px")

    # The panel follows the note: opened again it lists the restore and its undo.
    ann.note("second draft").get_by_test_id("note-versions").click()
    expect(versions).to_have_count(6)
    expect(versions.nth(0)).to_contain_text("Version 6")
    ann.by("versions-close").click()
    expect(dialog).to_be_hidden()


def test_replay_forward_and_back_then_back_to_live(
    server: ServerProcess, open_board: Callable[..., BoardPage], rest: Callable[[ServerProcess], httpx.Client]
) -> None:
    api = rest(server)
    base = "/api/boards/hist-replay/notes"
    one = api.post(base, json={"text": "one", "x": 40, "y": 40}).json()  # seq 1
    two = api.post(base, json={"text": "two", "x": 300, "y": 40}).json()  # 2
    api.patch(f"{base}/{one['id']}", json={"text": "one, edited"})  # 3
    api.delete(f"{base}/{two['id']}")  # 4
    api.post(base, json={"text": "three", "x": 40, "y": 260})  # 5
    page = open_board(server, "hist-replay")
    other = open_board(server, "hist-replay")
    expect(page.notes).to_have_count(2)

    page.by("replay-button").click()
    expect(page.by("replay-banner")).to_contain_text("Viewing history")
    position = page.by("replay-position")
    expect(position).to_have_attribute("data-seq", "5")
    expect(replayed_texts(page)).to_have_text(["one, edited", "three"])
    expect(page.by("canvas")).to_be_hidden()  # the live board steps aside
    expect(page.by("toolbar")).to_be_hidden()

    # Back in time with the scrubber, and to the start.
    scrubber = page.by("replay-scrubber")
    scrubber.fill("2")
    expect(position).to_have_attribute("data-seq", "2")
    expect(replayed_texts(page)).to_have_text(["one", "two"])
    # Read-only: a double-click opens no editor, N makes no note, Delete asks nothing.
    replayed(page).first.get_by_test_id("note-text").dblclick()
    page.page.keyboard.press("n")
    expect(page.by("note-editor")).to_have_count(0)
    scrubber.fill("0")
    expect(position).to_have_attribute("data-seq", "0")
    expect(replayed(page)).to_have_count(0)

    # Play forward to the end, where it stops.
    page.by("replay-speed").select_option("50")
    page.by("replay-play").click()
    expect(position).to_have_attribute("data-seq", "5", timeout=10_000)
    expect(page.by("replay-play")).to_have_text("Play")
    expect(replayed_texts(page)).to_have_text(["one, edited", "three"])

    # Jump to a time: before everything, then after everything.
    page.by("replay-time").fill("2000-01-01T00:00:00")
    expect(position).to_have_attribute("data-seq", "0")
    page.by("replay-time").fill("2999-01-01T00:00:00")
    expect(position).to_have_attribute("data-seq", "5")

    # Live changes keep arriving while the history shows; they are on the board when it goes back to live.
    other.create_note("four")
    expect(page.by("replay-live-count")).to_contain_text("live change")
    expect(replayed(page)).to_have_count(2)
    page.by("replay-live").click()
    expect(page.by("replay-bar")).to_be_hidden()
    expect(page.note("four")).to_have_count(1)
    expect(page.notes).to_have_count(3)
    assert page.errors == []


def test_replay_screenshot(
    server: ServerProcess,
    open_board: Callable[..., BoardPage],
    rest: Callable[[ServerProcess], httpx.Client],
    tmp_path: Path,
) -> None:
    """A retro replayed halfway, saved to $NOTESBOARD_REPLAY_SCREENSHOT (`make screenshot`: docs/replay.png)."""
    target = os.environ.get("NOTESBOARD_REPLAY_SCREENSHOT")
    shot = ROOT / target if target else tmp_path / "replay.png"
    api = rest(server)
    base = "/api/boards/retro-replay/notes"
    notes = [
        ("Ada", "#fde68a", 48, 40, "What went well?"),
        ("Grace", "#93c5fd", 288, 60, "Pairing on the sync bug"),
        ("Linus", "#f9a8d4", 528, 40, "CI got faster"),
        ("Ada", "#86efac", 60, 280, "To improve: fewer meetings"),
        ("Grace", "#fdba74", 300, 300, "Action: write the replay docs"),
        ("Margaret", "#c4b5fd", 540, 280, "Action: book the demo room"),
    ]
    ids = [
        api.post(base, json={"text": t, "author": a, "color": c, "x": x, "y": y}).json()["id"]
        for a, c, x, y, t in notes
    ]
    for i, note_id in enumerate(ids):
        api.patch(f"{base}/{note_id}", json={"x": 60 + (i % 3) * 240, "y": 40 + (i // 3) * 240, "author": "Ada"})
    page = open_board(server, "retro-replay", name="Ada", viewport=(1200, 640))
    expect(page.notes).to_have_count(len(notes))
    page.by("canvas").click(position={"x": 1100, "y": 600})
    page.page.keyboard.press("h")  # at this width History is in the toolbar's overflow menu
    page.by("replay-scrubber").fill("9")  # every note written, three of them moved into place
    expect(page.by("replay-position")).to_have_attribute("data-seq", "9")
    expect(replayed(page)).to_have_count(len(notes))
    page.page.mouse.move(1, 600)
    shot.parent.mkdir(exist_ok=True)
    page.page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
