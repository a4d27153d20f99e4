"""`notesboard export` and `notesboard import`: a board to a file and back, through the REST API."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console

__all__ = ["export_command", "import_command"]

err = Console(stderr=True)

Url = Annotated[str, typer.Option("--url", envvar="NOTESBOARD_URL", help="Base URL of the notesboard server.")]
Token = Annotated[str | None, typer.Option("--token", envvar="NOTESBOARD_TOKEN", help="Access token, if needed.")]


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=1)


def _request(
    method: str, url: str, token: str | None, *, params: dict[str, str] | None = None, content: bytes | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if content is not None:
        headers["Content-Type"] = "application/json"
    try:
        r = httpx.request(method, url, headers=headers, params=params, content=content, timeout=60)
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach {url}: {exc}") from None
    if r.status_code >= 400:
        try:
            message = r.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = r.text[:200]
        raise _fail(f"{r.status_code}: {message}")
    return r


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
    r = _request("GET", f"{url.rstrip('/')}/api/boards/{board}/export", token, params={"format": fmt})
    if out is None:
        sys.stdout.write(r.text)
        return
    out.write_text(r.text, encoding="utf-8")
    err.print(f"wrote {out} ({len(r.content)} bytes)", highlight=False)


def import_command(
    board: Annotated[str, typer.Argument(help="Board to create the notes on.")],
    file: Annotated[Path, typer.Argument(help="A JSON export (notesboard export --format json).")],
    url: Url = "http://127.0.0.1:8000",
    token: Token = None,
) -> None:
    """Create the notes of a JSON export on a board (live for everyone on it). Importing the same file twice
    creates nothing the second time."""
    try:
        content = file.read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read {file}: {exc.strerror or exc}") from None
    r = _request("POST", f"{url.rstrip('/')}/api/boards/{board}/import", token, content=content)
    done = r.json()
    typer.echo(f"{board}: {done['created']} notes created, {done['skipped']} already there (seq {done['seq']})")
