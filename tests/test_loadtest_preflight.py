"""The load tester refuses bad arguments and output paths before any load, and a missing server at once."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ServerProcess
from tests.ports import free_port
from tests.support.cli import run as run_command


def loadtest(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_command("loadtest", *args, columns=80, timeout=timeout)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("lt-preflight")
    srv = ServerProcess(f"sqlite+aiosqlite:///{tmp / 'notes.db'}", tmp / "server.log").start()
    yield srv
    srv.stop()


def one_line(r: subprocess.CompletedProcess[str], code: int, needle: str) -> None:
    assert r.returncode == code, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and "PASS" not in r.stdout and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], r.stderr


@pytest.mark.parametrize(
    ("option", "where", "needle"),
    [
        ("--report", "missing/dir/r.html", "does not exist"),
        ("--json", ".", "is a folder"),
        ("--acked-log", "missing/acks.jsonl", "does not exist"),
    ],
)
def test_unwritable_outputs_are_refused_before_any_load(
    target: ServerProcess, tmp_path: Path, option: str, where: str, needle: str
) -> None:
    started = time.monotonic()
    r = loadtest(target.url, "--clients", "5", "--duration", "30", option, str(tmp_path / where))
    one_line(r, 2, needle)
    assert time.monotonic() - started < 15  # not the 30 s run
    assert "open board=" not in target.log()  # no socket was opened


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--clients", "2", "--senders", "3"], "--senders cannot exceed --clients"),
        (["--server-pid", "999999999"], "no such process"),
    ],
)
def test_bad_arguments_are_refused_before_any_load(target: ServerProcess, args: list[str], needle: str) -> None:
    one_line(loadtest(target.url, *args), 2, needle)


def test_bad_url_is_refused() -> None:
    one_line(loadtest("ftp://example"), 2, "is not like http://")


def test_no_server_fails_within_seconds() -> None:
    started = time.monotonic()
    r = loadtest(f"http://127.0.0.1:{free_port()}", "--duration", "60")
    one_line(r, 3, "no server at")
    assert time.monotonic() - started < 15


def test_figures_are_labelled_for_what_they_divide(target: ServerProcess, tmp_path: Path) -> None:
    args = [target.url, "--clients", "4", "--senders", "1", "--rate", "10", "--duration", "1"]
    r = loadtest(*args, "--server-pid", str(target.pid), "--report", str(tmp_path / "r.html"))
    assert r.returncode == 0, r.stdout + r.stderr
    out = " ".join(r.stdout.split())  # the table may wrap at 80 columns
    page = (tmp_path / "r.html").read_text()
    for text in (out, page):
        assert "CPU per create" not in text and "CPU per delivery" not in text
    assert "acked creates (us; includes their fan-out)" in page
    assert "deliveries (us; includes the creates)" in page
