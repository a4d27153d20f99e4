"""The `notesboard` command: help texts, clear errors with exit 1, and post/tail against a real server."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support import ServerProcess
from tests.support.cli import run as run_command


def cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return run_command(*args, timeout=timeout)


def exec_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The entry point as users start it (a fresh interpreter, an almost empty environment)."""
    return subprocess.run(
        [sys.executable, "-m", "notesboard", *args],
        capture_output=True, text=True, timeout=30, env={"COLUMNS": "200", "PATH": ""},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("serve", "Serve the board"),
        ("post", "Create one note"),
        ("tail", "Print the board's live events"),
        ("loadtest", "--clients"),
    ],
)
def test_every_command_has_help(command: str, expected: str) -> None:
    r = cli(command, "--help")
    assert r.returncode == 0 and expected in r.stdout


def test_top_level_help_and_version() -> None:
    r = exec_cli("--help")
    assert r.returncode == 0 and all(c in r.stdout for c in ("serve", "post", "tail"))
    r = exec_cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("notesboard ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-text", "-1"], "--max-text"),
        (["--port", "70000"], "--port"),
        (["--database-url", "mysql://x"], "--database-url must start with"),
        (["--workers", "2"], "needs a shared broker"),
        (["--broker", "kafka://x"], "unsupported broker"),
        (["--stall-timeout", "0.1"], "--stall-timeout"),  # once only an environment variable
    ],
)
def test_serve_refuses_bad_settings_with_exit_1(args: list[str], message: str) -> None:
    r = cli("serve", *args)
    assert r.returncode == 1, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr


def test_post_then_tail(server: ServerProcess) -> None:
    r = cli("post", "cli-board", "hello from the CLI", "--author", "me", "--url", server.url)
    assert r.returncode == 0, r.stderr
    note = json.loads(r.stdout)
    assert note["text"] == "hello from the CLI" and note["author"] == "me" and note["seq"] == 1
    command = [sys.executable, "-m", "notesboard", "tail", "cli-board", "--url", server.url, "--count", "1"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as tail:
        try:
            first = tail.stdout.readline() if tail.stdout else ""
            assert json.loads(first)["note"]["text"] == "hello from the CLI"  # the current notes come first
            assert cli("post", "cli-board", "second", "--url", server.url).returncode == 0
            out, _ = tail.communicate(timeout=20)
        finally:
            tail.kill()
    event = json.loads(out.strip().splitlines()[-1])
    assert event["type"] == "event" and event["seq"] == 2 and event["note"]["text"] == "second"
    assert tail.returncode == 0


def test_post_reports_server_errors_and_unreachable_servers(server: ServerProcess) -> None:
    r = cli("post", "bad.board", "x", "--url", server.url)
    assert r.returncode == 1 and "400" in r.stderr
    r = cli("post", "b", "x", "--url", "http://127.0.0.1:9", timeout=30)
    assert r.returncode == 1 and "cannot reach" in r.stderr


@pytest.mark.parametrize("fresh_server", ["sqlite"], indirect=True)
def test_tail_resumes_across_a_restart_and_prints_each_event_once(fresh_server: ServerProcess) -> None:
    server = fresh_server.start()
    assert cli("post", "tail-restart", "one", "--url", server.url).returncode == 0
    command = [sys.executable, "-m", "notesboard", "tail", "tail-restart", "--url", server.url, "--count", "3"]
    # `with`: the process is reaped and its pipes closed even when an assertion fails (a leaked one would fail
    # a later test with a ResourceWarning).
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as tail:
        try:
            assert tail.stdout is not None
            assert json.loads(tail.stdout.readline())["note"]["text"] == "one"
            assert cli("post", "tail-restart", "two", "--url", server.url).returncode == 0
            assert json.loads(tail.stdout.readline())["seq"] == 2
            server.restart()  # same port: tail reconnects and resumes with since=2 + the epoch
            for text in ("three", "four"):
                assert cli("post", "tail-restart", text, "--url", server.url).returncode == 0
            out, err = tail.communicate(timeout=30)
        finally:
            tail.kill()
    lines = [json.loads(line) for line in out.strip().splitlines()]
    assert [(f["type"], f["seq"], f["note"]["text"]) for f in lines] == [("event", 3, "three"), ("event", 4, "four")]
    assert tail.returncode == 0 and "reconnecting" in err


@pytest.mark.parametrize("fresh_server", ["sqlite"], indirect=True)
def test_tail_prints_changes_of_a_resume_snapshot_as_events(fresh_server: ServerProcess) -> None:
    """What a resume brings in its snapshot is printed and counted like the same changes arriving live (the
    restart test above depends on which of the two happens first)."""
    server = fresh_server.start()
    for text in ("one", "two", "three"):
        assert cli("post", "tail-since", text, "--url", server.url).returncode == 0
    r = cli("tail", "tail-since", "--url", server.url, "--since", "1", "--count", "2")
    lines = [json.loads(line) for line in r.stdout.strip().splitlines()]
    assert r.returncode == 0, r.stderr
    assert [(f["type"], f["op"], f["seq"], f["note"]["text"]) for f in lines] == [
        ("event", "created", 2, "two"),
        ("event", "created", 3, "three"),
    ]
