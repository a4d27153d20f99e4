"""The `notesboard` command: serve, post, tail."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer
from rich.console import Console

from notesboard import __version__
from notesboard.serve_cli import serve_command
from notesboard.settings_cli import PlainHelpCommand

__all__ = ["app"]

app = typer.Typer(
    help="notesboard: a realtime sticky-notes board over WebSocket and REST.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
err = Console(stderr=True)

ServerUrl = Annotated[
    str,
    typer.Option("--url", envvar="NOTESBOARD_URL", help="Base URL of the notesboard server."),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"notesboard {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """notesboard: a realtime sticky-notes board over WebSocket and REST."""


app.command(name="serve", cls=PlainHelpCommand)(serve_command)


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=1)


@app.command()
def token(
    board: Annotated[str, typer.Argument(help="Board name or glob pattern (e.g. 'team-*', or '*' for all).")],
    role: Annotated[str, typer.Option(help="read (see notes) or write (also change them).")] = "write",
    ttl: Annotated[str, typer.Option(help="Lifetime: seconds, or with a unit: 30m, 12h, 7d.")] = "1h",
    secret: Annotated[
        str | None, typer.Option(envvar="NOTESBOARD_AUTH_SECRET", help="The server's --auth-secret.")
    ] = None,
) -> None:
    """Mint an access token for a server started with --auth-secret and print it."""
    from notesboard.auth import mint

    if not secret:
        raise _fail("give --secret or set NOTESBOARD_AUTH_SECRET (the server's --auth-secret)")
    if role not in ("read", "write"):
        raise _fail("--role must be read or write")
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    raw = ttl.strip().lower()
    try:
        seconds = float(raw[:-1]) * units[raw[-1]] if raw and raw[-1] in units else float(raw)
    except ValueError:
        raise _fail(f"--ttl {ttl!r} is not a duration like 90, 30m, 12h or 7d") from None
    if seconds <= 0:
        raise _fail("--ttl must be positive")
    typer.echo(mint(secret, board, role, seconds))  # type: ignore[arg-type]


@app.command()
def post(
    board: Annotated[str, typer.Argument(help="Board name.")],
    text: Annotated[str, typer.Argument(help="The note's text.")],
    url: ServerUrl = "http://127.0.0.1:8000",
    author: Annotated[str | None, typer.Option(help="Display name stored as the note's author.")] = None,
    auth: Annotated[
        str | None, typer.Option("--token", envvar="NOTESBOARD_TOKEN", help="Access token, if needed.")
    ] = None,
    color: Annotated[str | None, typer.Option(help="#rrggbb colour.")] = None,
) -> None:
    """Create one note through the REST API and print it as JSON."""
    import orjson

    from notesboard.client import NotesError, Rest

    fields = {k: v for k, v in (("author", author), ("color", color)) if v}
    try:
        with Rest(url, token=auth) as api:
            note = api.create(board, text, **fields)
    except NotesError as exc:
        raise _fail(f"{exc.status}: {exc.message}" if exc.status else exc.message) from None
    sys.stdout.write(orjson.dumps(note).decode() + "\n")


@app.command()
def tail(
    board: Annotated[str, typer.Argument(help="Board name.")],
    url: ServerUrl = "http://127.0.0.1:8000",
    since: Annotated[
        int | None, typer.Option(help="Start after this seq (default: print the current notes first).")
    ] = None,
    count: Annotated[int | None, typer.Option(help="Exit after this many events (default: run until Ctrl-C).")] = None,
    auth: Annotated[
        str | None, typer.Option("--token", envvar="NOTESBOARD_TOKEN", help="Access token, if needed.")
    ] = None,
) -> None:
    """Print the board's live events, one JSON line each; reconnects and resumes with since."""
    from notesboard.tail import tail_board

    try:
        asyncio.run(tail_board(url, board, since=since, count=count, out=sys.stdout, log=err, token=auth))
    except KeyboardInterrupt:
        pass
    except ValueError as exc:
        raise _fail(str(exc)) from None


from notesboard.exchange_cli import export_command, import_command  # noqa: E402
from notesboard.loadtest.command import loadtest as _loadtest  # noqa: E402

app.command(name="loadtest")(_loadtest)
app.command(name="export")(export_command)
app.command(name="import")(import_command)
