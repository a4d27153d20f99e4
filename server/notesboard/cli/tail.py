"""`notesboard tail`: follow a board's events, reconnecting and resuming with since + epoch (notesboard.client).

Only what may pass is retried (a dropped socket, the server restarting, 503, 429): a permanent refusal at
the handshake (a bad token, a bad `--since`) raises `Refused` with the server's reason (see refusals.py).
SIGTERM and SIGINT stop it at once (`interrupts.until_signalled`).
"""

from __future__ import annotations

import asyncio
from typing import TextIO

import orjson
import websockets
from rich.console import Console
from rich.markup import escape

from notesboard.cli.refusals import from_handshake, reason_of
from notesboard.client import Backoff, Connection, ProtocolError, SeqTracker, SnapshotKind, Verdict, encode, ws_url
from notesboard.contract.fields import BOARD_RE
from notesboard.contract.protocol import change_op, event_frame

__all__ = ["tail_board", "ws_url"]  # ws_url: kept importable from here


async def tail_board(
    base: str, board: str, *, since: int | None, count: int | None, out: TextIO, log: Console, token: str | None = None
) -> None:
    if not BOARD_RE.fullmatch(board):
        raise ValueError(f"bad board name {board!r}")
    ws_url(base, board)  # a bad URL is a ValueError now, not a reconnect loop
    tracker = SeqTracker(since)
    backoff = Backoff(0.2, 10.0)
    seen = 0
    while count is None or seen < count:
        try:
            async with await Connection.open(base, board, tracker=tracker, batch=1, token=token) as conn:
                backoff.reset()
                if conn.snapshot_kind is SnapshotKind.RESET:
                    log.print(f"[yellow]resumed with a fresh snapshot (seq {conn.snapshot['seq']})[/]")
                if conn.snapshot_kind is SnapshotKind.RESUMED:
                    # The changes missed while away are printed as the events they stand for, so the output
                    # does not depend on whether they arrived live or in the resume snapshot.
                    for note in conn.snapshot["notes"]:
                        if count is not None and seen >= count:
                            return
                        out.write(event_frame(change_op(note), note) + "\n")
                        seen += 1
                else:
                    for note in conn.snapshot["notes"]:
                        out.write(orjson.dumps({"type": "note", "note": note}).decode() + "\n")
                out.flush()
                checked = 0
                while count is None or seen < count:
                    frame = await conn.recv(timeout=3600)
                    if frame.get("type") != "event":
                        continue
                    _, verdict = conn.verdicts[checked]
                    checked += 1
                    if verdict is Verdict.GAP:  # missed some: the resume snapshot brings them
                        log.print(f"[yellow]gap after seq {tracker.seq}; resuming[/]")
                        break
                    if verdict is Verdict.NEXT:
                        out.write(encode(frame) + "\n")
                        out.flush()
                        seen += 1
                else:
                    return
                continue
        except websockets.InvalidStatus as exc:
            refused = from_handshake(exc)
            if refused is not None:
                raise refused from None
            status = exc.response.status_code
            reason = reason_of(status, bytes(exc.response.body or b""))
            log.print(f"[yellow]refused for now ({status}: {escape(reason)}); retrying[/]")
        except (TimeoutError, OSError, websockets.WebSocketException, ProtocolError) as exc:
            log.print(f"[yellow]disconnected ({type(exc).__name__}); reconnecting in a moment[/]")
        await asyncio.sleep(backoff.next())
