"""A 5,000-note board opens whole: every note is on the page (the time is measured by bench/board_load.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.browser.conftest import BoardPage
from tests.support import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

OpenBoard = Callable[..., BoardPage]
Rest = Callable[[ServerProcess], httpx.Client]
N = 5000


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as pw_expect

    return pw_expect(locator)


def test_a_5000_note_board_opens_whole(server: ServerProcess, open_board: OpenBoard, rest: Rest) -> None:
    notes = [{"id": i + 1, "text": f"note {i}", "x": 24 + (i % 50) * 232, "y": 24 + (i // 50) * 174} for i in range(N)]
    body = {"format": "notesboard-export", "version": 1, "board": "big", "notes": notes}
    res = httpx.post(f"{server.url}/api/boards/big/import", json=body, timeout=120)
    assert res.status_code == 200 and res.json()["created"] == N, res.text
    started = time.monotonic()
    page = open_board(server, "big", wait=False)
    expect(page.page.locator('[data-testid="note"]')).to_have_count(N, timeout=30_000)
    print(f"\n{N} notes shown {time.monotonic() - started:.2f} s after navigation (bench/board_load.py measures it)")
    expect(page.status).to_have_attribute("data-state", "connected")
    expect(page.by("more-note")).to_be_hidden()
    ids = page.page.evaluate(
        "new Set([...document.querySelectorAll('[data-testid=note]')].map((e) => e.dataset.id)).size"
    )
    assert ids == N
    # Fit-to-screen shows the whole board at once; the last note is then on screen.
    page.by("zoom-fit").click()
    expect(page.by("zoom-level")).not_to_have_text("100%")
    expect(page.note(f"note {N - 1}")).to_be_in_viewport()
