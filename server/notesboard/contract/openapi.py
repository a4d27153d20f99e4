"""`/openapi.json` as built: every REST route's parameters, body, responses and error statuses.

The choice: the route handlers keep parsing requests themselves with `validate.py` (exact error codes and
messages, never a 422), so FastAPI cannot infer the contract from their signatures. Instead `install()`
replaces `app.openapi()` with a document built from FastAPI's own route list plus the table `OPERATIONS`
below (keyed by handler name) and the pydantic models of `api_models.py`. A route without an entry fails
the build (and so tests/test_api_schema.py, which fetches the document), so the document cannot silently
drift from the routes; that test also runs schemathesis against a real server's document to check the
rest. Settings that change the contract (`max_text`, `max_import`, auth) are read when the document is
built, so it describes this server.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Scope

from notesboard.contract import api_models as m
from notesboard.contract import vote_models as vm
from notesboard.core.exchange import FORMATS
from notesboard.ingress.rest import MAX_LIMIT
from notesboard.runtime.config import Settings

__all__ = ["OPERATIONS", "allow_header", "build_openapi", "install"]

REF = "#/components/schemas/{model}"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
DESCRIPTION = """\
The REST half of notesboard's API (the socket half: `/asyncapi.json`); the contract is docs/protocol.md.
Every error is `{"error": {"code", "message"}}` with the status listed on each operation; the API never
answers 422. A method a path does not support is 405 (code `bad_request`) with an `Allow` header.
Prometheus metrics are at `/metrics` (text format, not described here).
"""
ERRORS = {
    400: "bad_request: a bad board name, path id, query parameter or body (the message says which)",
    401: "forbidden: the token is missing, malformed, wrongly signed or expired",
    403: "forbidden: a browser Origin that is not allowed, a token that does not cover the board or is "
    "read-only, the board cap, (GET /api/boards) listing is off, (history, ?at=) history is off, or (PUT "
    "session) not a facilitate token, (votes) past your budget or a second vote on one note",
    404: "not_found: no such note on this board, (votes) no vote open or no vote of yours to take back",
    409: "conflict: `version` is not the note's (or the session's) current one, or a restore of a live note",
    413: "too_large: the body, a text or an import is over its limit",
    503: "unavailable: the database cannot be reached or the server is shutting down",
}


@dataclass(frozen=True)
class Param:
    name: str
    where: str  # "path" or "query"
    schema: dict[str, Any]
    description: str

    def openapi(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "in": self.where,
            "required": self.where == "path",
            "schema": self.schema,
            "description": self.description,
        }


INT = {"type": "integer", "maximum": m.MAX_INT}
BOARD = Param("board", "path", {"type": "string", "pattern": m.BOARD_PATTERN}, "the board's name")
NOTE_ID = Param("note_id", "path", {**INT, "minimum": 1}, "the note's id (unique per database)")
SINCE = Param("since", "query", {**INT, "minimum": 0}, "only notes changed after this seq, tombstones included")
VERSION = Param("version", "query", {**INT, "minimum": 1}, "the version you saw; another one is 409")
AT = Param("at", "query", {**INT, "minimum": 0}, "the board right after this seq (not with since)")
PURGE = Param(
    "purge", "query", {"type": "string", "enum": ["true", "false", "1", "0"]}, "also erase the note's earlier texts"
)
HISTORY_SINCE = Param("since", "query", {**INT, "minimum": 0, "default": 0}, "only changes after this seq")
FORMAT = Param("format", "query", {"type": "string", "enum": list(FORMATS), "default": "json"}, "export format")


def _limit(default: int) -> Param:
    schema = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": default}
    return Param("limit", "query", schema, "at most this many")


VOTER = Param("voter", "query", {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}, "whose votes to show as `mine`")
AUTHOR = Param("author", "query", {"$ref": REF.format(model="DisplayName")}, "recorded as updated_by; empty means none")


@dataclass(frozen=True)
class Operation:
    """What one route accepts and answers; `ok` maps a success status to (description, model)."""

    ok: dict[int, tuple[str, Any]]
    errors: tuple[int, ...]
    params: tuple[Param, ...] = ()
    body: type[BaseModel] | None = None
    auth_errors: tuple[int, ...] = (401,)  # added when the server has an auth_secret
    secured: bool = True
    links: dict[str, dict[str, Any]] = field(default_factory=dict)


NOTE_LINKS = {
    "UpdateTheNote": {
        "operationId": "update_note",
        "parameters": {"board": "$request.path.board", "note_id": "$response.body#/id"},
    },
    "DeleteTheNote": {
        "operationId": "delete_note",
        "parameters": {
            "board": "$request.path.board",
            "note_id": "$response.body#/id",
            "version": "$response.body#/version",
        },
    },
}
NOTE = ("the note", m.Note)

OPERATIONS: dict[str, Operation] = {
    "healthz": Operation(
        {200: ("the database answers", m.Health), 503: ("the database does not", m.Health)},
        (),
        secured=False,
        auth_errors=(),
    ),
    "list_boards": Operation(
        {200: ("boards with a change, most recent first", list[m.BoardSummary])}, (400, 403, 503), (_limit(100),)
    ),
    "list_notes": Operation(
        {200: ("a page of notes", m.NotesPage)},
        (400, 403, 503),
        (BOARD, SINCE, AT, _limit(1000)),
        auth_errors=(401, 403),
    ),
    "create_note": Operation(
        {201: ("created", m.Note), 200: ("a replay of an earlier create with this client_id", m.Note)},
        (400, 403, 413, 503),
        (BOARD,),
        m.NoteCreate,
        links=NOTE_LINKS,
    ),
    "update_note": Operation(
        {200: NOTE},
        (400, 403, 404, 409, 413, 503),
        (BOARD, NOTE_ID),
        m.NoteUpdate,
        links={"DeleteTheNote": NOTE_LINKS["DeleteTheNote"]},
    ),
    "delete_note": Operation(
        {200: ("the tombstone", m.Note)}, (400, 403, 404, 409, 503), (BOARD, NOTE_ID, VERSION, AUTHOR, PURGE)
    ),
    "delete_board": Operation({200: ("every live note deleted", m.BoardDeleted)}, (400, 403, 503), (BOARD, AUTHOR)),
    "history": Operation(
        {200: ("the changes after since", m.HistoryPage)},
        (400, 403, 503),
        (BOARD, HISTORY_SINCE, _limit(1000)),
        auth_errors=(401, 403),
    ),
    "note_history": Operation(
        {200: ("the note's changes after since (its versions; none for an unknown note)", m.HistoryPage)},
        (400, 403, 503),
        (BOARD, NOTE_ID, HISTORY_SINCE, _limit(1000)),
        auth_errors=(401, 403),
    ),
    "export": Operation({200: ("the live notes", None)}, (400, 503), (BOARD, FORMAT), auth_errors=(401, 403)),
    "import_notes": Operation(
        {200: ("notes created (or skipped as already imported)", m.ImportResult)},
        (400, 403, 413, 503),
        (BOARD,),
        m.ImportBody,
    ),
    "get_session": Operation(
        {200: ("the board's session (version 0: it never had one)", m.BoardSession)},
        (400, 503),
        (BOARD,),
        auth_errors=(401, 403),
    ),
    "post_vote": Operation(
        {200: ("your vote as committed (a replay of its client_id: the first one's answer)", vm.RestVoteReply)},
        (400, 403, 404, 503),
        (BOARD, NOTE_ID),
        vm.VoteBody,
    ),
    "get_votes": Operation(
        {200: ("the board's vote as the voter may see it", vm.BoardVotes)},
        (400, 503),
        (BOARD, VOTER),
        auth_errors=(401, 403),
    ),
    "put_session": Operation(
        {200: ("the session as committed, with its new version", m.BoardSession)},
        (400, 403, 409, 503),
        (BOARD,),
        m.SessionBody,
    ),
    "asyncapi": Operation(
        {200: ("the AsyncAPI 3 document of the socket protocol", dict[str, Any])}, (), secured=False, auth_errors=()
    ),
}
SCHEMA_MODELS: list[type[BaseModel]] = [
    m.ErrorBody,
    m.Note,
    m.NotesPage,
    m.HistoryPage,
    m.BoardSummary,
    m.BoardDeleted,
    m.ImportResult,
    m.Health,
    m.ExportDocument,
    m.BoardSession,
    vm.RestVoteReply,
    vm.BoardVotes,
]
BODY_MODELS: list[type[BaseModel]] = [m.NoteCreate, m.NoteUpdate, m.ImportBody, m.SessionBody, vm.VoteBody]


def _components(settings: Settings) -> dict[str, Any]:
    pairs = [(model, "serialization") for model in SCHEMA_MODELS] + [(model, "validation") for model in BODY_MODELS]
    _, top = models_json_schema(pairs, ref_template=REF)  # type: ignore[arg-type]
    schemas: dict[str, Any] = top["$defs"]
    for name in ("NoteCreate", "NoteUpdate", "ImportNote"):
        schemas[name]["properties"]["text"]["maxLength"] = settings.max_text
    schemas["ImportBody"]["properties"]["notes"]["maxItems"] = settings.max_import
    schemas["DisplayName"] = m.display_name_schema()
    left = schemas["SessionTimer"]["properties"]["paused_left"]  # anyOf [number, null]: bound the number
    for option in left.get("anyOf", [left]):
        if option.get("type") == "number":
            option["maximum"] = settings.max_timer
    if not settings.auth_secret:  # no token names the voter: the body must (core/voters.py)
        body = schemas["VoteBody"]
        body["required"] = [*body.get("required", []), "voter"]
        body["properties"]["voter"] = {
            "type": "string",
            "pattern": m.VOTER_KEY_PATTERN,
            "description": "your voter key",
        }
    return schemas


def _schema_of(model: Any) -> dict[str, Any]:
    if isinstance(model, type) and issubclass(model, BaseModel):
        return {"$ref": REF.format(model=model.__name__)}
    return TypeAdapter(model).json_schema(ref_template=REF, mode="serialization")


def _responses(op: Operation, auth: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status, (description, model) in op.ok.items():
        if model is None:  # the export: one media type per format
            content = {
                FORMATS["json"][0]: {"schema": _schema_of(m.ExportDocument)},
                "text/markdown": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            }
            headers = {"Content-Disposition": {"required": True, "schema": {"type": "string"}}}
            out[str(status)] = {"description": description, "content": content, "headers": headers}
        else:
            content = {"application/json": {"schema": _schema_of(model)}}
            out[str(status)] = {"description": description, "content": content}
        if op.links:
            out[str(status)]["links"] = op.links
    errors = sorted({*op.errors, *(op.auth_errors if auth else ())})
    error_content = {"application/json": {"schema": _schema_of(m.ErrorBody)}}
    for status in errors:
        out[str(status)] = {"description": ERRORS[status], "content": error_content}
    return out


def _operation_name(operation_id: str, path: str, method: str) -> str | None:
    """The handler name behind FastAPI's default operationId (`{name}{path}_{method}`, non-word chars `_`)."""
    suffix = re.sub(r"\W", "_", path) + "_" + method
    return operation_id.removesuffix(suffix) if operation_id.endswith(suffix) else None


