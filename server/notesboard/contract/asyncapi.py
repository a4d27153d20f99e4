"""`/asyncapi.json`: the socket protocol as an AsyncAPI 3 document, built from pydantic frame models.

The frame models restate `protocol.py`'s frame builders (server frames) and `validate.parse_frame`'s input
(client frames), using the note fields of `api_models.py`. tests/test_asyncapi.py checks them both ways:
the builders' output against these schemas, and every frame a real server sends over a real socket.
The document describes the server, so `send` operations are frames the server sends.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from notesboard import __version__
from notesboard.awareness.schema import AwarenessFrame, AwarenessUpdateFrame
from notesboard.contract import api_models as m
from notesboard.contract.protocol import encode
from notesboard.contract.vote_models import VoteEventFrame, VoteFrame, VoteReply, VotesView
from notesboard.ytext.asyncapi import Y_CHANNEL, Y_MESSAGES, Y_OPERATIONS, Y_SCHEMAS

__all__ = ["CLIENT_FRAMES", "SERVER_FRAMES", "build_asyncapi", "client_message", "router"]

REF = "#/components/schemas/{model}"
router = APIRouter()


class SnapshotFrame(m.Schema):
    """Always the first frame. `reset`: history was lost (new epoch, or `since` ahead): replace your notes.
    `more`: a fresh snapshot left live notes out (ask for more with `limit=`)."""

    type: Literal["snapshot"]
    board: str
    epoch: str
    seq: int
    notes: list[m.Note]
    presence: int
    reset: bool
    more: bool
    session: m.BoardSession | None = Field(
        None, description="only on a board that has a session (docs/protocol.md: Board session); absent otherwise"
    )
    votes: VotesView | None = Field(None, description="only while the board's session has a vote: yours, and totals")


class EventFrame(m.Schema):
    """A committed change, to every connection of the board; seq grows by exactly one."""

    type: Literal["event"]
    op: Literal["created", "updated", "deleted"]
    seq: int
    note: m.Note


class SessionFrame(m.Schema):
    """A committed change of the board session (REST PUT .../session); it takes the board's next seq, like an
    event, and carries the whole session."""

    type: Literal["session"]
    seq: int
    session: m.BoardSession
    votes: dict[str, int] | None = Field(
        None, description="every note's vote total, when they may be seen (a closed vote, or open tallies)"
    )


class AckFrame(m.Schema):
    """To the sender, after the commit; a replayed create's ack carries the original seq. A note change's ack
    carries the `note`, a vote's the `vote`."""

    type: Literal["ack"]
    client_id: str | None
    seq: int
    note: m.Note | None = None
    vote: VoteReply | None = None


class ErrorFrame(m.Schema):
    """A refused frame; the connection stays open. `client_id` echoes the request's when it is a short string."""

    type: Literal["error"]
    code: m.ErrorCode
    message: str
    client_id: str | None


class PresenceFrame(m.Schema):
    """Who is on the board (every process), at most every presence_interval after a join or leave."""

    type: Literal["presence"]
    count: int
    names: list[str]


class PongFrame(m.Schema):
    """The answer to `ping`."""

    type: Literal["pong"]


class CreateFrame(m.NewNote):
    """Create a note; its author is the socket's `name=`."""

    type: Literal["create"]


class UpdateFrame(m.NoteChange):
    type: Literal["update"]
    id: m.PositiveInt


class DeleteFrame(m.Schema):
    type: Literal["delete"]
    id: m.PositiveInt
    version: m.PositiveInt | None = None
    client_id: m.ClientId | None = None


class PingFrame(m.Schema):
    type: Literal["ping"]


SERVER_FRAMES: dict[str, type[BaseModel]] = {
    "snapshot": SnapshotFrame,
    "event": EventFrame,
    "session": SessionFrame,
    "vote": VoteEventFrame,
    "ack": AckFrame,
    "error": ErrorFrame,
    "presence": PresenceFrame,
    "pong": PongFrame,
    "awareness": AwarenessFrame,
}
CLIENT_FRAMES: dict[str, type[BaseModel]] = {
    "create": CreateFrame,
    "update": UpdateFrame,
    "delete": DeleteFrame,
    "ping": PingFrame,
    "vote": VoteFrame,
    "awareness": AwarenessUpdateFrame,
}

