"""Backups of a live SQLite database while a real server keeps writing, restored and compared."""

from __future__ import annotations

import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from notesboard.cli.backup import STEP_PAGES, copy_database
from tests.support import ServerProcess, sqlite_url
from tests.support.cli import run as run_command


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_command(*args, env=env, columns=80)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(sqlite_url(tmp_path / "live.db"), tmp_path / "server.log").start()
    yield server
    server.stop()


def rows(path: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT id, board, text, seq, version FROM notes ORDER BY board, seq").fetchall()
    finally:
        conn.close()


def fill(server: ServerProcess, board: str, n: int, size: int = 3000) -> None:
    with httpx.Client(base_url=server.url) as c:
        for i in range(n):
            assert c.post(f"/api/boards/{board}/notes", json={"text": f"{i} " + "x" * size}).status_code == 201


def test_backup_while_writing_is_one_consistent_snapshot(live: ServerProcess, tmp_path: Path) -> None:
    fill(live, "big", 1500)  # about 5 MiB: the backup takes many steps
    stop = threading.Event()
    acked_during = []

    def write() -> None:
        with httpx.Client(base_url=live.url) as c:
            while not stop.is_set():
                r = c.post("/api/boards/big/notes", json={"text": "during " + "y" * 3000})
                assert r.status_code == 201
                acked_during.append(r.json()["seq"])

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(acked_during) < 5:  # the server is busy writing when the backup begins
            stop.wait(0.01)
        first_during = len(acked_during)
        pages = copy_database(Path(live.database_url.split(":///", 1)[1]), tmp_path / "b.db", pause=0.02)
    finally:
        stop.set()
        writer.join()
    assert pages > 4 * STEP_PAGES  # many steps, each a chance for the server's commits to interleave
    assert len(acked_during) > first_during  # and they did
    copy = sqlite3.connect(tmp_path / "b.db")
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one file, no -wal needed
    (board_seq,) = copy.execute("SELECT seq FROM boards WHERE board = 'big'").fetchone()
    seqs = [r[0] for r in copy.execute("SELECT seq FROM notes WHERE board = 'big' ORDER BY seq")]
    copy.close()
    assert seqs == list(range(1, board_seq + 1))  # the board row and its notes agree: one snapshot
    assert 1500 + first_during <= board_seq < 1500 + len(acked_during)  # all acked before it, not the last


def test_backup_and_restore_commands_round_trip(live: ServerProcess, tmp_path: Path) -> None:
    fill(live, "team", 40, size=50)
    epoch = httpx.get(f"{live.url}/api/boards/team/notes").json()["epoch"]
    backup = tmp_path / "backup.db"
    r = cli("backup", str(backup), "--database-url", live.database_url)
    assert r.returncode == 0, r.stderr
    assert "backed up" in r.stderr and backup.exists() and not Path(f"{backup}.partial").exists()
    snapshot = rows(backup)
    assert len(snapshot) == 40

    fill(live, "team", 5, size=50)  # changes after the backup: a restore drops them
    r = cli("restore", str(backup), "--database-url", live.database_url, "--force")
    assert r.returncode == 1 and "is open in process" in r.stderr and "stop it first" in r.stderr
    live.stop()
    r = cli("restore", str(backup), "--database-url", live.database_url)
    assert r.returncode == 1 and "--force" in r.stderr
    r = cli("restore", str(backup), "--database-url", live.database_url, "--force")
    assert r.returncode == 0, r.stderr
    assert rows(Path(live.database_url.split(":///", 1)[1])) == snapshot

    live.start()
    page = httpx.get(f"{live.url}/api/boards/team/notes", params={"limit": 1000}).json()
    assert page["seq"] == 40 and len(page["notes"]) == 40
    assert page["epoch"] != epoch  # clients that saw seq 41..45 get a fresh snapshot, not a silent gap
    assert httpx.post(f"{live.url}/api/boards/team/notes", json={"text": "after"}).json()["seq"] == 41


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["backup", "{tmp}/b.db", "--database-url", "postgresql+asyncpg://u@h/db"], "pg_dump"),
        (["backup", "{tmp}/b.db", "--database-url", "sqlite+aiosqlite:///{tmp}/missing.db"], "does not exist"),
        (["backup", "{tmp}/no/dir/b.db", "--database-url", "sqlite+aiosqlite:///{tmp}/x.db"], "does not exist"),
        (["backup", "{tmp}/exists", "--database-url", "sqlite+aiosqlite:///{tmp}/x.db"], "never overwrite"),
        (["backup", "{tmp}/b.db", "--database-url", "sqlite+aiosqlite:///{tmp}/exists"], "not a usable SQLite"),
        (["restore", "{tmp}/missing.db", "--database-url", "sqlite+aiosqlite:///{tmp}/x.db"], "does not exist"),
        (["restore", "{tmp}/exists", "--database-url", "sqlite+aiosqlite:///{tmp}/x.db"], "not a usable SQLite"),
        (["restore", "{tmp}/plain.db", "--database-url", "sqlite+aiosqlite:///{tmp}/x.db"], "not a notesboard"),
    ],
)
def test_clear_errors(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "exists").write_bytes(b"not a database at all" * 100)
    sqlite3.connect(tmp_path / "plain.db").execute("CREATE TABLE t (x)").connection.close()
    r = cli(*(a.format(tmp=tmp_path) for a in args))
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "b.db").exists()


@pytest.mark.parametrize(("command", "expected"), [("backup", "consistently"), ("restore", "Stop the server")])
def test_help(command: str, expected: str) -> None:
    r = cli(command, "--help")
    assert r.returncode == 0 and expected in r.stdout
