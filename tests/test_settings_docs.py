"""`Settings` is the one source of the serve flags and of README's settings table (in-process, no server)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import typer
from typer.testing import CliRunner

from notesboard.cli.settings import README_BEGIN, README_END, PlainHelpCommand, readme_table, settings_options
from notesboard.runtime.config import Settings
from tests.support import ROOT


def test_readme_settings_table_is_generated_from_settings() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index(README_BEGIN) + len(README_BEGIN) : readme.index(README_END)].strip()
    assert block == readme_table(), "README's settings table is stale: run `make docs`"
    assert all(f"`NOTESBOARD_{name.upper()}`" in block for name in Settings.model_fields)


def test_serve_help_lists_every_setting_whole_at_80_columns() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "notesboard", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert max(map(len, lines)) <= 80
    flags = {line.split()[0] for line in lines if line.startswith("  --")}
    assert flags >= {f"--{name.replace('_', '-')}" for name in Settings.model_fields}


def _run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    given: dict[str, Any] = {}
    app = typer.Typer()
    app.command(cls=PlainHelpCommand)(settings_options(given.update))
    result = CliRunner().invoke(app, args, env=env)
    return result.exit_code, given


def test_options_pass_only_what_was_given_and_typed() -> None:
    code, given = _run(["--max-text", "5", "--ws-compression", "--rate-limit", "2.5", "--log-level", "debug"])
    assert code == 0
    assert given == {"max_text": 5, "ws_compression": True, "rate_limit": 2.5, "log_level": "debug"}
    code, given = _run(["--no-direct-writes", "--allowed-origins", "https://a.example,https://b.example"])
    assert code == 0 and given == {"direct_writes": False, "allowed_origins": "https://a.example,https://b.example"}
    assert Settings.model_validate(given).allowed_origins == ["https://a.example", "https://b.example"]


def test_a_flag_wins_over_the_environment_and_the_environment_over_the_default() -> None:
    env = {"NOTESBOARD_MAX_TEXT": "7", "NOTESBOARD_STALL_TIMEOUT": "3"}
    code, given = _run(["--max-text", "9"], env=env)
    assert code == 0 and given == {"max_text": 9}  # the flag; the environment is left to Settings
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        settings = Settings.model_validate(given)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k)
            else:
                os.environ[k] = v
    assert (settings.max_text, settings.stall_timeout, settings.batch_max) == (9, 3.0, 512)


def test_bad_choices_and_types_are_refused_by_the_parser() -> None:
    assert _run(["--log-level", "loud"])[0] == 2
    assert _run(["--max-text", "many"])[0] == 2
