"""One browser tab on a board page, with the page's test ids as methods (used by the browser tests)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class BoardPage:
    """One browser tab on a board, with what it reported (uncaught errors, native dialogs)."""

    page: Any
    board: str
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def by(self, testid: str) -> Any:
        return self.page.get_by_test_id(testid)

    @property
    def notes(self) -> Any:
        return self.page.locator('[data-testid="note"]:visible')

    def note(self, text: str) -> Any:
        """The note whose text is exactly `text`."""
        return self.notes.filter(has=self.page.get_by_test_id("note-text").get_by_text(text, exact=True))

    @property
    def status(self) -> Any:
        return self.by("connection-status")

    def create_note(self, text: str) -> Any:
        self.by("new-note").click()
        editor = self.by("note-editor")
        editor.fill(text)
        editor.press("Enter")
        return self.note(text)

    def edit(self, note: Any, text: str) -> None:
        # The note is found again by its key: a shared edit commits as it is typed, so a locator that names
        # the old text stops matching as soon as the server announces the new one.
        key = note.get_attribute("data-key")
        note.get_by_test_id("note-text").dblclick()
        editor = self.page.locator(f'[data-testid="note"][data-key="{key}"]').get_by_test_id("note-editor")
        editor.fill(text)
        editor.press("Enter")


def stored_texts(client: httpx.Client, board: str, want: list[str], timeout: float = 5.0) -> list[str]:
    """The board's stored texts once they are `want` (or whatever they are after `timeout`). The page shows a
    shared edit's text as soon as its editor closes; the server commits the last keystrokes a moment later."""
    deadline = time.monotonic() + timeout
    while True:
        texts = [n["text"] for n in client.get(f"/api/boards/{board}/notes").json()["notes"]]
        if texts == want or time.monotonic() > deadline:
            return texts
        time.sleep(0.05)
