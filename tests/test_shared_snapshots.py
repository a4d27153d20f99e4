"""Connects and resumes of one board arriving together share snapshot reads (snapshot.SharedReads), on a real
server: whatever is shared, each client's snapshot + events must lose and repeat nothing while writes go on."""

from __future__ import annotations

import asyncio
import itertools
import random
from typing import Any

import httpx

from notesboard.client import Connection, Rest
from notesboard.client.stream import SeqTracker, Verdict
from tests.support import ServerProcess


def _metric(server: ServerProcess, name: str) -> float:
    for line in httpx.get(f"{server.url}/metrics", timeout=5).text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"no metric {name}")


class Writer:
    """Creates notes on the board over its own socket until stopped (with a board delete at `clear_at`)."""

    def __init__(self, server: ServerProcess, board: str, clear_at: int) -> None:
        self.server, self.board, self.clear_at = server, board, clear_at
        self.acked: dict[int, int] = {}  # note id -> the seq its create was acked with
        self.stop = asyncio.Event()
        self.started = asyncio.Event()  # ten creates acked

    async def run(self) -> None:
        async with await Connection.open(self.server.url, self.board) as conn:
            for i in itertools.count():
                if self.stop.is_set():
                    break
                ack = await conn.request({"type": "create", "text": f"n{i}", "client_id": f"c{i}"})
                assert ack["type"] == "ack", ack
                self.acked[ack["note"]["id"]] = ack["seq"]
                if len(self.acked) >= 10:
                    self.started.set()
                if i == self.clear_at:  # a board delete in the middle: tombstones for everything so far
                    with Rest(self.server.url) as api:
                        await asyncio.to_thread(api.delete_board, self.board)


async def _client(server: ServerProcess, board: str, since: int | None, epoch: str) -> tuple[Connection, int | None]:
    query: dict[str, Any] = {} if since is None else {"since": since, "epoch": epoch}
    return await Connection.open(server.url, board, tracker=SeqTracker(), **query), since


async def test_many_connects_and_resumes_during_writes_lose_and_repeat_nothing(server: ServerProcess) -> None:
    board = f"storm{random.randrange(10**9)}"
    writer = Writer(server, board, clear_at=15)
    writing = asyncio.create_task(writer.run())
    await asyncio.wait_for(writer.started.wait(), 10)
    with Rest(server.url) as api:
        epoch = api.notes(board)["epoch"]
    reads, requests = (_metric(server, f"notesboard_snapshot_{k}_total") for k in ("reads", "requests"))
    waves = []
    for _ in range(3):  # waves of simultaneous connects, fresh and resuming from different points
        top = max(writer.acked.values())
        sinces = [None if i % 2 else random.randint(0, top) for i in range(30)]
        waves.append(await asyncio.gather(*(_client(server, board, s, epoch) for s in sinces)))
    writer.stop.set()
    await writing
    shared = (_metric(server, "notesboard_snapshot_reads_total") - reads) / (
        _metric(server, "notesboard_snapshot_requests_total") - requests
    )
    with Rest(server.url) as api:
        final = api.notes(board)
    live = {n["id"]: n for n in final["notes"]}
    for conn, since in itertools.chain(*waves):
        async with conn:
            events = []
            while conn.tracker.seq is None or conn.tracker.seq < final["seq"]:
                frame = await conn.recv(timeout=10)
                if frame["type"] == "event":
                    events.append(frame["note"])
            assert {v for _, v in conn.verdicts} <= {Verdict.NEXT}  # contiguous from the snapshot's seq + 1
            notes = conn.snapshot["notes"]
            assert [n["seq"] for n in notes] == sorted(n["seq"] for n in notes)
            state = {n["id"]: n for n in notes}
            state.update((note["id"], note) for note in events)
            if since is None:  # a fresh snapshot + events is the board as it is now
                assert {i: n for i, n in state.items() if not n["deleted"]} == live
            else:  # a resume has every change after its since, tombstones included, each once
                assert all(n["seq"] > since for n in notes)
                assert {i for i, s in writer.acked.items() if s > since} <= set(state)
                assert all(state[i] == live.get(i, state[i]) for i in state)
    assert shared < 1.0  # some of the 90 snapshots came from one read (the figure is timing-dependent)


async def test_connects_of_an_unchanged_board_use_its_kept_snapshot_and_never_a_stale_one(
    server: ServerProcess,
) -> None:
    board = f"kept{random.randrange(10**9)}"
    with Rest(server.url) as api:
        texts = [api.create(board, "first")["text"]]
    async with await Connection.open(server.url, board):  # keeps the board watched; its read is kept
        hits, reads = (_metric(server, f"notesboard_snapshot_{k}_total") for k in ("kept_hits", "reads"))
        for _ in range(5):
            async with await Connection.open(server.url, board) as conn:
                assert [n["text"] for n in conn.snapshot["notes"]] == texts
        assert _metric(server, "notesboard_snapshot_kept_hits_total") - hits == 5
        assert _metric(server, "notesboard_snapshot_reads_total") == reads
        assert _metric(server, "notesboard_snapshot_kept_bytes") > 0
        for i in range(10):  # a change right before each connect: it is in the snapshot or comes next
            with Rest(server.url) as api:
                note = await asyncio.to_thread(api.create, board, f"n{i}")
            texts.append(note["text"])
            async with await Connection.open(server.url, board, tracker=SeqTracker()) as conn:
                seen = [n["text"] for n in conn.snapshot["notes"]]
                while conn.tracker.seq is None or conn.tracker.seq < note["seq"]:
                    frame = await conn.recv(timeout=10)
                    if frame["type"] == "event":
                        seen.append(frame["note"]["text"])
                assert seen == texts
