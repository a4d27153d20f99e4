"""The uvicorn fast paths as `notesboard serve` reports them: one start-up line and a metric per path."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support import ServerProcess


@pytest.mark.parametrize(
    ("env", "direct", "line"),
    [
        ({}, 1, "fast paths: direct_write=on close_behind_buffer=on keepalive_1013=on\n"),
        (
            {"NOTESBOARD_DIRECT_WRITES": "false"},
            0,
            "fast paths: direct_write=off close_behind_buffer=on keepalive_1013=on"
            " (direct_write: turned off (the direct_writes setting))\n",
        ),
    ],
    ids=["default", "direct-writes-off"],
)
def test_the_server_says_which_fast_paths_are_on(tmp_path: Path, env: dict[str, str], direct: int, line: str) -> None:
    server = ServerProcess(f"sqlite+aiosqlite:///{tmp_path / 'nb.db'}", tmp_path / "server.log", env=env).start()
    try:
        metrics = httpx.get(f"{server.url}/metrics").text
        assert f'notesboard_fast_path{{path="direct_write"}} {direct}.0' in metrics
        assert 'notesboard_fast_path{path="close_behind_buffer"} 1.0' in metrics
        assert 'notesboard_fast_path{path="keepalive_1013"} 1.0' in metrics
        lines = [x for x in server.log().splitlines(keepends=True) if "fast paths:" in x]
        assert len(lines) == 1 and lines[0].endswith(line), lines
    finally:
        server.stop()
