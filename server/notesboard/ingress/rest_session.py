"""REST for the board session (docs/protocol.md "Board session"): `GET`/`PUT /api/boards/{board}/session`,
and votes: `POST /api/boards/{board}/notes/{id}/votes`, `GET /api/boards/{board}/votes`.

The session changes over REST only (no socket frame): a facilitator changes it a few times per meeting, and
every change reaches every socket as a `session` frame anyway. With auth on, a PUT needs a `facilitate` token.
"""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Request
from fastapi.responses import Response

from notesboard.contract.errors import Forbidden
from notesboard.contract.model import SessionCommand
from notesboard.contract.session import parse_session
from notesboard.contract.validate import check_board
from notesboard.contract.votes import vote_command, vote_reply
from notesboard.core.voters import check_key, rest_voter
from notesboard.core.votes import view as votes_view
from notesboard.ingress.rest import JSONBody, _authorize, _bearer, _body, _note_id, _runtime

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


@router.post("/api/boards/{board}/notes/{note_id}/votes")
async def post_vote(request: Request, board: str, note_id: str) -> Response:
    """`{"delta": 1|-1, "client_id"?, "voter"?}`: the vote as the voter sees it, with its `seq`."""
    check_board(board)
    grant = _authorize(request, board, write=True)
    command, key = vote_command(await _body(request), _note_id(note_id))
    result = await _runtime(request).notes.vote(board, replace(command, voter=rest_voter(grant, key, _bearer(request))))
    return JSONBody({"seq": result.seq, **vote_reply(result)})


@router.get("/api/boards/{board}/votes")
async def get_votes(request: Request, board: str, voter: str | None = None) -> Response:
    """The board's vote as `?voter=` (or the token's subject) may see it: `{"vote", "mine", "left", "totals"?}`."""
    check_board(board)
    grant = _authorize(request, board, write=False)
    if voter is not None:
        check_key(voter, "voter")
    token = _bearer(request)
    who = rest_voter(grant, voter, token) if grant.subject is not None or voter or token else None
    session, tallies = await _runtime(request).notes.votes(board)
    view = votes_view(session, tallies, who) or {"mine": {}, "left": 0}
    return JSONBody({"vote": session["vote"], **view})
