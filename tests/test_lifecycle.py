"""Restarts, graceful shutdown and slow consumers, each against its own real server process."""

from __future__ import annotations

import asyncio
import signal
import socket

import httpx
import orjson
import pytest
import websockets

from tests.helpers import Client, connect
from tests.support import ServerProcess


async def test_seq_continues_across_a_restart(fresh_server: ServerProcess) -> None:
    server = fresh_server.start()
    async with connect(server, "durable") as c:
        nid = (await c.request({"type": "create", "text": "a", "client_id": "a"}))["note"]["id"]
        await c.request({"type": "update", "id": nid, "text": "b", "client_id": "b"})
        epoch = c.snapshot["epoch"]
    server.restart()
    async with connect(server, "durable", since=2, epoch=epoch) as c:
        assert c.snapshot["epoch"] == epoch and c.snapshot["seq"] == 2 and c.snapshot["reset"] is False
        ack = await c.request({"type": "delete", "id": nid, "client_id": "c"})
        assert ack["seq"] == 3 and ack["note"]["version"] == 3
        # client_ids survive restarts too: the first create is replayed, not repeated.
        replay = await c.request({"type": "create", "text": "again", "client_id": "a"})
        assert replay["seq"] == 1 and replay["note"]["deleted"] is True


async def test_shutdown_acks_in_flight_writes_and_closes_1001(fresh_server: ServerProcess) -> None:
    server = fresh_server.start()
    acked: set[str] = set()
    async with connect(server, "shutdown") as c:
        for i in range(300):
            await c.send({"type": "create", "text": f"n{i}", "client_id": f"n{i}"})
        await c.recv_type("ack")  # writes are flowing
        stopper = asyncio.get_running_loop().run_in_executor(None, server.stop)
        with pytest.raises(websockets.ConnectionClosed) as info:
            while True:
                frame = await c.recv(timeout=15)
                if frame["type"] == "ack":
                    acked.add(frame["client_id"])
        assert info.value.rcvd is not None and info.value.rcvd.code == 1001
        # uvicorn re-raises the captured SIGTERM after its graceful shutdown, as a service manager expects.
        assert await stopper in (0, -signal.SIGTERM)
    assert acked, "some writes should have been acknowledged"
    server.start()
    page = httpx.get(f"{server.url}/api/boards/shutdown/notes", params={"limit": 1000}).json()
    stored = [n["text"] for n in page["notes"]]
    assert acked <= set(stored) and len(stored) == len(set(stored))
    assert [n["seq"] for n in page["notes"]] == list(range(1, len(stored) + 1))


async def test_a_note_acked_before_a_crash_is_there_after_restart(fresh_server: ServerProcess) -> None:
    server = fresh_server.start()
    async with connect(server, "crash") as c:
        ack = await c.request({"type": "create", "text": "survives", "client_id": "s"})
    server.kill()
    server.start()
    async with connect(server, "crash") as c:
        assert c.snapshot["notes"] == [ack["note"]]


