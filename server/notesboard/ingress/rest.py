"""Socket in, REST flavour: `/healthz` and `/api/boards/...`, translated to and from the use cases.

Bodies are parsed here with the same validators as socket frames; every failure is a contract error
(`{"error": {"code", "message"}}` with its status), never a 500.
"""

from __future__ import annotations

from dataclasses import replace
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from notesboard.contract.errors import BadRequest, Forbidden, NotesError, TooLarge
from notesboard.contract.model import WriteResult, now_iso
from notesboard.contract.protocol import decode, encode
from notesboard.contract.validate import (
    check_author,
    check_board,
    create_command,
    delete_command,
    parse_int_param,
    update_command,
)
from notesboard.core.auth import OPEN, Grant, authorize, origin_allowed
from notesboard.core.exchange import FORMATS, export_board, parse_import
from notesboard.core.privacy import shown
from notesboard.core.votes import totals, visible

if TYPE_CHECKING:
    from notesboard.runtime.assembly import Runtime

__all__ = ["JSONBody", "error_response", "router"]

router = APIRouter()

MAX_LIMIT = 10_000
IMPORT_BODY_BYTES = 16 * 1024 * 1024


class JSONBody(Response):
    """A JSON response encoded with orjson (the same encoder as socket frames)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return encode(content).encode()


def error_response(exc: NotesError) -> JSONBody:
    return JSONBody({"error": {"code": exc.code, "message": exc.message}}, status_code=exc.status)


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def _authorize(request: Request, board: str | None, *, write: bool) -> Grant:
    """Token (Authorization: Bearer) and, for writes, the browser Origin; raises Forbidden/Unauthorized."""
    settings = _runtime(request).settings
    if write and not origin_allowed(
        request.headers.get("origin"), request.headers.get("host"), settings.allowed_origins
    ):
        raise Forbidden("this Origin may not change notes here (see --allowed-origins)")
    grant = authorize(settings.auth_secret, _bearer(request), board)
    if write and not grant.can_write():
        raise Forbidden("this token is read-only")
    return grant


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else None


async def _body(request: Request, limit: int | None = None) -> Any:
    limit = limit or _runtime(request).settings.max_frame_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"body over {limit} bytes")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"body over {limit} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw:
        raise BadRequest("expected a JSON body")
    try:
        return decode(raw)
    except ValueError:
        raise BadRequest("body is not valid JSON") from None


def _note_id(raw: str) -> int:
    value = parse_int_param("note id", raw, low=1, high=2**63 - 1)
    assert value is not None
    return value


def _note(result: WriteResult, status: int = 200, caller: str | None = None) -> JSONBody:
    """The changed note, as the caller may see it (someone else's private note: blank, core/privacy.py)."""
    note = result.note if result.owner is None else shown([result.note], {result.note["id"]: result.owner}, caller)[0]
    return JSONBody(note, status_code=status)


def _caller(grant: Grant) -> str | None:
    """Who a REST request is (core/voters.py): a token's subject; else nobody in particular."""
    return f"sub:{grant.subject}" if grant.subject is not None else None


@router.get("/healthz")
async def healthz(request: Request) -> Response:
    if await _runtime(request).store.healthy():
        return JSONBody({"status": "ok"})
    return JSONBody({"status": "unavailable"}, status_code=503)


@router.get("/api/boards")
async def list_boards(request: Request) -> Response:
    """Off unless `list_boards` is set or a token says which boards may be seen: names act as share links."""
    grant = _authorize(request, None, write=False)
    limit = parse_int_param("limit", request.query_params.get("limit"), low=1, high=MAX_LIMIT) or 100
    if not _runtime(request).settings.list_boards and grant is OPEN:  # auth off: no token to say which
        raise Forbidden("listing boards is off on this server (start it with --list-boards, or send a token)")
    summaries = await _runtime(request).notes.boards(limit)
    visible = [s for s in summaries if grant.pattern == "*" or fnmatchcase(s.board, grant.pattern)]
    return JSONBody([{"board": s.board, "notes": s.notes, "seq": s.seq} for s in visible])


@router.get("/api/boards/{board}/notes")
async def list_notes(request: Request, board: str) -> Response:
    check_board(board)
    grant = _authorize(request, board, write=False)
    since = parse_int_param("since", request.query_params.get("since"), low=0, high=2**63 - 1)
    limit = parse_int_param("limit", request.query_params.get("limit"), low=1, high=MAX_LIMIT) or 1000
    at = parse_int_param("at", request.query_params.get("at"), low=0, high=2**63 - 1)
    if at is not None and since is not None:
        raise BadRequest("at and since cannot be combined (at: the board at a seq; since: the changes after one)")
    notes = _runtime(request).notes
    page = await (notes.page(board, since, limit) if at is None else notes.page_at(board, at, limit))
    shown_notes = shown(page.notes, page.private, _caller(grant))
    return JSONBody({"board": board, "epoch": page.epoch, "seq": page.seq, "notes": shown_notes, "more": page.more})


@router.post("/api/boards/{board}/notes")
async def create_note(request: Request, board: str) -> Response:
    check_board(board)
    who = _caller(_authorize(request, board, write=True))
    runtime = _runtime(request)
    command = create_command(await _body(request), runtime.settings.max_text, allow_author=True)
    result = await runtime.notes.change(board, command, who)
    return _note(result, 201 if result.op is not None else 200, who)


@router.patch("/api/boards/{board}/notes/{note_id}")
async def update_note(request: Request, board: str, note_id: str) -> Response:
    check_board(board)
    who = _caller(_authorize(request, board, write=True))
    runtime = _runtime(request)
    command = update_command(await _body(request), runtime.settings.max_text, _note_id(note_id), allow_author=True)
    return _note(await runtime.notes.change(board, command, who), 200, who)


@router.delete("/api/boards/{board}/notes/{note_id}")
async def delete_note(request: Request, board: str, note_id: str) -> Response:
    check_board(board)
    who = _caller(_authorize(request, board, write=True))
    version = parse_int_param("version", request.query_params.get("version"), low=1, high=2**63 - 1)
    body: dict[str, Any] = {} if version is None else {"version": version}
    author = check_author(request.query_params.get("author"))
    if author:
        body["author"] = author
    command = delete_command(body, _note_id(note_id), allow_author=True)
    if _flag("purge", request.query_params.get("purge")):
        command = replace(command, purge=True)
    return _note(await _runtime(request).notes.change(board, command, who), 200, who)


def _flag(name: str, raw: str | None) -> bool:
    if raw is None or raw in ("false", "0"):
        return False
    if raw in ("true", "1"):
        return True
    raise BadRequest(f"{name} must be true or false")


@router.delete("/api/boards/{board}")
async def delete_board(request: Request, board: str) -> Response:
    check_board(board)
    _authorize(request, board, write=True)
    author = check_author(request.query_params.get("author"))
    cleared = await _runtime(request).notes.delete_board(board, author)
    return JSONBody({"board": board, "deleted": len(cleared.deleted), "seq": cleared.seq})


@router.get("/api/boards/{board}/history")
async def history(request: Request, board: str) -> Response:
    """Every change after `since` as committed: the op, the note right after it, who and when."""
    return await _history(request, board, None)


@router.get("/api/boards/{board}/notes/{note_id}/history")
async def note_history(request: Request, board: str, note_id: str) -> Response:
    """One note's changes (its versions), shaped like the board's history; an unknown note has none."""
    return await _history(request, board, _note_id(note_id))


async def _history(request: Request, board: str, note_id: int | None) -> Response:
    check_board(board)
    _authorize(request, board, write=False)
    since = parse_int_param("since", request.query_params.get("since"), low=0, high=2**63 - 1) or 0
    limit = parse_int_param("limit", request.query_params.get("limit"), low=1, high=MAX_LIMIT) or 1000
    page = await _runtime(request).notes.history(board, since, limit, note_id)
    changes = [
        {"seq": c.seq, "op": c.op, "note": c.note, "by": c.note["updated_by"], "at": c.note["updated_at"]}
        for c in page.changes
    ]
    body = {"board": board, "changes": changes, "more": page.more, "truncated": page.truncated}
    return JSONBody({**body, "oldest_at": page.oldest})


@router.get("/api/boards/{board}/export")
async def export(request: Request, board: str) -> Response:
    check_board(board)
    who = _caller(_authorize(request, board, write=False))
    fmt = request.query_params.get("format", "json")
    if fmt not in FORMATS:
        raise BadRequest(f"format must be one of {', '.join(FORMATS)}")
    notes = _runtime(request).notes
    page = await notes.page(board, None, None)
    session, tallies = await notes.votes(board)
    votes = totals(tallies) if visible(session["vote"]) else None  # hidden tallies stay out of exports too
    media, ext = FORMATS[fmt]
    body = export_board(board, shown(page.notes, page.private, who), fmt, now_iso(), votes)
    headers = {"Content-Disposition": f'attachment; filename="{board}.{ext}"'}
    return Response(body, media_type=media, headers=headers)


@router.post("/api/boards/{board}/import")
async def import_notes(request: Request, board: str) -> Response:
    check_board(board)
    _authorize(request, board, write=True)
    runtime = _runtime(request)
    settings = runtime.settings
    body = await _body(request, max(settings.max_frame_bytes, IMPORT_BODY_BYTES))
    commands = parse_import(body, settings.max_text, settings.max_import)
    done = await runtime.notes.import_notes(board, commands)
    return JSONBody({"board": board, "created": done.created, "skipped": done.skipped, "seq": done.seq})
