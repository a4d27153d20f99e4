"""`notesboard export` and `notesboard import`: a board to a file and back, through the REST API."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console

from notesboard.client import NotesError, Rest

__all__ = ["export_command", "import_command"]

err = Console(stderr=True)

Url = Annotated[str, typer.Option("--url", envvar="NOTESBOARD_URL", help="Base URL of the notesboard server.")]
Token = Annotated[str | None, typer.Option("--token", envvar="NOTESBOARD_TOKEN", help="Access token, if needed.")]


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=1)


def _problem(exc: NotesError) -> typer.Exit:
    """The server's refusal (status and message) or why it could not be reached, as one line."""
    return _fail(f"{exc.status}: {exc.message}" if exc.status else exc.message)


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
    try:
        with Rest(url, token=token, timeout=60) as api:  # one REST implementation: notesboard.client
            text = api.export(board, fmt)
    except NotesError as exc:
        raise _problem(exc) from None
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
    try:
        with Rest(url, token=token, timeout=60) as api:
            done = api.import_board(board, data)
    except NotesError as exc:
        raise _problem(exc) from None
    typer.echo(f"{board}: {done['created']} notes created, {done['skipped']} already there (seq {done['seq']})")
