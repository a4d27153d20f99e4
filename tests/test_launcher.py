"""The preforked launcher (tests.support.launcher) behaves like `python -m notesboard` in a subprocess.

Most server tests start their servers through it; these check what they rely on: exit codes, SIGTERM and
SIGKILL, the environment and log of each child, no zombie left, and one server started both ways.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support import ROOT, ServerProcess, launcher, sqlite_url

pytestmark = pytest.mark.skipif(not launcher.enabled(), reason="NOTESBOARD_TEST_FORK=0 or no pidfd_open")


def run(tmp_path: Path, *argv: str, **env: str) -> tuple[int, str]:
    log = tmp_path / "cli.log"
    log.unlink(missing_ok=True)
    proc = launcher.launch(list(argv), {**os.environ, **env}, ROOT, log)
    return proc.wait(60), log.read_text()


def state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def test_exit_codes_and_output_like_the_cli(tmp_path: Path) -> None:
    assert run(tmp_path, "--version") == (0, f"notesboard {__import__('notesboard').__version__}\n")
    code, out = run(tmp_path, "serve", "--no-such-flag")  # click's usage error, on stderr
    assert code == 2 and "No such option" in out, out
    code, out = run(tmp_path, "serve", "--database-url", "mysql://x")
    assert code == 1 and "--database-url must start with" in out, out
    code, out = run(tmp_path, "serve", NOTESBOARD_MAX_TEXT="lots")
    assert code == 1 and "NOTESBOARD_MAX_TEXT" in out, out


def test_each_child_has_its_own_environment(tmp_path: Path) -> None:
    strict = ServerProcess(sqlite_url(tmp_path / "a.db"), tmp_path / "a.log", env={"NOTESBOARD_MAX_TEXT": "5"})
    loose = ServerProcess(sqlite_url(tmp_path / "b.db"), tmp_path / "b.log", log_level="warning")
    with strict, loose:
        assert isinstance(strict.proc, launcher.Forked) and isinstance(loose.proc, launcher.Forked)
        assert strict.pid != loose.pid
        for srv, status in ((strict, 413), (loose, 201)):
            r = httpx.post(f"{srv.url}/api/boards/env/notes", json={"text": "sixsix"})
            assert r.status_code == status, (srv.env, r.text)
    assert "Application startup complete" in strict.log()
    assert "Application startup complete" not in loose.log()  # NOTESBOARD_LOG_LEVEL=warning reached it


def test_sigterm_drains_and_sigkill_kills_and_nothing_is_left(tmp_path: Path) -> None:
    srv = ServerProcess(sqlite_url(tmp_path / "n.db"), tmp_path / "s.log").start()
    pid = srv.pid
    assert srv.proc is not None and srv.proc.poll() is None
    assert srv.stop() == -signal.SIGTERM  # uvicorn re-raises the SIGTERM it drained for
    assert "drained" in srv.log() and state(pid) is None  # reaped, not a zombie
    srv.start()
    pid = srv.pid
    srv.kill()
    assert srv.proc is not None and srv.proc.returncode == -signal.SIGKILL and state(pid) is None
    srv.proc.send_signal(signal.SIGTERM)  # a dead child's signal goes nowhere (pidfd: never a reused pid)
    zombies = [kid for kid in os.listdir("/proc") if kid.isdigit() and state(int(kid)) == "Z"]
    mine = [z for z in zombies if Path(f"/proc/{z}/stat").read_text().rsplit(")", 1)[1].split()[1] == str(os.getpid())]
    assert not mine


def test_the_launcher_exits_with_its_socket_and_takes_its_servers(tmp_path: Path) -> None:
    zygote = launcher._Zygote()  # a second one, as if this test process had crashed
    log = tmp_path / "s.log"
    argv = ["serve", "--port", "0", "--database-url", sqlite_url(tmp_path / "n.db")]
    proc = zygote.launch(argv, dict(os.environ), ROOT, log)
    deadline = time.monotonic() + 30
    while "Application startup complete" not in (log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
        time.sleep(0.05)
    zygote.sock.shutdown(socket.SHUT_RDWR)  # what the test process's exit would do: EOF, no goodbye
    assert zygote.proc.wait(15) == 0
    assert state(proc.pid) is None
    assert "drained" in log.read_text()  # it had SIGTERM, the graceful stop
    zygote.close()


def normalised(log: str) -> list[str]:
    log = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+", "T", log)
    return re.sub(r"\d+", "N", log.replace("/False/", "/X/").replace("/True/", "/X/")).splitlines()


def test_a_forked_server_is_the_cli_server(tmp_path: Path) -> None:
    """The same server both ways: same start-up log, same answers, same exit code on SIGTERM."""
    runs = []
    for fork in (False, True):
        (tmp_path / str(fork)).mkdir()
        srv = ServerProcess(sqlite_url(tmp_path / str(fork) / "n.db"), tmp_path / f"{fork}.log", fork=fork)
        with srv:
            assert isinstance(srv.proc, launcher.Forked) is fork
            note = httpx.post(f"{srv.url}/api/boards/same/notes", json={"text": "hello"}).json()
            note.pop("created_at", None), note.pop("updated_at", None), note.pop("id", None)
            code = srv.stop()
        runs.append((normalised(srv.log()), note, code))
    assert runs[0] == runs[1]


def test_a_custom_command_or_environment_is_a_plain_subprocess(tmp_path: Path) -> None:
    class Custom(ServerProcess):
        def command(self, port: int) -> list[str]:
            return super().command(port)

    env = {**os.environ, "NOTESBOARD_LOG_LEVEL": "info"}
    assert ServerProcess("sqlite+aiosqlite://", tmp_path / "a.log").forked(env)
    assert not Custom("sqlite+aiosqlite://", tmp_path / "a.log").forked(env)
    assert not ServerProcess("sqlite+aiosqlite://", tmp_path / "a.log", fork=False).forked(env)
    assert not ServerProcess("sqlite+aiosqlite://", tmp_path / "a.log").forked({**env, "PYTHONHASHSEED": "1"})


def test_run_captures_like_subprocess_run(tmp_path: Path) -> None:
    """launcher.run is subprocess.run(capture_output=True, text=True) for a CLI command, forked."""
    argv = ["serve", "--no-such-flag"]
    env = dict(os.environ)
    real = subprocess.run(
        [sys.executable, "-m", "notesboard", *argv], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
    )
    forked = launcher.run(argv, env, ROOT, timeout=60)
    assert (forked.returncode, forked.stdout, forked.stderr) == (real.returncode, real.stdout, real.stderr)
    assert forked.returncode == 2 and "No such option" in forked.stderr
    version = launcher.run(["--version"], dict(os.environ), ROOT, timeout=60)
    assert (version.returncode, version.stderr) == (0, "") and version.stdout.startswith("notesboard ")
