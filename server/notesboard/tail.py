"""`notesboard tail`: follow a board's events, reconnecting and resuming with since + epoch.

Only what may pass is retried (a dropped socket, the server restarting, 503, 429): a permanent refusal at
the handshake (a bad token, a bad `--since`) raises `Refused` with the server's reason (see refusals.py).
SIGTERM and SIGINT stop it at once (`until_signalled`).
"""

from __future__ import annotations

import asyncio
import random
import signal
from collections.abc import Coroutine
from typing import Any, TextIO
from urllib.parse import quote, urlsplit, urlunsplit

import orjson
import websockets
from rich.console import Console
from rich.markup import escape

from notesboard.refusals import from_handshake, reason_of
from notesboard.validate import BOARD_RE

__all__ = ["tail_board", "until_signalled", "ws_url"]


def ws_url(base: str, board: str, **query: Any) -> str:
    """http(s)://host:port -> ws(s)://host:port/ws/BOARD?query."""
    parts = urlsplit(base if "://" in base else f"http://{base}")
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme)
    if scheme is None:
        raise ValueError(f"unsupported URL scheme in {base!r}")
    qs = "&".join(f"{k}={quote(str(v))}" for k, v in query.items() if v is not None)
    return urlunsplit((scheme, parts.netloc, f"/ws/{board}", qs, ""))


async def tail_board(
    base: str, board: str, *, since: int | None, count: int | None, out: TextIO, log: Console, token: str | None = None
) -> None:
    if not BOARD_RE.fullmatch(board):
        raise ValueError(f"bad board name {board!r}")
    epoch: str | None = None
    seen = 0
    delay = 0.2
    while count is None or seen < count:
        url = ws_url(base, board, since=since, epoch=epoch, batch=1, token=token)
        try:
            async with websockets.connect(url, max_size=None, open_timeout=10) as ws:
                delay = 0.2
                async for message in ws:
                    for line in str(message).split("\n"):
                        frame = orjson.loads(line)
                        kind = frame.get("type")
                        if kind == "snapshot":
                            epoch = frame["epoch"]
                            if frame["reset"]:
                                log.print(f"[yellow]resumed with a fresh snapshot (seq {frame['seq']})[/]")
                            for note in frame["notes"]:
                                out.write(orjson.dumps({"type": "note", "note": note}).decode() + "\n")
                            since = frame["seq"]
                        elif kind == "event":
                            if since is not None and frame["seq"] <= since:
                                continue
                            since = frame["seq"]
                            out.write(line + "\n")
                            seen += 1
                        out.flush()
                        if count is not None and seen >= count:
                            return
        except websockets.InvalidStatus as exc:
            refused = from_handshake(exc)
            if refused is not None:
                raise refused from None
            status = exc.response.status_code
            reason = reason_of(status, bytes(exc.response.body or b""))
            log.print(f"[yellow]refused for now ({status}: {escape(reason)}); retrying in {delay:.1f}s[/]")
        except (TimeoutError, OSError, websockets.WebSocketException) as exc:
            log.print(f"[yellow]disconnected ({type(exc).__name__}); reconnecting in {delay:.1f}s[/]")
        await asyncio.sleep(delay * (0.5 + random.random()))
        delay = min(delay * 2, 10.0)


async def until_signalled(coro: Coroutine[Any, Any, None]) -> bool:
    """Run `coro` until it ends or SIGTERM/SIGINT cancels it; True if a signal stopped it."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(coro)
    stopped = False

    def stop() -> None:
        nonlocal stopped
        stopped = True
        task.cancel()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    try:
        await task
    except asyncio.CancelledError:
        if not stopped:
            raise
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    return stopped