def build_openapi(app: FastAPI, settings: Settings) -> dict[str, Any]:
    """The whole document; raises RuntimeError for a route that `OPERATIONS` does not describe."""
    doc = get_openapi(title=app.title, version=app.version, description=DESCRIPTION, routes=app.routes)
    auth = settings.auth_secret is not None
    components: dict[str, Any] = {"schemas": _components(settings)}
    if auth:
        components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
    doc["components"] = components
    for path, methods in doc["paths"].items():
        for method, entry in methods.items():
            name = _operation_name(entry["operationId"], path, method)
            op = OPERATIONS.get(name or "")
            if op is None:
                raise RuntimeError(f"{method.upper()} {path} is not described in openapi.OPERATIONS")
            entry["operationId"] = name
            entry["parameters"] = [p.openapi() for p in op.params]
            entry.pop("requestBody", None)
            if op.body is not None:
                body = {"application/json": {"schema": _schema_of(op.body)}}
                entry["requestBody"] = {"required": True, "content": body}
            entry["responses"] = _responses(op, auth)
            if auth and op.secured:
                entry["security"] = [{"bearer": []}]
    return doc


def allow_header(routes: Sequence[BaseRoute], scope: Scope) -> str:
    """The `Allow` value of a 405: every method some route serves on this path (Starlette names one route's).

    Routes are probed through their public `matches()`, which also sees into included routers."""
    allowed = [
        method
        for method in METHODS
        if any(not isinstance(r, Mount) and r.matches({**scope, "method": method})[0] is Match.FULL for r in routes)
    ]
    return ", ".join(allowed) or "GET, HEAD"  # a static file under a Mount


def install(app: FastAPI, settings: Settings) -> None:
    """Serve the built document at `/openapi.json` (and so in `/api/docs`), built once on first use."""

    @cache
    def openapi() -> dict[str, Any]:
        return build_openapi(app, settings)

    app.openapi = openapi  # type: ignore[method-assign]
