"""End to end on a server that needs tokens (NOTESBOARD_AUTH_SECRET): the page asks for one, keeps it, works
with a write token, turns read-only with a read token, and asks again when its token expires.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from notesboard.core.auth import mint
from tests.browser.board import BoardPage
from tests.support import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.timeout(60)]

OpenBoard = Callable[..., BoardPage]
SECRET = "browser-tests-secret-0123456789abcdef"  # >= 32 bytes: PyJWT warns about shorter HMAC keys


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as pw_expect

    return pw_expect(locator)


def token(pattern: str, role: str = "write", ttl: float = 600) -> str:
    return mint(SECRET, pattern, role, ttl)  # type: ignore[arg-type]


def api(server: ServerProcess, tok: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=10, headers={"Authorization": f"Bearer {tok}"})


def stored_token(page: BoardPage, server: ServerProcess) -> str | None:
    return page.page.evaluate(f"localStorage.getItem('notesboard.token:{server.url}')")  # type: ignore[no-any-return]


def enter_token(page: BoardPage, value: str) -> None:
    page.by("token-input").fill(value)
    page.by("token-save").click()


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("auth-server")
    srv = ServerProcess(
        f"sqlite+aiosqlite:///{tmp / 'notes.db'}", tmp / "server.log", env={"NOTESBOARD_AUTH_SECRET": SECRET}
    ).start()
    yield srv
    srv.stop()


def test_asks_for_a_token_and_works_with_it(auth_server: ServerProcess, open_board: OpenBoard) -> None:
    page = open_board(auth_server, "team-a", wait=False)
    dialog = page.by("token-dialog")
    expect(dialog).to_be_visible()
    expect(page.by("token-reason")).to_have_text(re.compile("needs an access token"))
    expect(page.by("token-detail")).to_contain_text("requires a token")
    expect(page.by("token-input")).to_be_focused()

    # "Not now" closes it; the header's token button says a token is needed and opens it again.
    page.by("token-cancel").click()
    expect(dialog).to_be_hidden()
    expect(page.by("token-label")).to_have_text("Token needed")
    page.by("token-button").click()
    expect(dialog).to_be_visible()
    expect(page.by("token-reason")).to_have_text(re.compile("needs an access token"))

    # A bad token is refused with the server's reason, and the dialog asks again.
    enter_token(page, "not-a-real-token")
    expect(page.by("token-reason")).to_have_text(re.compile("did not accept"))
    expect(page.by("token-detail")).to_contain_text("invalid token")
    expect(page.status).not_to_have_attribute("data-state", "connected")

    write = token("team-*")
    enter_token(page, f"  Bearer {write}\n")
    expect(dialog).to_be_hidden()
    expect(page.status).to_have_attribute("data-state", "connected")
    expect(page.by("readonly-badge")).to_be_hidden()
    expect(page.by("token-button")).to_be_visible()
    expect(page.by("token-label")).to_have_text("Token")
    assert stored_token(page, auth_server) == write

    # A second tab gets the token in the address fragment, which is saved and taken off the address.
    other = open_board(auth_server, "team-a", fragment=f"token={write}")
    assert "token" not in other.page.url
    assert stored_token(other, auth_server) == write
    page.create_note("written with a token")
    expect(other.note("written with a token")).to_have_count(1)
    expect(page.note("written with a token")).to_have_attribute("data-pending", "false")
    with api(auth_server, write) as rest:
        assert [n["text"] for n in rest.get("/api/boards/team-a/notes").json()["notes"]] == ["written with a token"]

    # The picker sends the saved token on its REST call (Authorization: Bearer).
    other.page.goto(auth_server.url + "/")
    expect(other.page.get_by_test_id("board-link").filter(has_text="team-a")).to_contain_text("1 note")


def test_read_only_token_shows_a_read_only_board(auth_server: ServerProcess, open_board: OpenBoard) -> None:
    with api(auth_server, token("ro-*")) as rest:
        created = rest.post("/api/boards/ro-board/notes", json={"text": "look, don't touch", "x": 80, "y": 80})
        assert created.status_code == 201, created.text
    page = open_board(auth_server, "ro-board", fragment=f"token={token('ro-*', 'read')}")
    note = page.note("look, don't touch")
    expect(note).to_have_count(1)
    expect(page.by("readonly-badge")).to_be_visible()
    expect(page.by("new-note")).to_be_disabled()
    expect(note.get_by_test_id("note-delete")).to_be_hidden()
    expect(note.get_by_test_id("note-color-button")).to_be_hidden()

    # None of the ways to change a note does anything.
    note.get_by_test_id("note-text").dblclick()
    page.by("canvas").dblclick(position={"x": 700, "y": 500})
    note.focus()
    for key in ("Enter", "Delete", "ArrowRight", "n"):
        page.page.keyboard.press(key)
    box = note.bounding_box()
    page.page.mouse.move(box["x"] + 60, box["y"] + 80)
    page.page.mouse.down()
    page.page.mouse.move(box["x"] + 260, box["y"] + 220, steps=8)
    page.page.mouse.up()
    page.page.wait_for_timeout(700)  # past the arrow keys' settle time: nothing may be sent
    expect(page.by("note-editor")).to_have_count(0)
    expect(page.by("confirm-dialog")).to_be_hidden()
    expect(page.notes).to_have_count(1)
    expect(note).to_have_css("left", "80px")
    expect(page.status).to_have_attribute("data-pending", "0")
    with api(auth_server, token("ro-*", "read")) as rest:
        notes = rest.get("/api/boards/ro-board/notes").json()["notes"]
    assert [(n["text"], n["version"], n["x"]) for n in notes] == [("look, don't touch", 1, 80)]

    # History needs only read access: the note's versions (without restoring), and the replay (with the token).
    expect(page.by("new-section")).to_be_disabled()
    expect(note.get_by_test_id("note-versions")).to_be_visible()
    note.get_by_test_id("note-versions").click()
    expect(page.by("version")).to_have_count(1)
    expect(page.by("version-restore")).to_have_count(0)
    page.by("versions-close").click()
    page.by("replay-button").click()
    expect(page.by("replay-position")).to_have_attribute("data-seq", "1")
    expect(page.page.locator('#replay-canvas [data-testid="note"]:visible')).to_have_count(1)
    page.by("replay-live").click()
    expect(page.by("replay-bar")).to_be_hidden()


def test_expired_token_asks_again(auth_server: ServerProcess, open_board: OpenBoard) -> None:
    # Already expired when the page opens: the probe says why.
    page = open_board(auth_server, "exp", wait=False, fragment=f"token={token('exp', ttl=-5)}")
    expect(page.by("token-dialog")).to_be_visible()
    expect(page.by("token-reason")).to_have_text(re.compile("expired"))
    expect(page.by("token-detail")).to_contain_text("token expired")

    # A short-lived token works until it expires; then the server closes 1008 "token expired" and the page
    # asks again (`exp` is whole seconds: this one lives 2 to 3 s).
    enter_token(page, token("exp", ttl=3))
    expect(page.status).to_have_attribute("data-state", "connected")
    expect(page.by("token-dialog")).to_be_hidden()
    expect(page.by("token-dialog")).to_be_visible(timeout=6000)
    expect(page.by("token-reason")).to_have_text(re.compile("expired"))
    expect(page.status).to_have_attribute("data-state", "offline")
    expect(page.by("token-label")).to_have_text("Token needed")

    fresh = token("exp")
    enter_token(page, fresh)
    expect(page.status).to_have_attribute("data-state", "connected")
    expect(page.by("token-label")).to_have_text("Token")
    assert stored_token(page, auth_server) == fresh
    page.create_note("after renewal")
    expect(page.note("after renewal")).to_have_attribute("data-pending", "false")
