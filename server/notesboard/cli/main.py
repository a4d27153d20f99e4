"""The `notesboard` command: serve, post, tail."""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Annotated, Any

import typer
from rich.console import Console

from notesboard import __version__
from notesboard.cli.serve import serve_command
from notesboard.cli.settings import PlainHelpCommand

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


def _fail(message: str, code: int = 1) -> typer.Exit:
    from notesboard.cli.startup_errors import error_line

    error_line(message)
    return typer.Exit(code=code)


@app.command()
def token(
    board: Annotated[
        str | None, typer.Argument(help="Board name or glob pattern: 'team-*', or '*' for all.", show_default=False)
    ] = None,
    role: Annotated[
        str, typer.Option(help="read (see notes), write (also change them) or facilitate (also run the board session).")
    ] = "write",
    ttl: Annotated[str, typer.Option(help="Lifetime: seconds, or with a unit: 30m, 12h, 7d.")] = "1h",
    subject: Annotated[
        str | None,
        typer.Option(help="Who holds it (the `sub` claim, e.g. an e-mail): votes are counted per subject."),
    ] = None,
    secret: Annotated[
        str | None, typer.Option(envvar="NOTESBOARD_AUTH_SECRET", help="The server's --auth-secret (32+ bytes).")
    ] = None,
    new_secret: Annotated[
        bool, typer.Option("--new-secret", help="Print a new random secret for --auth-secret instead, and exit.")
    ] = False,
) -> None:
    """Mint an access token for a server started with --auth-secret and print it.

    Make the server's secret with: SECRET=$(notesboard token --new-secret)

    Then: notesboard serve --auth-secret "$SECRET" (or NOTESBOARD_AUTH_SECRET="$SECRET").
    """
    from notesboard.core import auth

    if new_secret:
        typer.echo(auth.new_secret())
        return
    if board is None:
        raise _fail("give a board name or pattern (e.g. 'team-*'), or --new-secret")
    try:
        auth.check_pattern(board)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if not secret:
        raise _fail(f"give --secret or set NOTESBOARD_AUTH_SECRET (the server's --auth-secret; {auth.SECRET_HINT})")
    try:
        auth.check_secret(secret)
    except ValueError as exc:
        raise _fail(f"--secret: {exc}") from None
    if role not in auth.ROLES:
        raise _fail("--role must be read, write or facilitate")
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    raw = ttl.strip().lower()
    try:
        seconds = float(raw[:-1]) * units[raw[-1]] if raw and raw[-1] in units else float(raw)
    except ValueError:
        raise _fail(f"--ttl {ttl!r} is not a duration like 90, 30m, 12h or 7d") from None
    if not 0 < seconds < 10 * 365 * 86400:
        raise _fail("--ttl must be positive and under ten years")
    if subject is not None and not 1 <= len(subject) <= auth.SUBJECT_MAX:
        raise _fail(f"--subject must be 1 to {auth.SUBJECT_MAX} characters")
    typer.echo(auth.mint(secret, board, role, seconds, subject))


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
    retry_for: Annotated[
        float, typer.Option(help="Seconds to keep retrying while the server is unreachable or busy (503, 429).")
    ] = 5.0,
) -> None:
    """Create one note through the REST API and print it as JSON.

    A refusal (bad input, no token or a wrong one) exits 1 at once with the server's reason.

    What may pass (no answer, 503, 429) is retried with the same client_id: the note is never stored twice.
    """
    import orjson

    from notesboard.cli.interrupts import Interrupted, until_signalled
    from notesboard.cli.post import Refused, Unreachable, post_note

    body: dict[str, Any] = {"text": text}
    if author:
        body["author"] = author
    if color:
        body["color"] = color
    posting = post_note(url, board, body, token=auth, retry_for=max(0.0, retry_for), log=err)
    try:  # SIGTERM keeps its default (the process ends at once); SIGINT is "interrupted", exit 130
        note = asyncio.run(until_signalled(posting, (signal.SIGINT,)))
    except (Refused, Unreachable) as exc:
        raise _fail(str(exc)) from None
    except (Interrupted, KeyboardInterrupt):
        raise _fail("interrupted", 130) from None
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
    from notesboard.cli.interrupts import Interrupted, until_signalled
    from notesboard.cli.refusals import Refused
    from notesboard.cli.tail import tail_board

    try:
        follow = tail_board(url, board, since=since, count=count, out=sys.stdout, log=err, token=auth)
        asyncio.run(until_signalled(follow))
    except Interrupted:
        return  # Ctrl-C or SIGTERM is how a tail without --count ends: exit 0
    except Refused as exc:
        raise _fail(str(exc)) from None
    except ValueError as exc:
        raise _fail(str(exc)) from None


from notesboard.cli.exchange import export_command, import_command  # noqa: E402
from notesboard.loadtest.command import loadtest as _loadtest  # noqa: E402

app.command(name="loadtest")(_loadtest)
app.command(name="export")(export_command)
app.command(name="import")(import_command)
from notesboard.cli.history import history_command  # noqa: E402

app.command(name="history")(history_command)
from notesboard.cli.backup import backup as _backup  # noqa: E402
from notesboard.cli.backup import restore as _restore  # noqa: E402

app.command(name="backup")(_backup)
app.command(name="restore")(_restore)
