"""The awareness frames as pydantic models, for the AsyncAPI document (`asyncapi.py` lists them).

They restate what `parse.py` accepts and `frames.py`/`peer.py` build; tests/test_asyncapi.py checks real
frames against them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from notesboard.awareness.parse import MAX_SELECTED, VIEW_MAX
from notesboard.contract import api_models as m

__all__ = ["AwarenessFrame", "AwarenessUpdateFrame"]

Extent = Annotated[float, Field(ge=0, le=VIEW_MAX)]
Selected = Annotated[list[m.PositiveInt], Field(max_length=MAX_SELECTED)]


class Point(m.Schema):
    """A point in board coordinates (the space of a note's x/y)."""

    x: m.Coord
    y: m.Coord


class View(m.Schema):
    """The board area a client shows: top-left corner, width and height, in board coordinates."""

    x: m.Coord
    y: m.Coord
    w: Extent
    h: Extent


class AwarenessPeer(m.Schema):
    """One connection's newest full state. `peer` is opaque; `color` is the server's, stable per connection."""

    peer: str
    name: str
    color: m.Color
    cursor: Point | None
    editing: m.PositiveInt | None
    selected: list[m.PositiveInt]
    view: View | None


class AwarenessFrame(m.Schema):
    """Cursors and selections of the board's other peers: the full set after the snapshot, then at most one per
    awareness_tick with the peers that changed (newest state) and those `gone`. Never stored, acked or seq'd."""

    type: Literal["awareness"]
    peers: list[AwarenessPeer]
    gone: list[str]


class AwarenessUpdateFrame(m.Schema):
    """This client's cursor, edited note, selection and view: only what changed (an omitted field keeps its
    value, null or [] clears). At most 20 a second (more are dropped); malformed -> error bad_request."""

    type: Literal["awareness"]
    cursor: Point | None = None
    editing: m.PositiveInt | None = None
    selected: Selected | None = None
    view: View | None = None
