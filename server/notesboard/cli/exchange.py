"""`notesboard export` and `notesboard import`: a board to a file and back, through the REST API.

The request runs as a coroutine under `until_signalled`, so Ctrl-C cancels it cleanly (interrupts.py).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console

from notesboard.cli.interrupts import Interrupted, until_signalled
from notesboard.client import AsyncRest, NotesError

__all__ = ["export_command", "import_command"]

err = Console(stderr=True)

Url = Annotated[str, typer.Option("--url", envvar="NOTESBOARD_URL", help="Base URL of the notesboard server.")]
Token = Annotated[str | None, typer.Option("--token", envvar="NOTESBOARD_TOKEN", help="Access token, if needed.")]


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=code)


T = TypeVar("T")


def _call(url: str, token: str | None, call: Callable[[AsyncRest], Coroutine[Any, Any, T]]) -> T:
    """One request; the server's refusal or why it could not be reached, or Ctrl-C, as one line and exit."""

    async def run() -> T:
        async with AsyncRest(url, token=token, timeout=60) as api:  # one REST implementation: notesboard.client
            return await call(api)

    try:
        return asyncio.run(until_signalled(run(), (signal.SIGINT,)))
    except NotesError as exc:
        raise _fail(f"{exc.status}: {exc.message}" if exc.status else exc.message) from None
    except (Interrupted, KeyboardInterrupt):
        raise _fail("interrupted", 130) from None


def export_command(
    board: Annotated[str, typer.Argument(help="Board name.")],
    fmt: Annotated[str, typer.Option("--format", help="json (re-importable), md (Markdown) or csv.")] = "json",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file (default: stdout).")] = None,
    url: Url = "http://127.0.0.1:8000",
    token: Token = None,
) -> None:
    """Export a board's live notes as JSON, Markdown or CSV."""
    if fmt not in ("json", "md", "csv"):
        raise _fail("--format must be json, md or csv")
    if out is not None and not out.parent.is_dir():
        raise _fail(f"--out: folder {out.parent} does not exist")
    text = _call(url, token, lambda api: api.export(board, fmt))
    if out is None:
        sys.stdout.write(text)
        return
    out.write_text(text, encoding="utf-8")
    err.print(f"wrote {out} ({len(text.encode())} bytes)", highlight=False)


def import_command(
    board: Annotated[str, typer.Argument(help="Board to create the notes on.")],
    file: Annotated[Path, typer.Argument(help="A JSON export (notesboard export --format json).")],
    url: Url = "http://127.0.0.1:8000",
    token: Token = None,
) -> None:
    """Create the notes of a JSON export on a board (live for everyone on it). Importing the same file twice
    creates nothing the second time."""
    try:
        data = orjson.loads(file.read_bytes())
    except OSError as exc:
        raise _fail(f"cannot read {file}: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise _fail(f"{file} is not valid JSON: {exc}") from None
    done = _call(url, token, lambda api: api.import_board(board, data))
    typer.echo(f"{board}: {done['created']} notes created, {done['skipped']} already there (seq {done['seq']})")
