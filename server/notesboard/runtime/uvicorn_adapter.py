"""The only code that reaches into uvicorn's internals: three fast paths over its sans-I/O WebSocket protocol.

ASGI cannot write a ready-made frame without a task wake-up per delivery, cannot close a connection whose
peer stopped reading (`websocket.close` waits for the transport to drain), and has no say in uvicorn's
keepalive close code. uvicorn's `websockets-sansio` protocol object (the `__self__` of the `send` it hands
the app) can do all three, so when it is there we use it:

- `direct_write`: write framed event bytes straight to the transport while the connection is idle;
- `close_behind_buffer`: queue a close frame behind what the transport already holds (stalled readers);
- `keepalive_1013`: a keepalive (pong) timeout closes with 1013, the contract's "too slow", not 1011.

`probe()` checks at start-up what the running server offers (protocol class, the attributes it relies on,
middlewares between uvicorn and the app that wrap `send`), the runtime logs one line about it and exports
`notesboard_fast_path{path=...}`. Per connection, `SocketHandle` checks again and falls back to plain ASGI.
`tests/unit/test_uvicorn_adapter.py` fails when a uvicorn release renames what is used here; CI runs it
against the newest release too. Tested range: see pyproject.toml (`uvicorn>=0.53`: close_timer arrived in
0.53.0, sans-I/O keepalive in 0.44.0, the protocol itself in 0.35.0).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "FAST_PATHS",
    "RAW_SEND_KEY",
    "FastPaths",
    "RawSendMiddleware",
    "SocketHandle",
    "find_app",
    "probe",
]

log = logging.getLogger("notesboard.uvicorn")

RAW_SEND_KEY = "notesboard.raw_send"
FAST_PATHS = ("direct_write", "close_behind_buffer", "keepalive_1013")

# What the fast paths read or set on uvicorn's WebSocketsSansIOProtocol (assigned in its __init__ or
# connection_made), and on the websockets ServerProtocol it holds as `conn`.
PROTOCOL_FIELDS = {
    "direct_write": ("transport", "writable", "conn", "close_sent"),
    "close_behind_buffer": ("transport", "conn", "close_sent", "close_timer", "close_timeout"),
    "keepalive_1013": ("keepalive_timeout", "pong_timer", "pending_ping_payload"),
}
CONN_METHODS = ("send_close", "data_to_send")
# Middlewares that hand `send` through untouched for WebSocket scopes (uvicorn's, and ours below).
PASS_THROUGH = {"ProxyHeadersMiddleware", "RawSendMiddleware", "SocketsFirst"}
DIRECT_WRITES_OFF = "turned off (the direct_writes setting)"


@dataclass(slots=True)
class FastPaths:
    """Which fast paths are on, and for each one that is off, why."""

    on: dict[str, bool] = field(default_factory=dict)
    why_off: dict[str, str] = field(default_factory=dict)

    def enabled(self, path: str) -> bool:
        return self.on.get(path, False)

    def summary(self) -> str:
        parts = [f"{p}={'on' if self.enabled(p) else 'off'}" for p in FAST_PATHS]
        by_reason: dict[str, list[str]] = {}
        for p in FAST_PATHS:
            if p in self.why_off:
                by_reason.setdefault(self.why_off[p], []).append(p)
        reasons = [f"{', '.join(ps) if len(ps) < len(FAST_PATHS) else 'all'}: {r}" for r, ps in by_reason.items()]
        return " ".join(parts) + (f" ({'; '.join(reasons)})" if reasons else "")

    @classmethod
    def unchecked(cls, reason: str, *, direct_writes: bool = True) -> FastPaths:
        """Not started by notesboard's server: each connection still checks before using a fast path."""
        report = cls({p: True for p in FAST_PATHS}, {p: f"unchecked ({reason})" for p in FAST_PATHS})
        if not direct_writes:
            report.on["direct_write"] = False
            report.why_off["direct_write"] = DIRECT_WRITES_OFF
        return report


def _assigned_names(cls: type) -> set[str]:
    """Attribute names the class assigns in __init__/connection_made, plus its own attributes."""
    names = set(dir(cls))
    for method in ("__init__", "connection_made"):
        code = getattr(getattr(cls, method, None), "__code__", None)
        if code is not None:
            names.update(code.co_names)
    return names


def _send_wrappers(app: Any) -> list[str]:
    """Middlewares between uvicorn and the notesboard app that may wrap `send` (uvicorn's trace logger...)."""
    found: list[str] = []
    while app is not None and not hasattr(app, "state") and hasattr(app, "app"):  # down to the app itself
        name = type(app).__name__
        if name not in PASS_THROUGH:
            found.append(name)
        app = app.app
    return found


def probe(config: Any, *, direct_writes: bool = True) -> FastPaths:
    """What the loaded uvicorn `config` offers; `direct_writes` is the setting of the same name."""
    report = FastPaths()
    cls = getattr(config, "ws_protocol_class", None)
    wrappers = _send_wrappers(getattr(config, "loaded_app", None))
    names = _assigned_names(cls) if isinstance(cls, type) else set()
    for path, fields in PROTOCOL_FIELDS.items():
        missing = [f for f in fields if f not in names]
        if cls is None or getattr(cls, "__name__", "") != "WebSocketsSansIOProtocol":
            why = f"ws={getattr(config, 'ws', '?')} is not uvicorn's websockets-sansio protocol"
        elif missing:
            why = f"uvicorn's protocol has no {', '.join(missing)}"
        elif wrappers:
            why = f"{', '.join(wrappers)} wraps send"
        elif path == "direct_write" and not direct_writes:
            why = DIRECT_WRITES_OFF
        elif path == "direct_write" and getattr(config, "ws_per_message_deflate", False):
            why = "permessage-deflate is on (--ws-compression)"
        else:
            report.on[path] = True
            continue
        report.on[path] = False
        report.why_off[path] = why
    return report