async def _stalled_client(server: ServerProcess, board: str) -> websockets.ClientConnection:
    """A socket whose reader never reads: tiny receive buffer, tiny client-side queue."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    return await websockets.connect(server.ws_url(board), sock=sock, max_queue=1, max_size=None)


async def test_stalled_readers_neither_block_others_nor_grow_memory(fresh_server: ServerProcess) -> None:
    server = fresh_server
    server.env = {"NOTESBOARD_QUEUE_FRAMES": "256", "NOTESBOARD_QUEUE_BYTES": str(512 * 1024)}
    server.start()
    board, total, text = "stall", 12_000, "x" * 1024
    stalled = [await _stalled_client(server, board) for _ in range(4)]
    async with connect(server, board, batch=1) as fast, connect(server, board) as writer:
        await asyncio.sleep(0.2)
        rss_before = server.rss_kb()

        async def write() -> None:
            for i in range(total):
                await writer.send({"type": "create", "text": text, "client_id": f"w{i}"})
                if i % 100 == 99:  # a window well under the 256-frame queue (an ack and an event each)
                    await writer.recv_until(lambda f, i=i: f["type"] == "ack" and f["client_id"] == f"w{i}", 30)

        writing = asyncio.create_task(write())
        seqs: list[int] = []
        while len(seqs) < total:
            frame = await fast.recv(timeout=30)
            if frame["type"] == "event":
                seqs.append(frame["seq"])
        await writing
        rss_after = server.rss_kb()
        assert seqs == list(range(1, total + 1))
        # 4 stalled readers x 12 MB of events would be ~50+ MB if queues were unbounded.
        assert rss_after - rss_before < 30_000, (rss_before, rss_after)

    for ws in stalled:
        received = 0
        with pytest.raises(websockets.ConnectionClosed) as info:
            while True:
                raw = await asyncio.wait_for(ws.recv(), 20)
                received += len([1 for line in str(raw).split("\n") if orjson.loads(line)["type"] == "event"])
        assert info.value.rcvd is not None and info.value.rcvd.code == 1013
        assert received < total
    # The server is still healthy and the closed clients can resume with since.
    async with connect(server, board, since=total - 1) as back:
        assert [n["seq"] for n in back.snapshot["notes"]] == [total]


async def test_resume_after_1013_receives_everything_missed(fresh_server: ServerProcess) -> None:
    server = fresh_server
    server.env = {"NOTESBOARD_QUEUE_FRAMES": "64"}
    server.start()
    total = 3200  # ~13 MB of events: more than the kernel's socket buffers hold for the stalled reader
    slow = await _stalled_client(server, "resume-1013")
    first = Client(slow)
    snap = await first.recv()
    async with connect(server, "resume-1013") as writer:
        for i in range(total):  # in steps: the writer's own queue is only 64 frames deep too
            await writer.send({"type": "create", "text": "y" * 4096, "client_id": f"r{i}"})
            if i % 16 == 15:
                await writer.recv_until(lambda f, i=i: f["type"] == "ack" and f["client_id"] == f"r{i}", 30)
    seqs: list[int] = []
    with pytest.raises(websockets.ConnectionClosed) as info:
        while True:
            f = await first.recv(timeout=20)
            if f["type"] == "event":
                seqs.append(f["seq"])
    assert info.value.rcvd is not None and info.value.rcvd.code == 1013
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) < total
    async with connect(server, "resume-1013", since=seqs[-1] if seqs else 0, epoch=snap["epoch"]) as back:
        rest = [n["seq"] for n in back.snapshot["notes"]]
        assert seqs + rest == list(range(1, total + 1))


async def test_a_reader_that_stops_is_closed_1013_before_the_keepalive(fresh_server: ServerProcess) -> None:
    """Its queue never overflows (bytes limit high), but its sends stall: 1013, not uvicorn's 1011."""
    server = fresh_server
    server.env = {
        "NOTESBOARD_QUEUE_BYTES": str(64 * 1024 * 1024),
        "NOTESBOARD_QUEUE_FRAMES": "100000",
        "NOTESBOARD_STALL_TIMEOUT": "1",
        "NOTESBOARD_PING_INTERVAL": "3",
        "NOTESBOARD_PING_TIMEOUT": "3",
    }
    server.start()
    stalled = await _stalled_client(server, "stall-1013")
    async with connect(server, "stall-1013") as writer:
        for i in range(2500):  # ~10 MB: more than the kernel's socket buffers hold for the stalled reader
            await writer.send({"type": "create", "text": "s" * 4000, "client_id": f"s{i}"})
            if i % 50 == 49:
                await writer.recv_until(lambda f, i=i: f["type"] == "ack" and f["client_id"] == f"s{i}", 30)
        # Past the stall timeout (1 s), before ping interval + timeout (6 s) would end it.
        await server.until_logged("stalled reader board=stall-1013", timeout=6)
    with pytest.raises(websockets.ConnectionClosed) as info:
        while True:
            await asyncio.wait_for(stalled.recv(), 20)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1013
    assert "stalled reader" in server.log()


async def test_a_reader_that_ignores_pings_is_closed_1013_not_1011(fresh_server: ServerProcess) -> None:
    """Little data (no send ever blocks), but the reader stopped: the keepalive ends it with 1013."""
    server = fresh_server
    server.env = {"NOTESBOARD_PING_INTERVAL": "1", "NOTESBOARD_PING_TIMEOUT": "1", "NOTESBOARD_STALL_TIMEOUT": "100"}
    server.start()
    stalled = await _stalled_client(server, "no-pong")
    async with connect(server, "no-pong") as writer:
        for i in range(10):  # a few frames fill the stalled client's one-message queue: it stops reading
            await writer.request({"type": "create", "text": "p", "client_id": f"p{i}"})
        await server.until_logged("no pong board=no-pong", timeout=10)  # a ping went unanswered past ping_timeout
    with pytest.raises(websockets.ConnectionClosed) as info:
        while True:
            await asyncio.wait_for(stalled.recv(), 20)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1013
    assert "no pong" in server.log()
