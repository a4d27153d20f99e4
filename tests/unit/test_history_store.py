"""The change log in-process on real SQLite and Postgres: pruning in small steps keeps `?at=` exact for every
seq from the new oldest one on, whatever the mix of changes; another board is left alone."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from notesboard.contract.errors import BadRequest
from notesboard.contract.model import CreateCommand, DeleteCommand, Note, UpdateCommand, WriteOp, WriteResult
from notesboard.storage import Store
from notesboard.storage.history_reads import read_at, read_history
from notesboard.storage.retention import prune_step
from tests.support import Database


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    db = Database(request.param, tmp_path)  # outside the event loop: it creates a Postgres database
    try:
        yield db
    finally:
        db.drop()


@pytest.fixture
async def store(database: Database) -> AsyncIterator[Store]:
    async with Store(database.url, readers=1) as opened:
        yield opened


async def _random_changes(store: Store, board: str, count: int, rng: random.Random) -> None:
    """`count` committed changes, one batch each: creates, edits, moves, deletes and restores."""
    live: set[int] = set()
    dead: set[int] = set()
    done = 0
    while done < count:
        roll = rng.random()
        if not live or roll < 0.2:
            cmd: CreateCommand | UpdateCommand | DeleteCommand = CreateCommand(f"n{done}", None, None, None, None, "a")
        elif roll < 0.45:
            cmd = UpdateCommand(rng.choice(sorted(live)), {"text": f"t{done}"}, None, None)
        elif roll < 0.7:
            cmd = UpdateCommand(rng.choice(sorted(live)), {"x": float(done), "color": "#aabbcc"}, None, None)
        elif roll < 0.85 or not dead:
            cmd = DeleteCommand(rng.choice(sorted(live)), None, None)
        else:
            cmd = UpdateCommand(rng.choice(sorted(dead)), {}, None, None, restore=True)
        (result,) = await store.apply([WriteOp(board, cmd, author="ann")])
        assert isinstance(result, WriteResult)
        note_id = result.note["id"]
        (dead if result.note["deleted"] else live).add(note_id)
        (live if result.note["deleted"] else dead).discard(note_id)
        done += 1


async def _states(store: Store, board: str, seq: int) -> list[list[Note]]:
    return [(await read_at(store, board, at, 10_000)).notes for at in range(seq + 1)]


async def test_pruning_in_small_steps_keeps_at_exact(store: Store) -> None:
    await _random_changes(store, "p", 60, random.Random(24))
    await _random_changes(store, "q", 5, random.Random(7))
    full = await read_history(store, "p", 0, 10_000)
    assert [c.seq for c in full.changes] == list(range(1, 61)) and not full.truncated
    states = await _states(store, "p", 60)
    cutoff = full.changes[39].note["updated_at"]
    oldest = max(c.seq for c in full.changes if c.note["updated_at"] < cutoff)

    # Steps of at most 7 changes, one board visited at a time (the cursor moves over both boards).
    cursor, steps, total = "", 0, 0
    while True:
        cursor, done = await store.write_step(lambda db: prune_step(db, cutoff, cursor, scan=1, rows=7))  # noqa: B023
        steps, total = steps + 1, total + done
        assert done <= 7
        if cursor == "" and done == 0 and steps > 1:
            break
        assert steps < 100
    assert total == oldest and steps > oldest // 7

    page = await read_history(store, "p", 0, 10_000)
    assert (page.truncated, page.oldest) == (True, oldest)
    assert page.changes == full.changes[oldest:]
    for at in range(oldest, 61):
        assert (await read_at(store, "p", at, 10_000)).notes == states[at], f"at={at}"
    with pytest.raises(BadRequest):
        await read_at(store, "p", oldest - 1, 10)
    q = await read_history(store, "q", 0, 100)
    assert (q.truncated, q.oldest, len(q.changes)) == (False, 0, 5)

    # A second pass with a later cutoff moves on from there; everything older than now goes.
    _, done = await store.write_step(lambda db: prune_step(db, "9999", "", rows=1000))
    assert done == 60 - oldest
    assert (await read_history(store, "p", 0, 10)).oldest == 60
    assert (await read_at(store, "p", 60, 10_000)).notes == states[60]
