"""The runtime opens its services in order and closes them in reverse, also when start-up fails."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from notesboard.contract.validate import create_command
from notesboard.runtime.assembly import Runtime, open_runtime
from notesboard.runtime.config import Settings
from notesboard.storage.writer import WriterState


def _settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'nb.db'}", shutdown_timeout=2.0)


async def test_open_serve_close(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "notesboard")
    async with open_runtime(_settings(tmp_path)) as rt:
        assert rt.registry.accepting and rt.writer.state is WriterState.RUNNING
        assert await rt.store.healthy()
        result = await rt.notes.change("b1", create_command({"text": "hi"}, 100, allow_author=True))
        assert result.seq == 1 and rt.writer.committed == 1
        await rt.drain()  # what the server does before uvicorn's own shutdown; the lifespan's exit repeats it
        assert not rt.registry.accepting and rt.writer.state is WriterState.STOPPED
        assert await rt.store.healthy()  # the database closes last, after the lifespan
    assert not await rt.store.healthy()
    assert [r.getMessage() for r in caplog.records if r.getMessage().startswith("drained:")] == [
        "drained: 1 writes committed, 0 sockets closed 1001"
    ]
    assert sum(r.getMessage().startswith("fast paths: ") for r in caplog.records) == 1


async def test_a_failure_during_start_up_unwinds_what_was_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = Runtime(_settings(tmp_path))

    def broken() -> None:
        raise RuntimeError("writer could not start")

    monkeypatch.setattr(rt.writer, "start", broken)
    with pytest.raises(RuntimeError, match="writer could not start"):
        async with rt.open():
            raise AssertionError("not reached")
    assert not rt.registry.accepting
    assert rt.registry._watchdog is None  # the registry was opened, then closed
    assert not await rt.store.healthy()  # and the store too
