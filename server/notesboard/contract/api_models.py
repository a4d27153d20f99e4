"""Pydantic models of the REST contract, used for the published schemas only (never to parse a request).

Requests are parsed by `validate.py` (the same code path as socket frames, with its exact error codes and
messages). These models restate what those validators accept, built from the same constants, so that
`/openapi.json` and `/asyncapi.json` describe the server as built; the schemathesis run in
`tests/test_api_schema.py` checks that the two agree against a real server. Limits that are settings
(`max_text`, `max_import`) are filled in when the document is built (`openapi.py`).
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from notesboard.contract.fields import (
    BOARD_PATTERN,
    CLIENT_ID_PATTERN,
    COLOR_PATTERN,
    COORD_LIMIT,
    DEFAULT_H,
    DEFAULT_W,
    DEFAULT_Z,
    MAX_INT,
    NAME_MAX,
    SIZE_MAX,
    SIZE_MIN,
    Z_LIMIT,
)

__all__ = [
    "BOARD_PATTERN",
    "CHANGE_FIELDS",
    "MAX_INT",
    "Author",
    "BoardDeleted",
    "BoardSummary",
    "ClientId",
    "ErrorBody",
    "ErrorCode",
    "ExportDocument",
    "Health",
    "HistoryChange",
    "HistoryPage",
    "ImportBody",
    "ImportResult",
    "NewNote",
    "Note",
    "NoteChange",
    "NoteCreate",
    "NoteUpdate",
    "NotesPage",
    "PositiveInt",
    "Schema",
    "display_name_schema",
    "printable_pattern",
]

CHANGE_FIELDS = ("text", "color", "x", "y", "w", "h", "z", "deleted")  # an update needs one of them

ClientId = Annotated[str, Field(pattern=CLIENT_ID_PATTERN, description="echoed in the socket's ack; idempotency key")]
Color = Annotated[str, Field(pattern=COLOR_PATTERN, examples=["#fde68a"])]
Coord = Annotated[float, Field(ge=-COORD_LIMIT, le=COORD_LIMIT)]
Size = Annotated[float, Field(ge=SIZE_MIN, le=SIZE_MAX)]
Stack = Annotated[int, Field(ge=-Z_LIMIT, le=Z_LIMIT, description="stacking order, higher on top")]
PositiveInt = Annotated[int, Field(ge=1, le=MAX_INT)]
VOTER_KEY_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"  # a voter key (core/voters.py): the socket's key=, REST's voter
NO_NUL = r"^[^\x00]*$"  # U+0000 is refused (PostgreSQL cannot store it)


def _printable(schema: dict[str, Any]) -> None:
    schema["pattern"] = printable_pattern()  # when the schema is generated: the regex takes a moment to build


# The socket's name= rule (validate.check_name): printable, at most NAME_MAX; the pattern is Python's isprintable.
Author = Annotated[
    str,
    Field(
        max_length=NAME_MAX,
        json_schema_extra=_printable,
        description=f"display name: 0 to {NAME_MAX} printable characters (Python's str.isprintable); empty means none",
    ),
]
Text = Annotated[
    str, Field(pattern=NO_NUL, description="0 to max_text code points, stored verbatim (longer: 413), no U+0000")
]
Timestamp = Annotated[str, Field(examples=["2026-11-25T14:50:59.480Z"], description="UTC, milliseconds, Z")]


@cache
def printable_pattern(max_length: int = NAME_MAX) -> str:
    """A regex matching what Python's `str.isprintable` accepts (check_author's rule), built once."""
    ranges: list[tuple[int, int]] = []
    start: int | None = None
    for cp in range(0x110000):
        if chr(cp).isprintable():
            start = cp if start is None else start
        elif start is not None:
            ranges.append((start, cp - 1))
            start = None
    if start is not None:
        ranges.append((start, 0x10FFFF))

    def char(cp: int) -> str:
        return "\\" + chr(cp) if chr(cp) in "\\]^-[" else chr(cp)

    body = "".join(char(a) if a == b else f"{char(a)}-{char(b)}" for a, b in ranges)
    return f"^[{body}]{{0,{max_length}}}$"


def display_name_schema() -> dict[str, Any]:
    """A display name in a query string (REST `?author=`, the socket's `name=`): check_author's rule."""
    return {
        "type": "string",
        "maxLength": NAME_MAX,
        "pattern": printable_pattern(),
        "description": f"0 to {NAME_MAX} printable characters (Python's str.isprintable); empty means none",
    }


class Schema(BaseModel):
    model_config = ConfigDict(frozen=True)


ErrorCode = Literal["bad_request", "too_large", "not_found", "conflict", "rate_limited", "forbidden", "unavailable"]


class ErrorDetail(Schema):
    code: ErrorCode
    message: str


class ErrorBody(Schema):
    """Every error: a contract code and a human-readable message."""

    error: ErrorDetail


Kind = Annotated[
    Literal["note", "section"],
    Field(
        description='"note", or "section": a titled area (its text is the title) grouping the notes whose '
        "centre lies inside it; set at creation, never changed"
    ),
]


class Note(Schema):
    """A note as stored (protocol.Note); a deleted note (tombstone) keeps its id with `deleted: true`."""

    id: int
    board: str
    text: str
    author: str | None
    color: str | None
    x: float | None
    y: float | None
    w: float
    h: float
    z: int
    version: int
    seq: int
    created_at: Timestamp
    updated_at: Timestamp
    deleted: bool
    updated_by: str | None
    kind: Kind
    hidden: Literal[True] | None = Field(
        None, description="someone else's note written while private: its text is empty until the reveal"
    )
    private: Literal[True] | None = Field(
        None, description="your own note written while private: nobody else sees its text until the reveal"
    )


class NotesPage(Schema):
    """The notes changed after `since` (tombstones included), or the live notes, in ascending seq."""

    board: str
    epoch: str
    seq: int
    notes: list[Note]
    more: bool


class HistoryChange(Schema):
    """One committed change: its seq, what the event said, the note right after it, who and when."""

    seq: int
    op: Literal["created", "updated", "deleted"]
    note: Note
    by: str | None = Field(description="the note's updated_by after the change")
    at: Timestamp = Field(description="when it was committed (the note's updated_at after it)")


class HistoryPage(Schema):
    """The changes after `since` in ascending seq (at most `limit`); `more`: further ones follow."""

    board: str
    changes: list[HistoryChange]
    more: bool
    truncated: bool = Field(description="changes after `since` are gone (retention, a board delete, an upgrade)")
    oldest_at: int = Field(description="the oldest seq `?at=` accepts; every change after it is kept")


class BoardSummary(Schema):
    board: str
    notes: int
    seq: int


class BoardDeleted(Schema):
    """Every live note became a tombstone (text cleared), each with its own seq and event."""

    board: str
    deleted: int
    seq: int


class ImportResult(Schema):
    board: str
    created: int
    skipped: int = Field(description="notes an earlier import of the same file already created")
    seq: int


class Health(Schema):
    status: Literal["ok", "unavailable"]


class NewNote(Schema):
    """The fields of a new note (the socket's `create` frame adds `type`; its author is the socket's name=)."""

    text: Text
    client_id: ClientId | None = None
    color: Color | None = None
    x: Coord | None = None
    y: Coord | None = None
    w: Size = DEFAULT_W
    h: Size = DEFAULT_H
    z: Stack = DEFAULT_Z
    kind: Kind = "note"


class NoteCreate(NewNote):
    """A new note. Unknown fields are ignored; types are not coerced (`"1"` is not a number)."""

    author: Author | None = None


def _partial(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """An update has no defaults (what is not sent does not change) and must send one change at least."""
    for prop in schema["properties"].values():
        prop.pop("default", None)
    schema["anyOf"] = [{"required": [name]} for name in CHANGE_FIELDS]


class NoteChange(Schema):
    """Only the fields sent change; `null` clears color/x/y. `deleted: false` restores a tombstone."""

    model_config = ConfigDict(json_schema_extra=_partial)

    text: Annotated[Text, Field(description="never null; send an empty string for an empty note")] = ""
    color: Color | None = None
    x: Coord | None = None
    y: Coord | None = None
    w: Size = DEFAULT_W
    h: Size = DEFAULT_H
    z: Stack = DEFAULT_Z
    deleted: Literal[False] = False
    version: Annotated[PositiveInt | None, Field(description="the version you saw; another one is 409")] = None
    client_id: ClientId | None = None


class NoteUpdate(NoteChange):
    """A partial update (`client_id` is accepted and ignored on REST: there is no ack to echo it in)."""

    author: Author | None = Field(default=None, description="recorded as the note's updated_by")


class ExportNote(Schema):
    id: int
    text: str
    color: str | None
    x: float | None
    y: float | None
    w: float
    h: float
    z: int
    author: str | None
    updated_by: str | None
    created_at: Timestamp
    updated_at: Timestamp
    kind: Kind


class ExportDocument(Schema):
    """`format=json`: lossless, and what `POST .../import` reads back."""

    format: Literal["notesboard-export"]
    version: Literal[1]
    board: str
    exported_at: Timestamp
    notes: list[ExportNote]


class ImportNote(Schema):
    """One note of an import: the rules of a create; `null` means absent; other fields are ignored."""

    text: Text
    color: Color | None = None
    x: Coord | None = None
    y: Coord | None = None
    w: Size | None = None
    h: Size | None = None
    z: Stack | None = None
    author: Author | None = None


class ImportBody(Schema):
    """A JSON export (`GET .../export?format=json`); validated whole before anything is written."""

    format: Literal["notesboard-export"]
    notes: list[ImportNote]


# -- the board session (contract/session.py validates; docs/protocol.md "Board session") --------------------


class SessionVote(Schema):
    """A dot vote: `budget` votes per voter; `multiple` (an extension) lets one voter put several on a note."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    open: bool
    budget: int = Field(3, ge=1, le=100)
    hidden: bool = False
    multiple: bool = False


class SessionTimer(Schema):
    """Running until `ends_at`, or paused with `paused_left` seconds: one of the two (both null: no timer)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    ends_at: Annotated[str, Field(json_schema_extra={"format": "date-time"})] | None = None
    paused_left: float | None = Field(None, ge=0)


class SessionBody(Schema):
    """PUT: the whole session; `version` the one you saw (another one is 409), absent: replace whatever is."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    vote: SessionVote | None = None
    writing: Literal["open", "private"] = "open"
    timer: SessionTimer | None = None
    version: int | None = Field(None, ge=0, le=MAX_INT)


class BoardSession(Schema):
    """The board's session; `version` 0: the board never had one."""

    vote: SessionVote | None
    writing: Literal["open", "private"]
    timer: SessionTimer | None
    version: int
