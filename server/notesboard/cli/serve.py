"""`notesboard serve`: its options are generated from `Settings` (settings_cli), then checked and run."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console

from notesboard.cli.settings import settings_options
from notesboard.runtime.config import Settings

__all__ = ["serve_command"]

err = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    from notesboard.cli.startup_errors import error_line

    error_line(message)
    return typer.Exit(code=1)


def _sqlite_in_memory(url: str) -> bool:
    path = url.split("://", 1)[1]
    return path in ("", "/") or ":memory:" in path or "mode=memory" in path


@settings_options
def serve_command(given: dict[str, Any]) -> None:
    """Serve the board, its REST API and the browser client.

    Every option is also read from the environment as NOTESBOARD_<OPTION> (e.g. NOTESBOARD_MAX_TEXT); an
    option given here wins. README.md, section Settings, has the same list.

    Exit status: 0 stopped; 1 bad setting; 2 bad command line; 3 other start-up failure.

    4 database unreachable; 5 database unwritable; 6 cannot listen on host:port; 7 broker unreachable.
    """
    from pydantic import ValidationError

    from notesboard.cli import startup_errors as se

    try:
        settings = Settings.model_validate(given)
    except ValidationError as exc:
        for line in se.settings_errors(exc):
            se.error_line(line)
        raise typer.Exit(code=se.ExitCode.BAD_SETTING) from None
    from notesboard.cluster import check_url

    try:
        check_url(settings.broker)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if settings.workers > 1 and settings.broker.startswith("memory"):
        raise _fail("--workers above 1 needs a shared broker (redis:// or postgres://); memory:// is one process")
    if not settings.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise _fail("--database-url must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
    if settings.workers > 1 and settings.is_sqlite() and _sqlite_in_memory(settings.database_url):
        raise _fail("--workers above 1 on SQLite needs a database file that every worker opens, not :memory:")
    raise typer.Exit(se.start(settings))
