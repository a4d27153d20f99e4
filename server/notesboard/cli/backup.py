"""`notesboard backup` and `notesboard restore`: consistent copies of a live SQLite database.

The backup uses SQLite's online backup API in steps (so it can show progress) inside one read transaction
on the source: in WAL mode the server keeps writing meanwhile, and the copy is the database exactly as it
was when the backup began (every note acknowledged before that moment, seqs without holes). Without that
transaction SQLite would restart the copy after every commit of the server and a busy board would never
let it finish.

A restore replaces a database with a backup while no server has it open, and gives the result a new epoch:
clients that resume with a seq from the lost future get a fresh snapshot instead of a silent gap. For
PostgreSQL use pg_dump / pg_restore (docs/deploy.md).
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from notesboard.runtime.config import DEFAULT_DATABASE_URL
from notesboard.storage.dbfile import sqlite_file

__all__ = ["backup", "copy_database", "restore"]

err = Console(stderr=True)
TABLES = {"notes", "boards", "notesboard_meta"}
STEP_PAGES = 256  # 1 MiB per step at SQLite's default page size

DatabaseUrl = Annotated[
    str,
    typer.Option(
        "--database-url",
        envvar="NOTESBOARD_DATABASE_URL",
        help="The server's database (sqlite+aiosqlite:///FILE); PostgreSQL: use pg_dump.",
    ),
]


class BackupError(Exception):
    """A reason to stop, shown as one line."""


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code=1)


def _database_path(url: str) -> Path:
    if url.startswith("postgres"):
        raise BackupError("this is a PostgreSQL database: back it up with pg_dump (see docs/deploy.md, Backups)")
    path = sqlite_file(url)
    if path is None:
        raise BackupError(f"--database-url {url!r} is not a SQLite database file")
    return path


def _check_notesboard(conn: sqlite3.Connection, what: str) -> None:
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        status = conn.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{what} is not a usable SQLite database: {exc}") from None
    if status != "ok":
        raise BackupError(f"{what} is damaged (integrity check: {status})")
    if not TABLES <= tables:
        raise BackupError(f"{what} is not a notesboard database (no notes/boards tables)")


def copy_database(source: Path, target: Path, progress: Progress | None = None, pause: float = 0.0) -> int:
    """Copy `source` (possibly being written) to the new file `target` as one consistent snapshot; pages copied."""
    if not source.exists():
        raise BackupError(f"{source} does not exist")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, isolation_level=None, timeout=10)
    try:
        _check_notesboard(src, str(source))
        src.execute("BEGIN")
        src.execute("SELECT COUNT(*) FROM notesboard_meta").fetchone()  # the snapshot starts here
        dst = sqlite3.connect(target)
        task = progress.add_task("backup", total=None) if progress is not None else None
        copied = 0

        def step(status: int, remaining: int, total: int) -> None:
            nonlocal copied
            copied = total - remaining
            if progress is not None and task is not None:
                progress.update(task, total=total, completed=copied)
            if pause:
                time.sleep(pause)  # tests: let the server commit between steps

        try:
            src.backup(dst, pages=STEP_PAGES, progress=step)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            dst.close()
        src.execute("COMMIT")
        return copied
    finally:
        src.close()


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.completed}/{task.total} pages"),
        TimeRemainingColumn(),
        console=err,
        disable=not err.is_terminal,
    )


def backup(
    file: Annotated[Path, typer.Argument(help="Where to write the backup (a new file).", show_default=False)],
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL,
) -> None:
    """Copy a live SQLite database to FILE, consistently, while the server keeps running and writing.

    The copy is the database as it was when the backup began. Restore it with notesboard restore.
    """
    try:
        source = _database_path(database_url)
        if file.exists():
            raise BackupError(f"{file} exists; give a new file name (backups never overwrite)")
        if not file.parent.is_dir():
            raise BackupError(f"folder {file.parent} does not exist")
        partial = file.with_name(file.name + ".partial")
        started = time.monotonic()
        try:
            with _progress() as progress:
                pages = copy_database(source, partial, progress)
            os.replace(partial, file)  # FILE appears only once it is complete
        finally:
            partial.unlink(missing_ok=True)
    except BackupError as exc:
        raise _fail(str(exc)) from None
    except (OSError, sqlite3.Error) as exc:
        raise _fail(f"backup failed: {exc}") from None
    size = file.stat().st_size
    err.print(f"backed up {source} to {file}: {pages} pages, {size:,} bytes in {time.monotonic() - started:.1f}s")


def _holders(path: Path) -> list[int]:
    """Process ids that have `path` (or its -wal) open, from /proc (Linux; elsewhere: none found)."""
    targets = {str(path), f"{path}-wal"}
    pids = []
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(fd) in targets for fd in fd_dir.iterdir()):
                pids.append(int(fd_dir.parent.name))
        except OSError:
            continue
    return pids


def restore(
    file: Annotated[Path, typer.Argument(help="The backup to restore (made by notesboard backup).")],
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL,
    force: Annotated[bool, typer.Option("--force", help="Replace the database if it exists.")] = False,
) -> None:
    """Replace the server's SQLite database with a backup. Stop the server first.

    The restored database gets a new epoch, so clients resume from a fresh snapshot.
    """
    try:
        target = _database_path(database_url)
        if not file.is_file():
            raise BackupError(f"{file} does not exist")
        backup_conn = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
        try:
            _check_notesboard(backup_conn, str(file))
        finally:
            backup_conn.close()
        if target.exists() and not force:
            raise BackupError(f"{target} exists; stop the server, then run again with --force to replace it")
        holders = _holders(target)
        if holders:
            raise BackupError(f"{target} is open in process {holders[0]} (a running server?): stop it first")
        partial = target.with_name(target.name + ".restoring")
        partial.unlink(missing_ok=True)
        try:
            copy_database(file, partial)
            conn = sqlite3.connect(partial)
            with conn:
                conn.execute("UPDATE notesboard_meta SET value = ? WHERE key = 'epoch'", (uuid.uuid4().hex,))
            conn.close()
            for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
                leftover.unlink(missing_ok=True)  # they belong to the database being replaced
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    except BackupError as exc:
        raise _fail(str(exc)) from None
    except (OSError, sqlite3.Error) as exc:
        raise _fail(f"restore failed: {exc}") from None
    err.print(f"restored {file} to {target} (new epoch: clients resume from a fresh snapshot)")
