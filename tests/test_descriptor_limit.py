"""At start-up the server raises its descriptor limit toward `max_connections` and says in one line whether
it covers them (issue #25): a real `notesboard serve` under a given limit, and the rule itself."""

from __future__ import annotations

import logging
import resource
import subprocess
import sys
import time
from pathlib import Path

from notesboard.runtime.limits import SPARE, descriptor_verdict
from tests.ports import free_port
from tests.support.cli import command_env
from tests.support.paths import ROOT

UNLIMITED = resource.RLIM_INFINITY


def test_a_soft_limit_below_the_need_is_raised_to_it_when_the_hard_limit_allows() -> None:
    target, level, line = descriptor_verdict(10_000, 1024, 20_000)
    assert target == 10_000 + SPARE and level == logging.INFO
    assert line == f"file descriptors: limit 10,064 covers max_connections 10,000 (+{SPARE} spare)"


def test_a_hard_limit_below_the_need_is_a_warning_that_names_the_remedies() -> None:
    target, level, line = descriptor_verdict(10_000, 1024, 4096)
    assert target == 4096 and level == logging.WARNING
    assert "limit 4,096 (hard limit 4,096) is below max_connections 10,000" in line
    assert "past about 4,032" in line and "--max-connections" in line and "--workers" in line


def test_enough_or_unlimited_is_left_alone() -> None:
    assert descriptor_verdict(100, 20_000, 20_000)[0] == 20_000  # never lowered
    target, level, line = descriptor_verdict(100, UNLIMITED, UNLIMITED)
    assert target == UNLIMITED and level == logging.INFO and "limit unlimited covers" in line
    assert descriptor_verdict(100, 50, UNLIMITED)[0] == 100 + SPARE


def _startup_line(tmp_path: Path, soft: int, hard: int, max_connections: int) -> str:
    """The descriptor line a real server logs when started under (soft, hard)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    env = command_env({"NOTESBOARD_MAX_CONNECTIONS": str(max_connections)})
    url = f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}"
    command = [sys.executable, "-m", "notesboard", "serve", "--port", str(free_port()), "--database-url", url]
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, preexec_fn=limit,
    ) as proc:  # fmt: skip
        try:
            assert proc.stderr is not None
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                line = proc.stderr.readline()
                if "file descriptors:" in line:
                    return line.strip()
                assert line, "the server exited before logging its descriptor limit"
            raise AssertionError("no descriptor line within 30 s")
        finally:
            proc.terminate()
            proc.communicate(timeout=30)


def test_a_real_server_raises_its_soft_limit_and_says_so(tmp_path: Path) -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    wanted = 2000
    assert hard == UNLIMITED or hard >= wanted + SPARE  # these machines allow 20,000
    line = _startup_line(tmp_path, 256, hard, wanted)
    assert "INFO notesboard: file descriptors: limit 2,064 covers max_connections 2,000" in line, line


def test_a_real_server_under_a_low_hard_limit_warns_once(tmp_path: Path) -> None:
    line = _startup_line(tmp_path, 256, 512, 5000)
    assert "WARNING notesboard: file descriptors: limit 512 (hard limit 512) is below max_connections 5,000" in line
