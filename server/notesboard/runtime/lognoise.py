"""Protocol errors caused by a client become one rate-limited WARNING line with its address.

uvicorn logs an invalid-UTF-8 text frame as an ERROR with a traceback (`logger.exception` in its sans-I/O
WebSocket protocol), and when the frame arrives together with the client's close, the event loop logs a
second "Fatal error on transport" traceback. Any client could flood the log with them, and an operator
would take them for server bugs. The connection itself is closed 1007 by uvicorn either way; this filter only
changes what is logged. With `--log-level debug` the original records pass unchanged.
"""

from __future__ import annotations

import logging
import time
from types import TracebackType
from typing import Any

__all__ = ["ClientNoise", "install"]

LOGGERS = ("uvicorn.error", "asyncio")
INVALID_UTF8 = "Invalid UTF-8 sequence received from client"
FATAL_TRANSPORT = "Fatal error on transport"


def _client(tb: TracebackType | None) -> str:
    """The peer address, from the `self.client` of the protocol object in the traceback's frames."""
    while tb is not None:
        peer: Any = getattr(tb.tb_frame.f_locals.get("self"), "client", None)
        if isinstance(peer, tuple) and len(peer) == 2:
            return f"{peer[0]}:{peer[1]}"
        tb = tb.tb_next
    return "unknown"


def _client_caused(exc: BaseException | None) -> bool:
    """A UnicodeDecodeError of a client's text frame, or the failed close that follows it."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, UnicodeDecodeError):
            return True
        exc, seen = exc.__context__, seen + 1
    return False


class ClientNoise(logging.Filter):
    """Rewrites client protocol errors to one WARNING line; at most `burst` lines, then one per `every` s."""

    def __init__(self, burst: int = 5, every: float = 10.0) -> None:
        super().__init__()
        self.burst = burst
        self.every = every
        self._tokens = float(burst)
        self._last = time.monotonic()
        self.suppressed = 0
        self._last_client = ""

    def _allow(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._last) / self.every)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR:
            return True
        message = record.msg if isinstance(record.msg, str) else ""
        exc = record.exc_info[1] if record.exc_info else None
        tb = record.exc_info[2] if record.exc_info else None
        if message.startswith(INVALID_UTF8):
            what = "invalid UTF-8 in a text frame; closed 1007"
        elif message.startswith(FATAL_TRANSPORT) and _client_caused(exc):
            what = "invalid UTF-8 in a text frame, then its close; connection dropped"
        else:
            return True
        client = _client(tb)
        if message.startswith(FATAL_TRANSPORT) and client == self._last_client:
            return False  # the second report of the frame just reported (uvicorn's failed close 1007)
        self._last_client = client
        if not self._allow():
            self.suppressed += 1
            return False
        more = f" ({self.suppressed} more suppressed)" if self.suppressed else ""
        self.suppressed = 0
        record.msg, record.args = f"client protocol error from {client}: {what}{more}", None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def install(log_level: str) -> ClientNoise | None:
    """Attach one shared filter to the loggers that report client protocol errors (not at debug level)."""
    if log_level == "debug":
        return None
    noise = ClientNoise()
    for name in LOGGERS:
        logging.getLogger(name).addFilter(noise)
    return noise
