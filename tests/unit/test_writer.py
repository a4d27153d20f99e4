"""The single writer on a real SQLite store, in-process: group commit, publish in commit order, acks after
the commit, bounded queue, drain at shutdown."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from notesboard.cluster.brokers.memory import MemoryBackplane
from notesboard.contract.errors import Conflict, Unavailable
from notesboard.contract.model import CreateCommand, UpdateCommand, WriteOp, WriteResult
from notesboard.fanout.publish import Publisher
from notesboard.storage import Store
from notesboard.storage.writer import Writer, WriterState


def create(text: str, client_id: str | None = None) -> CreateCommand:
    return CreateCommand(text, client_id, None, None, None, None)


async def test_many_submits_commit_in_few_batches_and_publish_in_seq_order(tmp_path: Path) -> None:
    published: list[tuple[str, int]] = []
    backplane = MemoryBackplane(lambda board, seq, frame: published.append((board, seq)))
    async with Store(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}", readers=1) as store:
        async with Writer(store, Publisher(backplane), batch_max=50, queue_max=1000) as writer:
            futures = [writer.submit(WriteOp(f"b{i % 2}", create(f"n{i}"))) for i in range(120)]
            results = await asyncio.gather(*futures)
            assert writer.batches <= 4 and writer.committed == 120  # 120 writes, batches of at most 50
            seqs: dict[str, list[int]] = {"b0": [], "b1": []}
            for r in results:
                assert isinstance(r, WriteResult)
                seqs[r.note["board"]].append(r.seq)
            assert seqs == {"b0": list(range(1, 61)), "b1": list(range(1, 61))}
            assert [s for b, s in published if b == "b0"] == list(range(1, 61))
            # A rule failure fails only its own future; the rest of the batch commits.
            note_id = results[0].note["id"]
            stale = writer.submit(WriteOp("b0", UpdateCommand(note_id, {"text": "x"}, 9, "u1")))
            fine = writer.submit(WriteOp("b0", UpdateCommand(note_id, {"text": "y"}, 1, "u2")))
            with pytest.raises(Conflict):
                await stale
            assert (await fine).seq == 61
        assert writer.state is WriterState.STOPPED


async def test_the_queue_bound_and_shutdown_refuse_with_unavailable(tmp_path: Path) -> None:
    backplane = MemoryBackplane(lambda board, seq, frame: None)
    async with Store(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}", readers=1) as store:
        writer = Writer(store, Publisher(backplane), batch_max=10, queue_max=3)
        writer.start()
        queued = [writer.submit(WriteOp("b", create(str(i)))) for i in range(3)]
        over = writer.submit(WriteOp("b", create("over", "c-over")))
        with pytest.raises(Unavailable) as info:
            await over
        assert info.value.client_id == "c-over"
        await writer.drain(5.0)  # what was queued is committed before the writer stops
        assert all(isinstance(f.result(), WriteResult) for f in queued)
        late = writer.submit(WriteOp("b", create("late")))
        with pytest.raises(Unavailable):
            await late
        assert (await store.read_notes("b", None, 10)).seq == 3
