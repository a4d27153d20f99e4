"""The load tester's own WebSocket client (loadtest/wire.py) against a real websockets server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.http11 import Response

from notesboard.loadtest.wire import LeanSocket, open_socket

Handler = Callable[[ServerConnection], Awaitable[None]]


@asynccontextmanager
async def server(handler: Handler, **kw: Any) -> AsyncIterator[str]:
    async with serve(handler, "127.0.0.1", 0, compression=None, **kw) as srv:
        port = next(iter(srv.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/ws/b?batch=1"


async def test_messages_of_every_length_arrive_whole_and_in_order() -> None:
    sizes = [0, 1, 125, 126, 200, 65535, 65536, 70_000]
    seen_path: list[str] = []

    async def handler(ws: ServerConnection) -> None:
        seen_path.append(ws.request.path if ws.request else "")
        for n in sizes:
            await ws.send("x" * n)
        await ws.send(["frag", "men", "ted"])  # one message in three frames
        await ws.send(b"\x00\x01")
        await ws.recv()  # until the client closes

    async with server(handler) as url:
        sock = await open_socket(url)
        got = [await sock.recv() for _ in range(len(sizes) + 2)]
        await sock.close()
    assert seen_path == ["/ws/b?batch=1"]
    assert [len(m) for m in got[: len(sizes)]] == sizes
    assert got[-2:] == ["fragmented", b"\x00\x01"]
    assert sock.close_code == 1000


async def test_sends_are_masked_text_and_pings_are_answered() -> None:
    echoed: list[str] = []

    async def handler(ws: ServerConnection) -> None:
        pong = await ws.ping(b"hello")
        await asyncio.wait_for(pong, 5)  # the client answered
        async for message in ws:
            echoed.append(str(message))
            await ws.send(f"echo {message}")

    async with server(handler) as url:
        sock = await open_socket(url)
        await sock.send('{"type":"create","text":"é"}')
        assert await sock.recv() == 'echo {"type":"create","text":"é"}'
        await sock.close()
    assert echoed == ['{"type":"create","text":"é"}']


async def test_a_server_close_ends_iteration_with_its_code() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.send("one")
        await ws.send("two")
        await ws.close(1013, "try again later")

    async with server(handler) as url:
        sock = await open_socket(url)
        got: list[str | bytes] = []
        with pytest.raises(ConnectionClosedError):
            async for message in sock:
                got.append(message)
        assert got == ["one", "two"] and sock.close_code == 1013 and sock.close_reason == "try again later"
        with pytest.raises(ConnectionClosedError):
            await sock.send("late")


async def test_a_normal_close_ends_iteration_quietly() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.send("only")
        await ws.close(1001)

    async with server(handler) as url:
        sock = await open_socket(url)
        assert [m async for m in sock] == ["only"] and sock.close_code == 1001


async def test_a_refused_handshake_is_invalid_status() -> None:
    def refuse(conn: ServerConnection, request: Any) -> Response:
        return conn.respond(503, "full\n")

    async def handler(ws: ServerConnection) -> None:  # never reached
        await ws.close()

    async with server(handler, process_request=refuse) as url:
        with pytest.raises(InvalidStatus) as caught:
            await open_socket(url)
    assert caught.value.response.status_code == 503


async def test_a_reader_that_stops_reading_stops_the_transport() -> None:
    """More than max_queue messages waiting: reading pauses (TCP backpressure), and resumes as they are read."""
    N = 30_000  # 30 MB: more than loopback's socket buffers hold
    sent = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        for i in range(N):
            await ws.send(f"{i:05d}" + "y" * 1000)
        sent.set()
        await ws.recv()

    async with server(handler) as url:
        sock = await open_socket(url, max_queue=16)
        deadline = asyncio.get_running_loop().time() + 10
        while not sock._paused:
            assert asyncio.get_running_loop().time() < deadline, "reading never paused"
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        assert not sent.is_set()  # the server is held up by the client's full buffers
        assert 16 < len(sock._messages) < N
        got = [await sock.recv() for _ in range(N)]
        assert [int(str(m)[:5]) for m in got] == list(range(N))
        await asyncio.wait_for(sent.wait(), 5)
        await sock.close()


async def test_a_silent_server_does_not_hang_close() -> None:
    """close() waits at most two seconds for the server to end the connection, then drops it."""
    done = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        await done.wait()

    async with server(handler, close_timeout=10) as url:
        sock: LeanSocket = await open_socket(url)
        sock._write = lambda op, payload: None  # type: ignore[method-assign]  # our close frame never goes out
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await sock.close()
        assert loop.time() - t0 < 3 and sock.transport is not None and sock.transport.is_closing()
        done.set()
