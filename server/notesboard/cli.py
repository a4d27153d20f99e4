"""The `notesboard` command: serve, post, tail."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated, Any

import typer
from rich.console import Console

from notesboard import __version__
from notesboard.config import DEFAULT_DATABASE_URL, Settings

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


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=1)


def _sqlite_in_memory(url: str) -> bool:
    path = url.split("://", 1)[1]
    return path in ("", "/") or ":memory:" in path or "mode=memory" in path


def _opt(help_text: str, envvar: str | None = None) -> Any:
    return typer.Option(help=help_text, envvar=envvar, show_default=False)


@app.command()
def serve(
    host: Annotated[str | None, _opt("Address to bind (default: 127.0.0.1, this machine only).")] = None,
    port: Annotated[int | None, _opt("TCP port to listen on (default: 8000).")] = None,
    database_url: Annotated[
        str | None, _opt(f"sqlite+aiosqlite:///FILE or postgresql+asyncpg://... (default: {DEFAULT_DATABASE_URL}).")
    ] = None,
    broker: Annotated[str | None, _opt("Backplane URL (default: memory://, one process).")] = None,
    workers: Annotated[int | None, _opt("Server processes; above 1 needs a shared broker (default: 1).")] = None,
    log_level: Annotated[str | None, _opt("critical, error, warning, info or debug (default: info).")] = None,
    max_text: Annotated[int | None, _opt("Longest note text in characters (default: 10000).")] = None,
    max_frame_bytes: Annotated[int | None, _opt("Largest client frame or REST body (default: 262144).")] = None,
    snapshot_limit: Annotated[int | None, _opt("Live notes in a fresh snapshot (default: 1000).")] = None,
    max_connections: Annotated[int | None, _opt("Open sockets per process (default: 10000).")] = None,
    queue_frames: Annotated[
        int | None, _opt("Frames queued for a slow client before close 1013 (default: 1024).")
    ] = None,
    queue_bytes: Annotated[
        int | None, _opt("Bytes queued for a slow client before close 1013 (default: 1 MiB).")
    ] = None,
    rate_limit: Annotated[float | None, _opt("Frames/s per connection, 0 for no limit (default: 0).")] = None,
    max_connections_per_ip: Annotated[int | None, _opt("Open sockets from one address (default: 1000).")] = None,
    max_boards: Annotated[int | None, _opt("Boards the database may hold (default: 100000).")] = None,
    auth_secret: Annotated[
        str | None, _opt("Require tokens signed with this secret (default: none, no auth).", "NOTESBOARD_AUTH_SECRET")
    ] = None,
    allowed_origins: Annotated[
        str | None, _opt("Comma-separated browser Origins allowed besides the server's own; * for any.")
    ] = None,
    sqlite_synchronous: Annotated[str | None, _opt("FULL (durable on power loss) or NORMAL (default: FULL).")] = None,
    ws_compression: Annotated[bool | None, _opt("permessage-deflate on sockets (default: off).")] = None,
) -> None:
    """Serve the board, its REST API and the browser client.

    Each option is also read from the environment as NOTESBOARD_<OPTION> (e.g. NOTESBOARD_MAX_TEXT); more
    settings (timeouts, batch sizes) exist only there: see README.md, section Settings.
    """
    from pydantic import ValidationError

    given = {k: v for k, v in locals().items() if v is not None and k != "ValidationError"}
    try:
        settings = Settings.model_validate(given)
    except ValidationError as exc:
        for e in exc.errors(include_url=False):
            err.print(
                f"[bold red]error:[/] --{'.'.join(map(str, e['loc'])).replace('_', '-')}: {e['msg']}", highlight=False
            )
        raise typer.Exit(code=1) from None
    from notesboard.backplane import check_url

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
    from notesboard.server import run

    try:
        if settings.workers > 1:
            from notesboard.workers import run_workers

            raise typer.Exit(run_workers(settings))
        run(settings)
    except OSError as exc:
        raise _fail(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}") from None


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
    import httpx
    import orjson

    body: dict[str, Any] = {"text": text}
    if author:
        body["author"] = author
    if color:
        body["color"] = color
    try:
        headers = {"Authorization": f"Bearer {auth}"} if auth else {}
        r = httpx.post(f"{url.rstrip('/')}/api/boards/{board}/notes", json=body, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach {url}: {exc}") from None
    if r.status_code >= 400:
        try:
            message = r.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = r.text[:200]
        raise _fail(f"{r.status_code}: {message}")
    sys.stdout.write(orjson.dumps(r.json()).decode() + "\n")


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
