"""The y-websocket protocol's messages (y-protocols sync and awareness), parsed and built. Pure.

A message is `varuint type` then its body: type 0 (sync) is `varuint step` + `varbytes` (step 1: the
sender's state vector; step 2 and update: a Yjs update); type 1 (awareness) is `varbytes` relayed as is;
type 3 (query awareness) has no body. Anything else, or bytes left over, is malformed (close 1003).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import orjson

from notesboard.contract.errors import BadRequest
from notesboard.ytext.varint import Reader, uint, var_bytes

__all__ = [
    "Message",
    "awareness",
    "awareness_entries",
    "awareness_update",
    "parse",
    "sync_step1",
    "sync_step2",
    "sync_update",
]

SYNC, AWARENESS, AUTH, QUERY_AWARENESS = 0, 1, 2, 3
STEP1, STEP2, UPDATE = 0, 1, 2

Kind = Literal["step1", "step2", "update", "awareness", "query_awareness"]


@dataclass(frozen=True, slots=True)
class Message:
    kind: Kind
    payload: bytes  # step1: state vector; step2/update: a Yjs update; awareness: the encoded awareness update


def parse(data: bytes) -> Message:
    r = Reader(data)
    kind = r.uint()
    if kind == SYNC:
        step = r.uint()
        if step not in (STEP1, STEP2, UPDATE):
            raise BadRequest(f"unknown sync step {step}")
        payload = r.var_bytes()
        found: Kind = "step1" if step == STEP1 else "step2" if step == STEP2 else "update"
    elif kind == AWARENESS:
        payload, found = r.var_bytes(), "awareness"
    elif kind == QUERY_AWARENESS:
        payload, found = b"", "query_awareness"
    else:
        raise BadRequest(f"unknown message type {kind}")
    if not r.at_end():
        raise BadRequest("bytes after the message")
    return Message(found, payload)


def sync_step1(state_vector: bytes) -> bytes:
    return uint(SYNC) + uint(STEP1) + var_bytes(state_vector)


def sync_step2(update: bytes) -> bytes:
    return uint(SYNC) + uint(STEP2) + var_bytes(update)


def sync_update(update: bytes) -> bytes:
    return uint(SYNC) + uint(UPDATE) + var_bytes(update)


def awareness(payload: bytes) -> bytes:
    return uint(AWARENESS) + var_bytes(payload)


def awareness_entries(payload: bytes) -> list[tuple[int, int, str]]:
    """An awareness update's entries: (client id, clock, state as JSON text; "null" when the client left)."""
    r = Reader(payload)
    entries = []
    for _ in range(r.uint()):
        client, clock = r.uint(), r.uint()
        raw = r.var_bytes()
        try:
            orjson.loads(raw)  # relayed as is: every peer JSON.parses it
        except orjson.JSONDecodeError:
            raise BadRequest("awareness state is not JSON") from None
        state = raw.decode()
        entries.append((client, clock, state))
    if not r.at_end():
        raise BadRequest("bytes after the awareness update")
    return entries


def awareness_update(entries: list[tuple[int, int, str]]) -> bytes:
    """An awareness update (the payload of an awareness message) made of `entries`."""
    out = bytearray(uint(len(entries)))
    for client, clock, state in entries:
        out += uint(client) + uint(clock) + var_bytes(state.encode())
    return bytes(out)
