"""The code itself: ruff (lint and format), mypy (strict, on the server package) and tsc (the client's JSDoc
types, client/jsconfig.json) pass, as in `make check`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]')")
    return found


@pytest.mark.parametrize(
    "args",
    [["check", "server", "tests", "bench"], ["format", "--check", "server", "tests", "bench"]],
    ids=["lint", "format"],
)
def test_ruff(args: list[str]) -> None:
    r = subprocess.run([_tool("ruff"), *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy() -> None:
    r = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_client_types() -> None:
    """tsc checks every client module (`checkJs`): the DOM lookups, the note store's shapes, the messages."""
    tsc = ROOT / "node_modules" / ".bin" / "tsc"
    if not tsc.exists():
        pytest.skip("typescript is not installed: `npm ci` (make test and make lint run it when npm is present)")
    r = subprocess.run([str(tsc), "-p", "client/jsconfig.json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
