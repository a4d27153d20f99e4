"""The `/y/{board}/{note_id}` socket in the AsyncAPI document: binary y-websocket messages (see wire.py)."""

from __future__ import annotations

from typing import Any

__all__ = ["Y_CHANNEL", "Y_MESSAGES", "Y_OPERATIONS", "Y_SCHEMAS"]

Y_SCHEMAS: dict[str, Any] = {
    "YMessage": {"type": "string", "format": "binary", "description": "a binary y-websocket message (lib0 encoding)"}
}
_BINARY = {"$ref": "#/components/schemas/YMessage"}

Y_MESSAGES: dict[str, dict[str, Any]] = {
    "ysync": {
        "name": "ysync",
        "title": "y-protocols sync message",
        "summary": "varuint 0, then step 1 (0 + varbytes state vector), step 2 (1 + varbytes update) or update "
        "(2 + varbytes update). The server sends step 1 on connect and answers a step 1 with step 2; a "
        "client's step 2 and updates are committed, then relayed to the note's other editors.",
        "contentType": "application/octet-stream",
        "payload": _BINARY,
    },
    "yawareness": {
        "name": "yawareness",
        "title": "y-protocols awareness message",
        "summary": "varuint 1, then varbytes awareness update; relayed to the note's other editors, never stored. "
        "varuint 3 (query awareness) is answered with everyone's state.",
        "contentType": "application/octet-stream",
        "payload": _BINARY,
    },
}

Y_CHANNEL: dict[str, Any] = {
    "address": "/y/{board}/{note_id}",
    "title": "one note's text as a Yjs document (the y-websocket protocol)",
    "description": "A Y.Doc holding one Y.Text named `text`. Query: `token`, `name` as on /ws/{board}. A missing, "
    "deleted or other-board note is refused at the handshake (404). Closes: 1003 malformed message, 1009 frame "
    "over max_frame_bytes or text over max_text, 1008 read token writing, rate limit, token expired or note "
    "deleted, 1013 too slow or database unavailable, 1001 shutdown.",
    "parameters": {
        "board": {"description": "the board's name, ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"},
        "note_id": {"description": "the note's id, a decimal integer >= 1"},
    },
    "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in Y_MESSAGES},
}

Y_OPERATIONS: dict[str, dict[str, Any]] = {
    f"{action}_{name}": {
        "action": action,
        "channel": {"$ref": "#/channels/note_text"},
        "messages": [{"$ref": f"#/channels/note_text/messages/{name}"}],
    }
    for name in Y_MESSAGES
    for action in ("send", "receive")
}
