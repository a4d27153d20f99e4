"""REST for the board session (docs/protocol.md "Board session"): `GET`/`PUT /api/boards/{board}/session`.

The session changes over REST only (no socket frame): a facilitator changes it a few times per meeting, and
every change reaches every socket as a `session` frame anyway. With auth on, a PUT needs a `facilitate` token.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from notesboard.contract.errors import Forbidden
from notesboard.contract.model import SessionCommand
from notesboard.contract.session import parse_session
from notesboard.contract.validate import check_board
from notesboard.ingress.rest import JSONBody, _authorize, _body, _runtime

__all__ = ["router"]

router = APIRouter()


@router.get("/api/boards/{board}/session")
async def get_session(request: Request, board: str) -> Response:
    check_board(board)
    _authorize(request, board, write=False)
    return JSONBody(await _runtime(request).notes.session(board))


@router.put("/api/boards/{board}/session")
async def put_session(request: Request, board: str) -> Response:
    check_board(board)
    grant = _authorize(request, board, write=True)
    if not grant.can_facilitate():
        raise Forbidden("changing the board session needs a facilitate token")
    runtime = _runtime(request)
    session, version = parse_session(await _body(request))
    command = SessionCommand(session, version, runtime.settings.max_timer)
    return JSONBody((await runtime.notes.set_session(board, command)).session)
