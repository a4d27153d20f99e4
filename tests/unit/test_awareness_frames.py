"""Awareness's pure parts: the frame a connection gets (own entry sliced out), and what a client frame sets."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from notesboard.awareness.frames import Joined, empty_frame
from notesboard.awareness.parse import parse_awareness
from notesboard.contract.errors import BadRequest


def entry(peer: str) -> str:
    return orjson.dumps({"peer": peer, "name": "", "color": "#e6194b", "cursor": None}).decode()


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_each_peer_gets_every_entry_but_its_own(n: int) -> None:
    peers = [f"p{i}" for i in range(n)]
    joined = Joined({p: entry(p) for p in peers}, ["gone"])
    assert [e["peer"] for e in orjson.loads(joined.shared)["peers"]] == peers
    for p in peers:
        frame = orjson.loads(joined.without(p) or "null")  # valid JSON whichever entry was cut
        assert [e["peer"] for e in frame["peers"]] == [q for q in peers if q != p] and frame["gone"] == ["gone"]
    assert joined.without("someone-else") is joined.shared  # one shared object: framed once per tick


def test_nothing_to_tell_the_only_changed_peer() -> None:
    assert Joined({"p": entry("p")}, []).without("p") is None
    assert orjson.loads(empty_frame()) == {"type": "awareness", "peers": [], "gone": []}


def test_parse_keeps_omitted_fields_out_and_clears_with_null() -> None:
    assert parse_awareness({"type": "awareness"}) == {}
    assert parse_awareness({"cursor": None, "selected": None, "editing": None, "view": None}) == {
        "cursor": None,
        "selected": [],
        "editing": None,
        "view": None,
    }
    assert parse_awareness({"cursor": {"x": 1, "y": 2.5, "z": 3}}) == {"cursor": {"x": 1, "y": 2.5}}


@pytest.mark.parametrize(
    "body",
    [
        {"cursor": {"x": float("nan"), "y": 0}},
        {"cursor": {"x": float("inf"), "y": 0}},
        {"cursor": {"x": 1_000_000.5, "y": 0}},
        {"view": {"x": 0, "y": 0, "w": 2_000_001, "h": 1}},
        {"selected": [True]},
        {"editing": 2**63},
    ],
)
def test_parse_refuses(body: dict[str, Any]) -> None:
    with pytest.raises(BadRequest):
        parse_awareness(body)
