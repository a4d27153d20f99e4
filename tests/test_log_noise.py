"""A client's protocol errors cost one rate-limited WARNING line with its address, never a traceback."""

from __future__ import annotations

import base64
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.frames import Close, Frame, Opcode

from notesboard.runtime.lognoise import INVALID_UTF8, ClientNoise, install
from tests.helpers import ServerProcess


@pytest.fixture
def quiet_server(tmp_path: Path) -> Iterator[ServerProcess]:
    # warning level: every line in the log is then a warning or an error, so the log's length is the measure.
    srv = ServerProcess(f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}", tmp_path / "server.log")
    srv.env = {"NOTESBOARD_LOG_LEVEL": "warning"}
    srv.start()
    yield srv
    srv.stop()


def send_invalid_text(port: int, *, then_close: bool) -> bytes:
    """Handshake by hand, then one text frame that is not UTF-8 (and the close in the same write)."""
    key = base64.b64encode(os.urandom(16)).decode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(
            (
                f"GET /ws/noise HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(65536)
        assert data.startswith(b"HTTP/1.1 101"), data[:200]
        payload = Frame(Opcode.TEXT, b"\xff\xfe not utf-8").serialize(mask=True, extensions=[])
        if then_close:
            payload += Frame(Opcode.CLOSE, Close(1000, "").serialize()).serialize(mask=True, extensions=[])
        s.sendall(payload)
        received = b""
        while chunk := s.recv(65536):  # until the server closes the TCP connection
            received += chunk
        return received


def test_fifty_invalid_frames_are_a_few_warning_lines(quiet_server: ServerProcess) -> None:
    for i in range(50):
        received = send_invalid_text(quiet_server.port, then_close=i % 2 == 1)
        if i % 2 == 0:
            assert b"\x88\x02\x03\xef" in received  # a close frame with code 1007 (0x03ef)
    assert httpx.get(f"{quiet_server.url}/healthz").status_code == 200  # still serving
    log = quiet_server.log()
    assert "Traceback" not in log and "ERROR" not in log, log
    lines = [line for line in log.splitlines() if line.strip()]
    warnings = [line for line in lines if "client protocol error from 127.0.0.1:" in line]
    assert 1 <= len(warnings) <= 10, log
    assert len(lines) <= len(warnings) + 2, log  # nothing else but the shutdown line, at most
    assert all("WARNING" in line for line in warnings)


def record(msg: str) -> logging.LogRecord:
    return logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, msg, None, None)


def test_rate_limit_reports_what_it_suppressed() -> None:
    noise = ClientNoise(burst=2, every=10.0)
    passed = [noise.filter(record(INVALID_UTF8 + ".")) for _ in range(5)]
    assert passed == [True, True, False, False, False]
    noise._last -= 10.0  # ten seconds later: one more line, which counts the three dropped
    r = record(INVALID_UTF8 + ".")
    assert noise.filter(r) and r.levelname == "WARNING" and "(3 more suppressed)" in r.getMessage()
    assert r.exc_info is None


def test_other_errors_pass_unchanged() -> None:
    noise = ClientNoise(burst=1)
    r = record("Exception in ASGI application")
    assert noise.filter(r) and r.levelno == logging.ERROR and r.msg == "Exception in ASGI application"
    assert install("debug") is None  # debug: every record as uvicorn wrote it
