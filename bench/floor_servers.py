"""The least a Python WebSocket server can do per connection, to measure notesboard's connects against.

    python bench/floor_servers.py websockets --port 8101   # websockets' own asyncio server, no ASGI
    python bench/floor_servers.py uvicorn --port 8102      # uvicorn (the stack notesboard serves on), bare ASGI

Each accepts any path, sends one ~100-byte text frame (the size of an empty board's snapshot) and keeps the
socket open until the client closes it; `GET /healthz` answers 200 so `ServerProcess` can wait for it.
uvicorn runs with what `notesboard serve` uses: uvloop, httptools, the websockets-sansio protocol, no
access log. Nothing is stored and nothing is checked: a floor, not a competitor (bench/connect_ceiling.py).
"""

from __future__ import annotations

import argparse
from http import HTTPStatus
from typing import Any

FRAME = '{"type":"snapshot","board":"b","seq":0,"epoch":"00000000000000000000000000000000","notes":[]}'


def serve_websockets(port: int) -> None:
    import uvloop
    from websockets.asyncio.server import ServerConnection, serve
    from websockets.http11 import Request, Response

    def health(conn: ServerConnection, request: Request) -> Response | None:
        if request.path == "/healthz":
            return conn.respond(HTTPStatus.OK, "ok\n")
        return None

    async def handler(ws: ServerConnection) -> None:
        await ws.send(FRAME)
        await ws.wait_closed()

    async def main() -> None:
        async with serve(handler, "127.0.0.1", port, process_request=health, compression=None) as server:
            await server.serve_forever()

    uvloop.run(main())


async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
    elif scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok\n"})
    else:
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": FRAME})
        while (await receive())["type"] != "websocket.disconnect":
            pass


def serve_uvicorn(port: int) -> None:
    import uvicorn

    uvicorn.run(
        asgi, host="127.0.0.1", port=port, loop="uvloop", http="httptools", ws="websockets-sansio",
        log_level="warning", access_log=False, lifespan="on", ws_per_message_deflate=False,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["websockets", "uvicorn"], help="which floor server to run")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: the kernel picks)")
    args = parser.parse_args()
    (serve_websockets if args.kind == "websockets" else serve_uvicorn)(args.port)


if __name__ == "__main__":
    main()
