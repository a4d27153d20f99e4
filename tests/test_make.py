"""`make run`: runtime dependencies only, and the port/host from PORT/HOST or the NOTESBOARD_* settings.

The serving test runs the real `make run` (with this venv, so nothing is installed) and waits for /healthz
on the port it was told to use.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.ports import free_port
from tests.support import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
VENV = Path(sys.executable).parent.parent  # the venv running the tests: make finds bin/python there


def outside_make(env: dict[str, str]) -> dict[str, str]:
    """`env` as a shell would give it, not a make recipe: under `make test` the sub-make would otherwise print
    "Entering/Leaving directory" lines and inherit the outer make's flags."""
    return {k: v for k, v in env.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}


def dry_run(target: str, tmp: Path, **env: str) -> str:
    """What `make -n TARGET` would run for a fresh checkout (a venv that does not exist yet)."""
    r = subprocess.run(
        ["make", "--no-print-directory", "-n", target, f"VENV={tmp / 'venv'}"],
        capture_output=True, text=True, timeout=30, cwd=ROOT, env=outside_make({**os.environ, **env}),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_run_installs_runtime_dependencies_only(tmp_path: Path) -> None:
    run = dry_run("run", tmp_path)
    assert "pip install --quiet -e ." in run and "[dev]" not in run
    assert "[dev]" in dry_run("test", tmp_path) and "[dev]" in dry_run("lint", tmp_path)


def test_run_passes_port_and_host_only_when_given(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PORT", "HOST")}
    plain = dry_run("run", tmp_path, **env).strip().splitlines()[-1]
    assert plain.endswith("notesboard serve") and "--port" not in plain, plain  # NOTESBOARD_PORT stays in charge
    given = dry_run("run", tmp_path, PORT="8013", HOST="0.0.0.0").strip().splitlines()[-1]
    assert given.endswith("serve --host 0.0.0.0 --port 8013"), given


@pytest.mark.parametrize("variable", ["PORT", "NOTESBOARD_PORT"])
def test_make_run_serves_on_the_port_asked_for(tmp_path: Path, variable: str) -> None:
    stamp = tmp_path / "installed"
    stamp.touch()  # newer than pyproject.toml: make installs nothing
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PORT", "HOST") and not k.startswith("NOTESBOARD_")}
    env |= {variable: str(port), "NOTESBOARD_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/notes.db"}
    log = open(tmp_path / "make.log", "wb")
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"VENV={VENV}", f"RUN_STAMP={stamp}"],
        cwd=ROOT, env=outside_make(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert status == 200, (tmp_path / "make.log").read_text()
        assert "pip install" not in (tmp_path / "make.log").read_text()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        log.close()
