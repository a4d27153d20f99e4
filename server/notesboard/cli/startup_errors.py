"""Start-up failures an operator meets, as one clear line and a distinct exit status each.

`preflight()` runs before uvicorn starts: it checks the port, opens the database and creates a table in a
transaction it rolls back (as the server's schema set-up will), and reaches the broker, then closes them.
Whatever fails becomes a `StartupFailure` naming the setting to change; `serve` prints its one line and exits
with its code. A traceback is printed only with `--log-level debug`. Doing this before uvicorn (not inside
the lifespan) keeps uvicorn's own "startup failed" traceback out of the common cases, and lets `--workers`
fail once instead of in every worker. It uses the drivers directly, not the store, so it stays independent
of how the store is built.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
from dataclasses import dataclass
from enum import IntEnum, unique
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from notesboard.runtime.config import Settings
from notesboard.storage.dbfile import sqlite_file

__all__ = [
    "ExitCode",
    "StartupFailure",
    "check_port",
    "classify_database",
    "error_line",
    "preflight",
    "settings_errors",
    "start",
]


@unique
class ExitCode(IntEnum):
    """`notesboard serve` exit statuses (README and `serve --help` list them)."""

    OK = 0
    BAD_SETTING = 1  # a setting's value is invalid (2 is the command line's own usage error)
    USAGE = 2
    STARTUP = 3  # any other start-up failure (uvicorn's own status)
    DATABASE_UNREACHABLE = 4  # cannot connect to / open the database
    DATABASE_UNWRITABLE = 5  # opened, but cannot be written (permissions, read-only, disk full)
    PORT_UNAVAILABLE = 6  # cannot listen on host:port (in use, not an address of this machine, privileged)
    BROKER_UNREACHABLE = 7  # the --broker given cannot be reached


@dataclass(frozen=True)
class StartupFailure(Exception):
    message: str
    code: ExitCode

    def __str__(self) -> str:
        return self.message


DATABASE = "--database-url / NOTESBOARD_DATABASE_URL"
BROKER = "--broker / NOTESBOARD_BROKER"
LISTEN = "--port / NOTESBOARD_PORT or --host / NOTESBOARD_HOST"


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def settings_errors(exc: Any) -> list[str]:
    """A pydantic ValidationError on Settings -> one line per setting: `--max-text (NOTESBOARD_MAX_TEXT): ...`."""
    lines = []
    for e in exc.errors(include_url=False):
        name = ".".join(map(str, e["loc"]))
        msg = str(e["msg"]).removeprefix("Value error, ")
        lines.append(f"--{name.replace('_', '-')} (NOTESBOARD_{name.upper()}): {msg}")
    return lines


def check_port(host: str, port: int) -> None:
    """StartupFailure if nothing could listen on host:port now (port 0: any free port, always fine)."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is fine
            sock.bind((host, port))
    except OSError as exc:
        raise port_failure(host, port, exc) from exc


def port_failure(host: str, port: int, exc: OSError) -> StartupFailure:
    if exc.errno == errno.EADDRINUSE:
        why = "the port is in use by another program"
    elif exc.errno == errno.EACCES:
        why = "permission denied (ports below 1024 need privileges)"
    elif exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        why = f"{host} is not an address of this machine"
    else:
        why = exc.strerror or str(exc)
    return StartupFailure(f"cannot listen on {host}:{port}: {why} (change {LISTEN})", ExitCode.PORT_UNAVAILABLE)


def _root(exc: BaseException) -> BaseException:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


