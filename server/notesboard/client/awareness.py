"""Awareness in the client (issue #21): the frame `Board.aware()` sends, and the peers the server reports.

`peers` is what the server said, nothing guessed: each `awareness` frame replaces the entries it lists (the
server always sends a peer's full state) and removes those in `gone`. A reconnect starts from the full frame
that follows the snapshot, so peers that left meanwhile do not linger.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["UNSET", "Peer", "apply_awareness", "awareness_frame"]

Peer = dict[str, Any]  # {"peer", "name", "color", "cursor", "editing", "selected", "view"}


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()  # a field not given keeps its last value on the server
MAX_SELECTED = 1000


def _finite(value: Any, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number")


def awareness_frame(cursor: Any, editing: Any, selected: Any, view: Any) -> dict[str, Any]:
    """The client frame; ValueError for what the server would refuse on sight (types, non-finite numbers)."""
    frame: dict[str, Any] = {"type": "awareness"}
    if cursor is not UNSET:
        if cursor is not None:
            _finite(cursor.get("x"), "cursor x")
            _finite(cursor.get("y"), "cursor y")
            cursor = {"x": cursor["x"], "y": cursor["y"]}
        frame["cursor"] = cursor
    if editing is not UNSET:
        if editing is not None and (isinstance(editing, bool) or not isinstance(editing, int)):
            raise ValueError("editing must be a note id or None")
        frame["editing"] = editing
    if selected is not UNSET:
        selected = list(selected or ())
        if len(selected) > MAX_SELECTED:
            raise ValueError(f"selected holds at most {MAX_SELECTED} ids")
        frame["selected"] = selected
    if view is not UNSET:
        if view is not None:
            for key in ("x", "y", "w", "h"):
                _finite(view.get(key), f"view {key}")
            view = {key: view[key] for key in ("x", "y", "w", "h")}
        frame["view"] = view
    return frame


def apply_awareness(peers: dict[str, Peer], frame: dict[str, Any]) -> None:
    for entry in frame.get("peers", ()):
        peers[entry["peer"]] = entry
    for peer in frame.get("gone", ()):
        peers.pop(peer, None)
