"""Socket in: the WebSocket endpoint `/ws/{board}`, its handshake, and the ASGI entry that routes to it.

Origin, board, query and token are checked, and the connection admitted (limits), before accepting; a
refusal is an HTTP status with the contract's JSON error body. Then `SocketConnection` takes over.

`SocketsFirst` is the application uvicorn runs: a socket for `/ws/{board}` goes straight to the endpoint,
everything else to FastAPI. FastAPI's router gives a websocket its whole request machinery (middleware
stack, exception-handler wrappers, an AsyncExitStack per dependency scope, dependency solving), which this
endpoint does not use and which lives as long as the socket: about 10 KiB per idle socket, and with
flag.py a quarter or more of a connect's server CPU (docs/performance.md, "Connections against the floor of
the stack"). Other websocket paths, and any with a root_path, still reach FastAPI's router.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from notesboard.contract.errors import CLOSE_POLICY, Forbidden, NotesError
from notesboard.contract.validate import check_board
from notesboard.core.auth import authorize, origin_allowed
from notesboard.ingress.connection import SocketConnection
from notesboard.ingress.handshake import handshake
from notesboard.ingress.services import Services
from notesboard.runtime.uvicorn_adapter import RAW_SEND_KEY

__all__ = ["SocketsFirst", "websocket_endpoint"]
PREFIX = "/ws/"


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
        services.registry.admit(address)  # counted until the socket ends (released below)
    except NotesError as exc:
        services.error(exc.code)
        await _refuse(websocket, exc)
        return
    # A plain try/finally rather than an ExitStack: this frame lives as long as the socket (issue #25).
    try:
        await SocketConnection(websocket, services, board, query, grant, address).serve()
    finally:
        services.registry.release(address)


class SocketsFirst:
    """ASGI entry: `/ws/{board}` sockets to `websocket_endpoint` directly, everything else to `app`."""

    def __init__(self, app: Any) -> None:
        self.app = app  # the FastAPI app (uvicorn_adapter.find_app walks `.app` down to it)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and not scope.get("root_path"):
            path: str = scope["path"]
            board = path[len(PREFIX) :]
            if path.startswith(PREFIX) and board and "/" not in board:  # what the route `/ws/{board}` matches
                scope["app"] = self.app
                scope["path_params"] = {"board": board}
                scope[RAW_SEND_KEY] = send  # as RawSendMiddleware does on FastAPI's path
                await websocket_endpoint(WebSocket(scope, receive, send), board)
                return
        await self.app(scope, receive, send)
