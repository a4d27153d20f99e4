"""`notesboard export` / `notesboard import` against a real server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx

from tests.support import ServerProcess
from tests.support.cli import run as run_command


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_command(*args)


def test_export_then_import_into_another_board(server: ServerProcess, tmp_path: Path) -> None:
    for text in ("first", "second"):
        httpx.post(f"{server.url}/api/boards/cli-src/notes", json={"text": text})
    out = tmp_path / "board.json"
    r = cli("export", "cli-src", "--url", server.url, "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert [n["text"] for n in json.loads(out.read_text())["notes"]] == ["first", "second"]
    md = cli("export", "cli-src", "--url", server.url, "--format", "md")
    assert md.returncode == 0 and md.stdout.startswith("# cli-src\n") and "- first" in md.stdout

    r = cli("import", "cli-dst", str(out), "--url", server.url)
    assert r.returncode == 0 and "2 notes created, 0 already there" in r.stdout, r.stderr
    r = cli("import", "cli-dst", str(out), "--url", server.url)
    assert r.returncode == 0 and "0 notes created, 2 already there" in r.stdout
    notes = httpx.get(f"{server.url}/api/boards/cli-dst/notes").json()["notes"]
    assert [n["text"] for n in notes] == ["first", "second"]


def test_export_and_import_errors_are_one_line(server: ServerProcess, tmp_path: Path) -> None:
    r = cli("import", "cli-dst", str(tmp_path / "missing.json"), "--url", server.url)
    assert r.returncode == 1 and "cannot read" in r.stderr and "Traceback" not in r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "notesboard-export", "notes": [{"text": 1}]}')
    r = cli("import", "cli-dst", str(bad), "--url", server.url)
    assert r.returncode == 1 and "400: notes.0: text" in r.stderr
    (tmp_path / "broken.json").write_text("{not json")
    r = cli("import", "cli-dst", str(tmp_path / "broken.json"), "--url", server.url)
    assert r.returncode == 1 and "is not valid JSON" in r.stderr and "Traceback" not in r.stderr
    r = cli("export", "cli-src", "--url", "http://127.0.0.1:9")
    assert r.returncode == 1 and "cannot reach" in r.stderr
    r = cli("export", "cli-src", "--url", server.url, "--format", "pdf")
    assert r.returncode == 1 and "--format must be" in r.stderr
    r = cli("export", "cli-src", "--url", server.url, "--out", str(tmp_path / "no" / "dir.json"))
    assert r.returncode == 1 and "does not exist" in r.stderr
    r = cli("export", "bad name", "--url", server.url)
    assert r.returncode == 1 and "400" in r.stderr
    for command in ("export", "import"):
        assert cli(command, "--help").returncode == 0
