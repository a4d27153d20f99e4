"""The notesboard wire client: one implementation of the contract's client side, in layers.

- `urls`: the socket URL for a board (http(s) base -> ws(s)://host/ws/BOARD?query).
- `frames`: encoding frames, and decoding a message (with `batch=1` one message carries several frames).
- `stream`: seq and epoch tracking: what a snapshot brings (fresh, resumed, reset), whether an event is
  the next one, a repeat or after a gap, and the `since` + `epoch` query that resumes.
- `errors`: error frames as typed exceptions (`NotesError` and one subclass per contract code).
- `backoff`: jittered exponential reconnect delays.
- `connection`: one socket over `websockets`: snapshot on open, frames queued in arrival order and fed to
  the tracker, request/ack by client_id.

- `ytext`: `TextEditor`, a note's text as a pycrdt `Text` bound to `/y/{board}/{id}` (`Board.edit_text`).

- `rest`: `Rest` and `AsyncRest`, the REST API for one-shot scripts (httpx), raising the same errors.

- `board`: the public client: `async with connect(url, board) as b: note = await b.create("hi")`, with
  reconnects, resume and a bounded offline queue re-sent with the same client_ids.

`notesboard tail`, `notesboard post` (Rest), the tests and the load tester use the lower layers. The load
tester takes `frames`, `stream` (snapshots and the resume query), `urls` and `backoff` but not `Connection`:
it reads its own socket so that its hot path stays one decode and one accounting call per frame
(bench/loadtest_recv.py).
"""

from __future__ import annotations

from notesboard.client.backoff import Backoff
from notesboard.client.board import Board, connect
from notesboard.client.connection import Connection
from notesboard.client.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotesError,
    NotFound,
    RateLimited,
    Timeout,
    TooLarge,
    Unavailable,
)
from notesboard.client.frames import decode, encode
from notesboard.client.rest import AsyncRest, Rest
from notesboard.client.stream import ProtocolError, SeqTracker, SnapshotKind, Verdict
from notesboard.client.urls import ws_url
from notesboard.client.ytext import TextEditor

__all__ = [
    "AsyncRest",
    "Backoff",
    "BadRequest",
    "Board",
    "Conflict",
    "Connection",
    "Forbidden",
    "NotFound",
    "NotesError",
    "ProtocolError",
    "RateLimited",
    "Rest",
    "SeqTracker",
    "SnapshotKind",
    "TextEditor",
    "Timeout",
    "TooLarge",
    "Unavailable",
    "Verdict",
    "connect",
    "decode",
    "encode",
    "ws_url",
]
