"""uvicorn_adapter against the installed uvicorn: fails when a release renames what the fast paths use.

CI runs this module a second time against the newest uvicorn release (.ci/run, `.venv-latest`).
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn
import websockets
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState

from notesboard.fanout.outbox import text_frame
from notesboard.runtime.uvicorn_adapter import (
    CONN_METHODS,
    FAST_PATHS,
    PROTOCOL_FIELDS,
    RAW_SEND_KEY,
    FastPaths,
    RawSendMiddleware,
    SocketHandle,
    probe,
)

Behaviour = Callable[[SocketHandle], Awaitable[None]]


async def _noop_app(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("not called")


def _loaded(**options: Any) -> uvicorn.Config:
    """A loaded config as `notesboard serve` builds it (permessage-deflate off unless asked for)."""
    options.setdefault("ws_per_message_deflate", False)
    config = uvicorn.Config(_noop_app, lifespan="off", **options)
    config.load()
    return config


def test_every_fast_path_is_on_with_the_default_server() -> None:
    report = probe(_loaded(ws="websockets-sansio"))
    assert report.on == dict.fromkeys(FAST_PATHS, True) and report.why_off == {}
    assert report.summary() == "direct_write=on close_behind_buffer=on keepalive_1013=on"


def test_a_middleware_that_wraps_send_turns_them_off_and_says_why() -> None:
    report = probe(_loaded(ws="websockets-sansio", log_level="trace"))  # uvicorn's MessageLoggerMiddleware
    assert not any(report.on.values())
    assert report.why_off["direct_write"] == "MessageLoggerMiddleware wraps send"
    assert "direct_write=off" in report.summary() and "MessageLoggerMiddleware wraps send" in report.summary()


def test_another_protocol_or_the_settings_turn_them_off() -> None:
    other = probe(_loaded(ws="none"))  # or wsproto, or the legacy websockets protocol
    assert not any(other.on.values()) and "not uvicorn's websockets-sansio" in other.why_off["direct_write"]
    off = probe(_loaded(ws="websockets-sansio"), direct_writes=False)
    assert off.on == {"direct_write": False, "close_behind_buffer": True, "keepalive_1013": True}
    deflate = probe(_loaded(ws="websockets-sansio", ws_per_message_deflate=True))
    assert "permessage-deflate" in deflate.why_off["direct_write"]


async def test_the_protocol_object_has_what_the_adapter_uses() -> None:
    """The names in PROTOCOL_FIELDS exist on a real protocol object, and its `send` leads back to it."""
    proto = WebSocketsSansIOProtocol(_loaded(ws="websockets-sansio"), ServerState(), {}, asyncio.get_running_loop())
    for fields in PROTOCOL_FIELDS.values():
        for name in fields:
            assert hasattr(proto, name), f"uvicorn's WebSocketsSansIOProtocol has no {name!r}"
    assert all(callable(getattr(proto.conn, m, None)) for m in CONN_METHODS)
    assert proto.send.__self__ is proto
    assert callable(proto.keepalive_timeout) and proto.close_timer is None


def test_unchecked_still_honours_the_setting() -> None:
    assert FastPaths.unchecked("test").on == dict.fromkeys(FAST_PATHS, True)
    off = FastPaths.unchecked("test", direct_writes=False)
    assert not off.enabled("direct_write") and off.enabled("close_behind_buffer")
    assert SocketHandle({RAW_SEND_KEY: object()}, off).direct_writer() is None


def test_a_handle_without_the_server_send_falls_back() -> None:
    async def fallback(text: str) -> None: ...

    handle = SocketHandle({}, FastPaths.unchecked("test"))
    assert handle.direct_writer() is None and not handle.close_behind_buffer(1013, "x")
    assert handle.text_sender(fallback) is fallback
    off = SocketHandle({RAW_SEND_KEY: object()}, probe(_loaded(ws="websockets-sansio", log_level="trace")))
    assert off.direct_writer() is None and not off.close_behind_buffer(1013, "x")


@asynccontextmanager
async def _server(behaviour: Behaviour, **options: Any) -> AsyncIterator[int]:
    """A real uvicorn on a free port whose one WebSocket route runs `behaviour` after accepting."""
    holder: dict[str, FastPaths] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            return
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        await behaviour(SocketHandle(scope, holder["fast"]))
        while (await receive())["type"] != "websocket.disconnect":
            pass

    config = uvicorn.Config(
        RawSendMiddleware(app),
        host="127.0.0.1",
        port=0,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        lifespan="off",
        **options,
    )
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
            await asyncio.sleep(0.01)
    holder["fast"] = probe(config)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


async def test_direct_write_and_close_behind_the_buffer_on_a_live_server() -> None:
    async def behaviour(handle: SocketHandle) -> None:
        write = handle.direct_writer()
        assert write is not None and write(text_frame("hello"))
        assert handle.close_behind_buffer(1013, "bye")

    async with _server(behaviour, log_level="warning") as port:
        async with websockets.connect(f"ws://127.0.0.1:{port}/") as ws:
            assert await ws.recv() == "hello"
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
    assert closed.value.rcvd is not None and (closed.value.rcvd.code, closed.value.rcvd.reason) == (1013, "bye")


async def _read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readexactly(2)
    n = head[1] & 0x7F
    if n == 126:
        n = struct.unpack("!H", await reader.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", await reader.readexactly(8))[0]
    return head[0] & 0x0F, await reader.readexactly(n)


async def test_a_missing_pong_reaches_the_hook_on_a_live_server() -> None:
    """A peer that never answers pings: uvicorn's keepalive timeout calls our hook, which closes 1013."""
    fired = asyncio.Event()

    async def behaviour(handle: SocketHandle) -> None:
        def on_timeout() -> bool:
            fired.set()
            return handle.close_behind_buffer(1013, "no pong")

        handle.hook_keepalive(on_timeout)

    async with _server(behaviour, log_level="warning", ws_ping_interval=0.05, ws_ping_timeout=0.1) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
        async with asyncio.timeout(5):
            await fired.wait()
            opcode, payload = await _read_frame(reader)
            while opcode != 0x8:  # pings first; never answered
                assert opcode == 0x9
                opcode, payload = await _read_frame(reader)
        assert struct.unpack("!H", payload[:2])[0] == 1013 and payload[2:] == b"no pong"
        writer.close()
