"""`python -m notesboard ARGS` for tests of what a command does: forked by the launcher when it can be.

Why: the suite runs ~100 commands (post, tail, export, import, backup, token, loadtest...); each exec'd
Python spends most of a second of CPU on start-up and imports before the command does anything. Forked
from the launcher's zygote the command is the same CLI function with the same arguments, environment, cwd
and exit status (tests/test_launcher.py compares both ways). The tests about how Python starts the command
(test_make, test_startup_errors...) keep exec'ing it themselves.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from tests.support import launcher
from tests.support.process import ROOT

__all__ = ["command_env", "exec_run", "run"]


def command_env(env: Mapping[str, str] | None = None, columns: int = 200) -> dict[str, str]:
    """The test's environment without its NOTESBOARD_* settings, a fixed terminal width, then `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NOTESBOARD_")}
    return {**clean, "COLUMNS": str(columns), **(env or {})}


def run(
    *args: str,
    env: Mapping[str, str] | None = None,
    columns: int = 200,
    cwd: Path = ROOT,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Like `subprocess.run([python, -m, notesboard, *args], capture_output=True, text=True)` with
    `command_env(env, columns)`, stdin /dev/null; forked unless the environment rules that out."""
    full = command_env(env, columns)
    if launcher.usable(full):
        return launcher.run(list(args), full, cwd, timeout)
    return _exec(args, full, cwd, timeout)


def exec_run(
    *args: str,
    env: Mapping[str, str] | None = None,
    columns: int = 200,
    cwd: Path = ROOT,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """The same, always a fresh interpreter: for tests of how the command starts and exits."""
    return _exec(args, command_env(env, columns), cwd, timeout)


def _exec(args: tuple[str, ...], env: dict[str, str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "notesboard", *args],
        capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
