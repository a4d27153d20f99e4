"""Awareness frames built from already-encoded entries (pure string work, no JSON encoding per connection).

A tick's changed entries are encoded once and joined once; a connection's frame is then the shared frame, or
(for a peer in it) the joined entries minus its own: two slices and a join. Frames are kept below `limit`
characters by splitting the entries over several frames (the gone list rides in the last one), so that one
awareness frame is never a large part of a connection's outbox bound.
"""

from __future__ import annotations

import orjson

__all__ = ["HEAD", "Joined", "empty_frame", "frame"]

HEAD = '{"type":"awareness","peers":['
MID = '],"gone":'
TAIL = "}"
NO_GONE = "[]"


def _gone(gone: list[str]) -> str:
    return orjson.dumps(gone).decode() if gone else NO_GONE


def frame(body: str, gone_json: str) -> str:
    return HEAD + body + MID + gone_json + TAIL


def empty_frame() -> str:
    return HEAD + MID + NO_GONE + TAIL


class Joined:
    """One tick's changed entries joined once, with where each peer's entry lies in the joined text."""

    __slots__ = ("body", "gone", "gone_json", "shared", "spans")

    def __init__(self, entries: dict[str, str], gone: list[str]) -> None:
        parts = list(entries.values())
        self.body = ",".join(parts)
        self.spans: dict[str, tuple[int, int]] = {}
        start = 0
        for peer, entry in entries.items():
            self.spans[peer] = (start, start + len(entry))
            start += len(entry) + 1
        self.gone = gone
        self.gone_json = _gone(gone)
        self.shared = frame(self.body, self.gone_json)

    def without(self, peer: str) -> str | None:
        """The frame for `peer`'s own connection (None: nothing left to tell it)."""
        span = self.spans.get(peer)
        if span is None:
            return self.shared
        start, end = span
        body = self.body
        if start == 0:
            rest = body[end + 1 :]
        elif end == len(body):
            rest = body[: start - 1]
        else:
            rest = body[: start - 1] + body[end:]
        if not rest and not self.gone:
            return None
        return frame(rest, self.gone_json)