QUERY = {
    "type": "object",
    "properties": {
        "since": {"type": "string", "pattern": "^[0-9]{1,19}$", "description": "resume after this seq (0..2^63-1)"},
        "epoch": {"type": "string", "maxLength": 128, "description": "the epoch of the snapshot `since` came from"},
        "name": {"$ref": "#/components/schemas/DisplayName"},
        "batch": {"type": "string", "enum": ["1", "true", "0", "false", ""], "description": "several frames a message"},
        "token": {"type": "string", "description": "a JWT (required when the server has an auth_secret)"},
        "limit": {"type": "string", "pattern": "^[0-9]+$", "description": "fresh snapshot size (cut to snapshot_max)"},
        "key": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$", "description": "a voter key kept by the browser"},
    },
}
DESCRIPTION = """\
The socket half of notesboard's API (the REST half: `/openapi.json`); the contract is docs/protocol.md.
Every frame is a JSON object with a `type`. With `batch=1` one WebSocket message may carry several
frames separated by `\\n`. A refused handshake is an HTTP response (400 bad query or board, 401 missing or
bad token, 403 token or Origin not allowed, 429 too many sockets from this address, 503 shutting down or
full) with the body `{"error": {"code", "message"}}`. Close codes: 1000 normal, 1001 shutdown, 1008 rate
limit abuse or token expired, 1009 frame too big, 1013 slow consumer or missed changes (resume with
`since` and `epoch`).
"""


def client_message(kind: str) -> str:
    """The document's message name for a client frame type: `awareness` goes both ways, with two shapes."""
    return f"client_{kind}" if kind in SERVER_FRAMES else kind


@cache
def build_asyncapi() -> dict[str, Any]:
    frames = {**SERVER_FRAMES, **{client_message(kind): model for kind, model in CLIENT_FRAMES.items()}}
    pairs = [(model, "serialization") for model in SERVER_FRAMES.values()]
    pairs += [(model, "validation") for model in CLIENT_FRAMES.values()]
    _, top = models_json_schema(pairs, ref_template=REF)  # type: ignore[arg-type]
    messages = {
        name: {
            "name": name,
            "title": f"{name} frame",
            "summary": (model.__doc__ or "").split("\n")[0],
            "payload": {"$ref": REF.format(model=model.__name__)},
        }
        for name, model in frames.items()
    }
    channel_messages = {name: {"$ref": f"#/components/messages/{name}"} for name in frames}

    def operation(name: str, action: str) -> dict[str, Any]:
        return {
            "action": action,
            "channel": {"$ref": "#/channels/board"},
            "messages": [{"$ref": f"#/channels/board/messages/{name}"}],
        }

    operations = {f"send_{name}": operation(name, "send") for name in SERVER_FRAMES}
    operations |= {f"receive_{name}": operation(name, "receive") for name in map(client_message, CLIENT_FRAMES)}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "notesboard socket protocol", "version": __version__, "description": DESCRIPTION},
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "127.0.0.1:8000", "protocol": "ws", "description": "`notesboard serve`"}},
        "channels": {
            "board": {
                "address": "/ws/{board}",
                "title": "one board's notes",
                "parameters": {"board": {"description": "the board's name, ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"}},
                "messages": channel_messages,
                "bindings": {"ws": {"method": "GET", "query": QUERY, "bindingVersion": "0.1.0"}},
            },
            "note_text": Y_CHANNEL,
        },
        "operations": operations | Y_OPERATIONS,
        "components": {
            "messages": messages | Y_MESSAGES,
            "schemas": {**top["$defs"], "DisplayName": m.display_name_schema(), **Y_SCHEMAS},
        },
    }


class _JSON(Response):
    media_type = "application/json"


@router.get("/asyncapi.json")
async def asyncapi(request: Request) -> Response:
    """The AsyncAPI 3 document of the socket protocol (`/ws/{board}`)."""
    return _JSON(encode(build_asyncapi()))
