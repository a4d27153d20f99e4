"""Validation: raw frames, REST bodies and query strings -> typed commands, or a contract error.

Pure functions, no I/O. The socket and REST both go through `create_command`/`update_command`/
`delete_command`, so a note is validated in exactly one place. The commands themselves live in `model`
(re-exported here).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from notesboard.contract.errors import BadRequest, TooLarge
from notesboard.contract.fields import (
    BOARD_PATTERN,
    BOARD_RE,
    CLIENT_ID_MAX,
    CLIENT_ID_PATTERN,
    CLIENT_ID_RE,
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
from notesboard.contract.model import (
    Command,
    CreateCommand,
    DeleteBoardCommand,
    DeleteCommand,
    Ping,
    UpdateCommand,
)
from notesboard.contract.protocol import decode

__all__ = [
    "BOARD_RE",
    "CLIENT_ID_RE",
    "NAME_MAX",
    "Command",
    "CreateCommand",
    "DeleteBoardCommand",
    "DeleteCommand",
    "Ping",
    "UpdateCommand",
    "check_author",
    "check_board",
    "check_name",
    "create_command",
    "delete_command",
    "parse_frame",
    "parse_int_param",
    "update_command",
]

LAYOUT_FIELDS = ("w", "h", "z")  # may be set, never cleared: null is bad_request
NAME_RULE = f"must be at most {NAME_MAX} printable characters (no control characters)"
NAME_NUL = "NUL characters (U+0000) are not allowed: a name must be printable"


def check_name(value: str) -> str:
    """A display name shown to other people: printable (no NUL, ESC, newlines...) and short; ValueError if not."""
    if "\x00" in value:
        raise ValueError(NAME_NUL)
    if len(value) > NAME_MAX or not value.isprintable():
        raise ValueError(NAME_RULE)
    return value


def _name_field(value: str) -> str:
    try:
        return check_name(value)
    except ValueError as exc:
        raise PydanticCustomError("display_name", str(exc)) from None


ClientId = Annotated[StrictStr, Field(pattern=CLIENT_ID_PATTERN)]
Color = Annotated[StrictStr, Field(pattern=COLOR_PATTERN)]
# StrictFloat accepts ints but not bools or numeric strings; the bound also rules out inf and NaN.
Coord = Annotated[StrictInt | StrictFloat, Field(ge=-COORD_LIMIT, le=COORD_LIMIT, allow_inf_nan=False)]
Size = Annotated[StrictInt | StrictFloat, Field(ge=SIZE_MIN, le=SIZE_MAX, allow_inf_nan=False)]
Stack = Annotated[StrictInt, Field(ge=-Z_LIMIT, le=Z_LIMIT)]
PositiveInt = Annotated[StrictInt, Field(ge=1, le=MAX_INT)]
Author = Annotated[StrictStr, AfterValidator(_name_field)]


class _Model(BaseModel):
    # Unknown fields are ignored (forward compatibility); no coercion of types.
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class _Create(_Model):
    text: StrictStr
    client_id: ClientId | None = None
    color: Color | None = None
    x: Coord | None = None
    y: Coord | None = None
    # The defaults are not validated; a client's explicit null is refused because None is not a Size.
    w: Size = DEFAULT_W
    h: Size = DEFAULT_H
    z: Stack = DEFAULT_Z
    author: Author | None = None
    kind: Literal["note", "section"] = "note"


class _Update(_Model):
    id: PositiveInt
    text: StrictStr | None = None
    color: Color | None = None
    x: Coord | None = None
    y: Coord | None = None
    w: Size = DEFAULT_W
    h: Size = DEFAULT_H
    z: Stack = DEFAULT_Z
    deleted: StrictBool = True
    version: PositiveInt | None = None
    client_id: ClientId | None = None
    author: Author | None = None


class _Delete(_Model):
    id: PositiveInt
    version: PositiveInt | None = None
    client_id: ClientId | None = None
    author: Author | None = None


def _echo_id(body: Any) -> str | None:
    """The request's client_id for an error frame, when it is a short string (even a malformed one)."""
    if isinstance(body, dict):
        cid = body.get("client_id")
        if isinstance(cid, str) and len(cid) <= CLIENT_ID_MAX:
            return cid
    return None


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False)[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def _check_text(text: str | None, max_text: int, client_id: str | None) -> None:
    if text is not None and len(text) > max_text:
        raise TooLarge(f"text is {len(text)} characters; the limit is {max_text}", client_id)
    _no_nul("text", text, client_id)


def _no_nul(name: str, value: str | None, client_id: str | None) -> None:
    """U+0000 cannot be stored in PostgreSQL text; refuse it on every database alike (found by schemathesis:
    it failed the whole group-commit batch as `unavailable`)."""
    if value is not None and "\x00" in value:
        raise BadRequest(f"{name}: NUL characters (U+0000) are not allowed", client_id)


def _author(author: str | None, allow: bool, client_id: str | None) -> str | None:
    if not allow:
        return None
    _no_nul("author", author, client_id)
    return author or None


def _finite(value: float | None) -> float | None:
    # pydantic already refuses inf/NaN; keep the guarantee local to where numbers enter the store.
    return None if value is None else float(value) if math.isfinite(value) else None


def create_command(body: Any, max_text: int, *, allow_author: bool) -> CreateCommand:
    """Validate a create (socket frame without `type`, or REST body)."""
    cid = _echo_id(body)
    if not isinstance(body, dict):
        raise BadRequest("expected a JSON object", cid)
    try:
        m = _Create.model_validate(body)
    except ValidationError as exc:
        raise BadRequest(_explain(exc), cid) from None
    _check_text(m.text, max_text, cid)
    author = _author(m.author, allow_author, cid)
    return CreateCommand(
        text=m.text,
        client_id=m.client_id,
        color=m.color,
        x=_finite(m.x),
        y=_finite(m.y),
        author=author or None,
        w=float(m.w),
        h=float(m.h),
        z=m.z,
        kind=m.kind,
    )


def update_command(
    body: Any, max_text: int, note_id: int | None = None, *, allow_author: bool = False
) -> UpdateCommand:
    """Validate a partial update; `note_id` comes from the REST path, otherwise from the body."""
    cid = _echo_id(body)
    if not isinstance(body, dict):
        raise BadRequest("expected a JSON object", cid)
    if note_id is not None:
        body = {**body, "id": note_id}
    if "text" in body and body["text"] is None:
        raise BadRequest('text: cannot be null (send "" for an empty note)', cid)
    if "kind" in body:
        raise BadRequest("kind: is set when a note is created and cannot change", cid)
    try:
        m = _Update.model_validate(body)
    except ValidationError as exc:
        raise BadRequest(_explain(exc), cid) from None
    changes: dict[str, Any] = {}
    for name in ("text", "color", "x", "y", "w", "h", "z"):
        if name in m.model_fields_set:
            value = getattr(m, name)
            changes[name] = _finite(value) if name in ("x", "y") else float(value) if name in ("w", "h") else value
    restore = "deleted" in m.model_fields_set
    if restore and m.deleted:
        raise BadRequest('deleted: only false (a restore) is accepted here; send a "delete" to delete', cid)
    if not changes and not restore:
        raise BadRequest("nothing to update: send at least one of text, color, x, y, w, h, z, deleted", cid)
    _check_text(changes.get("text"), max_text, cid)
    return UpdateCommand(
        id=m.id,
        changes=changes,
        version=m.version,
        client_id=m.client_id,
        restore=restore,
        author=_author(m.author, allow_author, cid),
    )


def delete_command(body: Any, note_id: int | None = None, *, allow_author: bool = False) -> DeleteCommand:
    cid = _echo_id(body)
    if not isinstance(body, dict):
        raise BadRequest("expected a JSON object", cid)
    if note_id is not None:
        body = {**body, "id": note_id}
    try:
        m = _Delete.model_validate(body)
    except ValidationError as exc:
        raise BadRequest(_explain(exc), cid) from None
    return DeleteCommand(id=m.id, version=m.version, client_id=m.client_id, author=_author(m.author, allow_author, cid))


def parse_frame(raw: str, max_text: int) -> Command:
    """One client text frame -> a command. Raises BadRequest or TooLarge; never anything else."""
    try:
        body = decode(raw)
    except ValueError:
        raise BadRequest("frame is not valid JSON", None) from None
    if not isinstance(body, dict):
        raise BadRequest("frame must be a JSON object", None)
    kind = body.get("type")
    if kind == "create":
        return create_command(body, max_text, allow_author=False)
    if kind == "update":
        return update_command(body, max_text)
    if kind == "delete":
        return delete_command(body)
    if kind == "ping":
        return Ping()
    if kind == "vote":
        from notesboard.contract.votes import vote_command  # votes imports protocol, like this module

        command, voter = vote_command(body)
        if voter is not None:
            raise BadRequest(
                '"voter" is for REST; a socket votes as its key= (or its token\'s subject)', command.client_id
            )
        return command
    if not isinstance(kind, str):
        raise BadRequest('frame needs a string "type"', _echo_id(body))
    raise BadRequest(f"unknown type {kind[:40]!r}", _echo_id(body))


def check_board(board: str) -> str:
    if not BOARD_RE.fullmatch(board):
        raise BadRequest(f"board must match {BOARD_PATTERN}")
    return board


def check_author(raw: str | None) -> str | None:
    """A display name from a query string (REST `?author=`): empty means none."""
    if not raw:
        return None
    try:
        return check_name(raw)
    except ValueError as exc:
        raise BadRequest(f"author: {exc}") from None


def parse_int_param(name: str, raw: str | None, *, low: int, high: int) -> int | None:
    """A query-string integer: absent -> None; anything but plain digits in [low, high] -> BadRequest."""
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        raise BadRequest(f"{name} must be an integer from {low} to {high}")
    value = int(raw)
    if not low <= value <= high:
        raise BadRequest(f"{name} must be an integer from {low} to {high}")
    return value
