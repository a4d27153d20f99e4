"""Browser fixtures: Debian's Chromium driven by Playwright (sync API), and a helper per board page.

Playwright never downloads a browser here: it launches /usr/bin/chromium. Without it the browser tests
skip, saying so (CI installs it in .ci/run).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.board import BoardPage
from tests.support import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000
# Short connection timings for tests: reconnects within half a second once the server is back.
FAST = "backoffBase=100&backoffMax=500&ping=2000&pingTimeout=2000"


# The client does not care which database the server uses, so the browser tests run on SQLite only (the
# server's own tests cover every backend); this also keeps the browser suite short.
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server per test module, on its own SQLite file."""
    tmp = tmp_path_factory.mktemp("browser-server")
    # The picker's "all boards" list needs the server-wide list, which is off by default (unlisted boards).
    env = {"NOTESBOARD_LIST_BOARDS": "true"}
    srv = ServerProcess(f"sqlite+aiosqlite:///{tmp / 'notes.db'}", tmp / "server.log", env=env).start()
    yield srv
    srv.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of its own, not yet started, for tests that stop and start it."""
    srv = ServerProcess(f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}", tmp_path / "server.log")
    yield srv
    srv.kill()


# Module scope, not session: while Playwright's sync API is alive it keeps an event loop marked as running in
# this thread, which would break every asyncio test that runs after the browser modules.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run browser tests")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_board(browser: Any) -> Iterator[Callable[..., BoardPage]]:
    """Open `/b/{board}` in a fresh browser context (its own localStorage) and wait until it is connected.

    `fragment` goes after `#` (e.g. `token=...`); `wait=False` returns as soon as the page is loaded;
    `init_script` runs in the page before its own scripts.
    """
    from playwright.sync_api import expect

    opened: list[tuple[Any, BoardPage]] = []

    def open_(
        server: ServerProcess,
        board: str,
        *,
        name: str | None = None,
        query: str = FAST,
        viewport: tuple[int, int] = (1280, 800),
        color_scheme: str = "light",
        wait: bool = True,
        fragment: str = "",
        init_script: str = "",
    ) -> BoardPage:
        context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, color_scheme=color_scheme, service_workers="block"
        )
        context.set_default_timeout(TIMEOUT_MS)
        if name is not None:
            context.add_init_script(f"localStorage.setItem('notesboard.name', {json.dumps(name)})")
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        bp = BoardPage(page, board)
        page.on("pageerror", lambda exc: bp.errors.append(str(exc)))

        def on_dialog(dialog: Any) -> None:
            bp.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        opened.append((context, bp))
        page.goto(f"{server.url}/b/{board}" + (f"?{query}" if query else "") + (f"#{fragment}" if fragment else ""))
        if wait:
            expect(bp.status).to_have_attribute("data-state", "connected")
        return bp

    yield open_
    for context, bp in opened:
        context.close()
        assert bp.errors == [], f"uncaught errors in the page: {bp.errors}"


@pytest.fixture
def rest(request: pytest.FixtureRequest) -> Callable[[ServerProcess], httpx.Client]:
    """An httpx client on a server, closed after the test."""
    clients: list[httpx.Client] = []

    def make(server: ServerProcess) -> httpx.Client:
        client = httpx.Client(base_url=server.url, timeout=10)
        clients.append(client)
        return client

    request.addfinalizer(lambda: [c.close() for c in clients])
    return make
