"""The static client: `/` (board picker), `/b/{board}` (board page) and `/static/*`."""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from notesboard.contract.errors import BadRequest
from notesboard.contract.validate import check_board

__all__ = ["bad_board_page", "client_dir", "mount_pages"]


def client_dir(configured: Path | None = None) -> Path:
    """The configured folder, else the copy bundled in the wheel, else the source checkout's `client/`."""
    if configured is not None:
        return configured
    package = Path(__file__).resolve().parents[1]  # notesboard/ (this is notesboard/ingress/pages.py)
    for candidate in (package / "_client", package.parents[1] / "client"):
        if (candidate / "index.html").is_file():
            return candidate
    raise RuntimeError("the client folder was not found; set NOTESBOARD_CLIENT_DIR")


def mount_pages(app_router: APIRouter, folder: Path) -> StaticFiles:
    index = folder / "index.html"
    board_page = folder / "board.html"

    @app_router.get("/", include_in_schema=False)
    async def picker() -> Response:
        return FileResponse(index, media_type="text/html")

    @app_router.get("/b/{board}", include_in_schema=False)
    async def board(board: str) -> Response:
        try:
            check_board(board)
        except BadRequest:
            # A person typed or followed this address: explain in a page, not in JSON (still a 404).
            return HTMLResponse(bad_board_page(board), status_code=404)
        return FileResponse(board_page, media_type="text/html")

    return StaticFiles(directory=folder)


def bad_board_page(board: str) -> str:
    """The page for /b/<not a board name>: what is wrong with the name, and a way on. `board` is escaped."""
    shown = escape(board[:80] + ("…" if len(board) > 80 else ""))
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <title>Not a board · notesboard</title>
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/static/style.css">
</head>
<body class="picker-page">
  <header class="topbar">
    <a class="brand" href="/"><span class="brand-mark" aria-hidden="true"></span>
      <span class="brand-name">notesboard</span></a>
  </header>
  <main class="picker">
    <section class="card hero" data-testid="bad-board">
      <h1>“{shown}” is not a board name</h1>
      <p class="lede">Board names use letters, digits, <code>_</code> and <code>-</code>, start with a letter or digit,
        and have at most 64 characters. Spaces and other signs are not allowed.</p>
      <p><a class="btn btn-primary" href="/" data-testid="bad-board-home">Open or create a board</a></p>
    </section>
  </main>
</body>
</html>
"""
