"""Socket in: the WebSocket endpoint `/ws/{board}` and its handshake.

Origin, board, query and token are checked, and the connection admitted (limits), before accepting; a
refusal is an HTTP status with the contract's JSON error body. Then `SocketConnection` takes over.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.websockets import WebSocket

from notesboard.auth import authorize, origin_allowed
from notesboard.errors import CLOSE_POLICY, Forbidden, NotesError
from notesboard.ingress.connection import SocketConnection
from notesboard.ingress.handshake import handshake
from notesboard.ingress.services import Services
from notesboard.validate import check_board

__all__ = ["websocket_endpoint"]


async def _refuse(websocket: WebSocket, exc: NotesError) -> None:
    """Refuse at the handshake with an HTTP status and a JSON body (or close 1008 if the server can't)."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        body = {"error": {"code": exc.code, "message": exc.message}}
        await websocket.send_denial_response(JSONResponse(body, status_code=exc.status))
    else:
        await websocket.close(CLOSE_POLICY, exc.message[:120])


async def websocket_endpoint(websocket: WebSocket, board: str) -> None:
    services: Services = websocket.app.state.runtime.sockets
    settings = services.settings
    address = websocket.client.host if websocket.client else "unknown"
    try:
        if not origin_allowed(websocket.headers.get("origin"), websocket.headers.get("host"), settings.allowed_origins):
            raise Forbidden("this Origin may not open sockets here (see --allowed-origins)")
        check_board(board)
        query = handshake(websocket.query_params, settings.snapshot_max)
        grant = authorize(settings.auth_secret, query.token, board)
        services.registry.admit(address)
    except NotesError as exc:
        services.error(exc.code)
        await _refuse(websocket, exc)
        return
    await SocketConnection(websocket, services, board, query, grant, address).serve()
