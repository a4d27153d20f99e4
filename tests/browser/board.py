"""One browser tab on a board page, with the page's test ids as methods (used by the browser tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
        note.get_by_test_id("note-text").dblclick()
        editor = note.get_by_test_id("note-editor")
        editor.fill(text)
        editor.press("Enter")
