"""Start-up failures: one clear line naming the setting to change, a distinct exit status, no traceback.

Each case starts the real `notesboard serve` and looks at what an operator sees: stderr and the exit status.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from notesboard.cli.startup_errors import ExitCode
from tests.fsmount import tmpfs
from tests.ports import free_port
from tests.support import Database
from tests.support.cli import exec_run
from tests.support.databases import admin as _admin


def serve(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return exec_run("serve", *args, env=env, columns=80)


def one_error_line(r: subprocess.CompletedProcess[str], code: ExitCode, *needles: str) -> str:
    assert r.returncode == code, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr  # one line, not wrapped at 80 columns
    assert lines[0].startswith("error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_postgres_unreachable(tmp_path: Path) -> None:
    dead = free_port()  # nothing listens there
    r = serve("--port", str(free_port()), "--database-url", f"postgresql+asyncpg://u:pw@127.0.0.1:{dead}/x")
    line = one_error_line(r, ExitCode.DATABASE_UNREACHABLE, "cannot connect to the database", "--database-url")
    assert "pw" not in line and "u:***@" in line  # the password is not printed
    assert "Connected to database" not in r.stdout + r.stderr


def test_postgres_without_the_right_to_create_tables(tmp_path: Path) -> None:
    db = Database("postgres", tmp_path)  # skips, saying why, without Postgres
    role = f"nb_ro_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE ROLE "{role}" LOGIN'))
    try:
        parts = urlsplit(db.url)
        url = urlunsplit(parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port}"))
        r = serve("--port", str(free_port()), "--database-url", url)
    finally:
        db.drop()
        asyncio.run(_admin(f'DROP ROLE IF EXISTS "{role}"'))
    one_error_line(r, ExitCode.DATABASE_UNWRITABLE, "cannot write the database", "permission denied", "--database-url")


def test_sqlite_folder_missing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/no/such/dir/notes.db"
    r = serve("--port", str(free_port()), "--database-url", url)
    one_error_line(r, ExitCode.DATABASE_UNREACHABLE, "does not exist", "NOTESBOARD_DATABASE_URL")


def test_sqlite_file_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "notes.db"
    bad.write_bytes(b"this is not SQLite" * 100)
    r = serve("--port", str(free_port()), "--database-url", f"sqlite+aiosqlite:///{bad}")
    one_error_line(r, ExitCode.DATABASE_UNREACHABLE, "not a usable SQLite database", "backup")


def test_sqlite_on_a_read_only_file_system(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "1m", read_only=True) as ro:
        r = serve("--port", str(free_port()), "--database-url", f"sqlite+aiosqlite:///{ro}/notes.db")
    one_error_line(r, ExitCode.DATABASE_UNWRITABLE, "cannot write the SQLite database", "--database-url")


def test_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = serve("--port", str(port), "--database-url", f"sqlite+aiosqlite:///{tmp_path}/notes.db")
    one_error_line(r, ExitCode.PORT_UNAVAILABLE, f"127.0.0.1:{port}", "in use", "NOTESBOARD_PORT")
    assert not (tmp_path / "notes.db").exists()  # the port is checked before the database is touched


def test_bad_setting_from_the_environment_names_the_variable() -> None:
    r = serve(NOTESBOARD_MAX_TEXT="-1")
    one_error_line(r, ExitCode.BAD_SETTING, "NOTESBOARD_MAX_TEXT", "--max-text")


def test_broker_unreachable_with_workers(tmp_path: Path) -> None:
    started = time.monotonic()
    r = serve(
        "--workers", "2", "--port", str(free_port()),
        "--database-url", f"sqlite+aiosqlite:///{tmp_path}/notes.db",
        "--broker", f"redis://127.0.0.1:{free_port()}/0",
    )  # fmt: skip
    one_error_line(r, ExitCode.BROKER_UNREACHABLE, "cannot reach the broker", "--broker")
    assert time.monotonic() - started < 20


def test_debug_log_level_shows_the_traceback(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/missing/notes.db"
    r = serve("--port", str(free_port()), "--database-url", url, "--log-level", "debug")
    assert r.returncode == ExitCode.DATABASE_UNREACHABLE
    assert "Traceback" in r.stderr and r.stderr.strip().splitlines()[-1].startswith("error: ")


def test_exit_statuses_are_in_the_help() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "notesboard", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "COLUMNS": "200"},
    )
    for code in ExitCode:
        if code:
            assert f"{int(code)} " in r.stdout
    assert "4 database unreachable" in r.stdout and "7 broker unreachable" in r.stdout