def classify_database(url: str, exc: BaseException) -> StartupFailure:
    """Why the database could not be opened: unreachable (code 4) or unwritable (code 5)."""
    root = _root(exc)
    text = str(root) or type(root).__name__
    where = redact(url)
    unwritable = ExitCode.DATABASE_UNWRITABLE
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        if path is not None and not path.parent.exists():
            return StartupFailure(
                f"cannot open the SQLite database {path}: folder {path.parent} does not exist (change {DATABASE})",
                ExitCode.DATABASE_UNREACHABLE,
            )
        lowered = text.lower()
        if "not a database" in lowered or "malformed" in lowered:
            return StartupFailure(
                f"{path} is not a usable SQLite database ({text}); restore it from a backup or change {DATABASE}",
                ExitCode.DATABASE_UNREACHABLE,
            )
        if path is not None and (
            (path.exists() and not os.access(path, os.W_OK)) or not os.access(path.parent, os.W_OK)
        ):
            text = f"permission denied ({text})"
        return StartupFailure(
            f"cannot write the SQLite database {path or where}: {text} (fix its permissions or free space, "
            f"or change {DATABASE})",
            unwritable,
        )
    name = type(root).__name__
    if name in ("InsufficientPrivilegeError", "ReadOnlySQLTransactionError", "DiskFullError"):
        return StartupFailure(f"cannot write the database at {where}: {text} (change {DATABASE})", unwritable)
    if isinstance(root, TimeoutError | asyncio.TimeoutError):
        text = "no answer within 5 s"
    return StartupFailure(
        f"cannot connect to the database at {where}: {text} (is it running? change {DATABASE})",
        ExitCode.DATABASE_UNREACHABLE,
    )


def _check_sqlite(url: str) -> None:
    """Open the file and take the write lock, as the server's writer will (plain sqlite3: no threads to outlive)."""
    import sqlite3

    path = sqlite_file(url)
    if path is None:
        return
    conn = sqlite3.connect(path, timeout=5)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("CREATE TABLE IF NOT EXISTS notesboard_preflight (x INTEGER)")
        conn.rollback()
    finally:
        conn.close()


async def _check_postgres(url: str) -> None:
    """Connect and create (then roll back) a table, as the server's schema set-up will."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1), timeout=5)
    try:
        async with conn.transaction():
            await conn.execute("CREATE TABLE IF NOT EXISTS notesboard_preflight (x integer)")
            raise _RollBack
    except _RollBack:
        pass
    finally:
        await conn.close()


class _RollBack(Exception):
    pass


async def _check_database(settings: Settings) -> None:
    try:
        if settings.is_sqlite():
            _check_sqlite(settings.database_url)
        else:
            await _check_postgres(settings.database_url)
    except Exception as exc:
        raise classify_database(settings.database_url, exc) from exc


async def _check_broker(url: str) -> None:
    from notesboard.cluster import broker_from_url

    found = broker_from_url(url)
    if found is None:  # memory://: no broker to reach
        return
    broker = found[0]
    try:
        await asyncio.wait_for(broker.connect(), 10)
    except Exception as exc:
        text = str(_root(exc)) or type(_root(exc)).__name__
        raise StartupFailure(
            f"cannot reach the broker at {redact(url)}: {text} (is it running? change {BROKER})",
            ExitCode.BROKER_UNREACHABLE,
        ) from exc
    finally:
        try:
            await broker.disconnect()
        except Exception:  # noqa: BLE001 - a broker that never connected may not close cleanly
            pass


def preflight(settings: Settings) -> None:
    """Raise StartupFailure if the server could not start with these settings; touch nothing lasting."""
    if settings.workers == 1:
        check_port(settings.host, settings.port)  # --workers binds its own reserved socket first

    async def check() -> None:
        await _check_database(settings)
        await _check_broker(settings.broker)

    asyncio.run(check())


def error_line(message: str) -> None:
    """One `error:` line on stderr, never wrapped (scripts and log collectors read it whole)."""
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def start(settings: Settings) -> int:
    """Check, then serve until stopped; the exit status. A start-up failure is one `error:` line (and its
    traceback before it with --log-level debug)."""
    try:
        preflight(settings)
        if settings.workers > 1:
            from notesboard.runtime.workers import run_workers

            return run_workers(settings)
        from notesboard.runtime.server import run

        run(settings)
        return ExitCode.OK
    except StartupFailure as exc:
        failure = exc
    except OSError as exc:  # the port, taken between the check and uvicorn's bind (or by --workers' own bind)
        failure = port_failure(settings.host, settings.port, exc)
        failure.__cause__ = exc
    if settings.log_level == "debug":
        import traceback

        traceback.print_exception(failure.__cause__ or failure)
    error_line(str(failure))
    return failure.code