def find_app(config: Any) -> Any:
    """The notesboard (FastAPI) app under uvicorn's middlewares, or None."""
    app = getattr(config, "loaded_app", None)
    while app is not None and not hasattr(app, "state"):
        app = getattr(app, "app", None)
    return app


class RawSendMiddleware:
    """Outermost ASGI middleware: keeps the server's `send` for websocket scopes (see `SocketHandle`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[RAW_SEND_KEY] = send
        await self.app(scope, receive, send)


class SocketHandle:
    """One connection's way to uvicorn's protocol object, when the server's `send` leads to it.

    What it hands out are its own bound methods, not closures: one lives as long as its socket, and a
    closure with its cells costs about twice the memory (`bench/socket_memory.py`).
    """

    __slots__ = ("_fast", "_on_timeout", "_original_timeout", "_proto", "_send", "_transport", "_writable")

    def __init__(self, scope: Scope, fast: FastPaths) -> None:
        self._send: Any = scope.get(RAW_SEND_KEY)
        self._proto: Any = getattr(self._send, "__self__", None)
        self._fast = fast
        self._transport: Any = None
        self._writable: Any = None
        self._on_timeout: Callable[[], bool] | None = None
        self._original_timeout: Callable[[], None] | None = None

    def text_sender(self, fallback: Callable[[str], Awaitable[None]]) -> Callable[[str], Awaitable[None]]:
        """Send text frames with the server's own ASGI `send`, skipping starlette's per-message checks.

        Every frame of the fan-out passes here; skipping starlette's wrappers saved about a fifth of the
        server's CPU per delivery. Accept and close still go through starlette.
        """
        if self._send is None:
            return fallback
        return self._send_text

    async def _send_text(self, text: str) -> None:
        await self._send({"type": "websocket.send", "text": text})

    def direct_writer(self) -> Callable[[bytes], bool] | None:
        """A synchronous writer of ready-made frames to the transport, or None.

        Each delivery through ASGI costs a task wake-up, the `send` coroutine and websockets' framing, about
        three quarters of the server's CPU per delivery in the fan-out profile. A server's frames are
        unmasked, so one framed chunk can go byte for byte to every connection of a board. Only without
        extensions (permessage-deflate changes the bytes) and only while the protocol is open and writable.
        """
        proto = self._proto
        if not self._fast.enabled("direct_write") or proto is None:
            return None
        transport = getattr(proto, "transport", None)
        writable = getattr(proto, "writable", None)
        conn = getattr(proto, "conn", None)
        if transport is None or writable is None or conn is None or getattr(conn, "extensions", True):
            return None
        self._transport, self._writable = transport, writable
        return self._write

    def _write(self, wire: bytes) -> bool:
        transport = self._transport
        if self._proto.close_sent or not self._writable.is_set() or transport.is_closing():
            return False
        transport.write(wire)
        return True

    def close_behind_buffer(self, code: int, reason: str) -> bool:
        """Queue a close frame without waiting for the transport to drain; False: use a normal close.

        As uvicorn itself does for its keepalive timeout: the close frame goes through the sans-I/O
        connection, and a timer closes the transport if the peer never answers.
        """
        proto = self._proto
        if not self._fast.enabled("close_behind_buffer") or proto is None:
            return False
        conn, transport = getattr(proto, "conn", None), getattr(proto, "transport", None)
        if conn is None or transport is None or getattr(proto, "close_sent", True):
            return False
        if not all(hasattr(conn, m) for m in CONN_METHODS) or transport.is_closing():
            return False
        try:
            conn.send_close(code, reason)
            transport.write(b"".join(conn.data_to_send()))
        except Exception:  # unexpected protocol state: let the normal path handle it
            log.debug("direct close failed", exc_info=True)
            return False
        proto.close_sent = True
        proto.close_timer = asyncio.get_running_loop().call_later(
            getattr(proto, "close_timeout", 10.0), transport.close
        )
        return True

    def hook_keepalive(self, on_timeout: Callable[[], bool]) -> None:
        """Let `on_timeout` handle uvicorn's keepalive (pong) timeout for this connection.

        `on_timeout` returns True when it closed the connection itself (1013); otherwise uvicorn's own
        handler runs (1011). The protocol looks `keepalive_timeout` up when it arms the timer, so an instance
        attribute replaces it for this connection only.
        """
        proto = self._proto
        if not self._fast.enabled("keepalive_1013") or proto is None:
            return
        original = getattr(proto, "keepalive_timeout", None)
        if not callable(original):
            return
        self._on_timeout, self._original_timeout = on_timeout, original
        proto.keepalive_timeout = self._keepalive_timeout

    def _keepalive_timeout(self) -> None:
        proto = self._proto
        proto.pong_timer = None
        proto.pending_ping_payload = None
        if self._on_timeout is not None and not self._on_timeout() and self._original_timeout is not None:
            self._original_timeout()
