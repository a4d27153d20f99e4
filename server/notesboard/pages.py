"""The static client: `/` (board picker), `/b/{board}` (board page) and `/static/*`."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles

from notesboard.errors import BadRequest, NotFound
from notesboard.validate import check_board

__all__ = ["client_dir", "mount_pages"]


def client_dir(configured: Path | None = None) -> Path:
    """The configured folder, else the copy bundled in the wheel, else the source checkout's `client/`."""
    if configured is not None:
        return configured
    here = Path(__file__).resolve().parent
    for candidate in (here / "_client", here.parent.parent / "client"):
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
            raise NotFound(f"no such board page: {board[:80]!r}") from None
        return FileResponse(board_page, media_type="text/html")

    return StaticFiles(directory=folder)
