"""The baseline: the pattern from the FastAPI WebSocket and `databases` tutorials, speaking notesboard frames.

A list of sockets per board; each create is `await database.execute(...)` (default SQLite settings, one
statement at a time) and then `for ws in connections: await ws.send_text(...)` in the sender's own handler.
It speaks the contract's snapshot/create/ack/event/pong frames well enough for `notesboard loadtest` to run
against it; there is no resume, presence, batching, idempotency or slow-consumer handling. It is kept this
simple on purpose: it is what the benchmarks compare notesboard with.

    python bench/baseline_tutorial.py --port 8001 --db /tmp/baseline.db
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import uvicorn
from databases import Database
from fastapi import FastAPI, WebSocket, WebSocketDisconnect

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS boards (board TEXT PRIMARY KEY, seq INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY AUTOINCREMENT, board TEXT NOT NULL, text TEXT NOT NULL,"
    " author TEXT, seq INTEGER NOT NULL, created_at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS notes_board ON notes (board, seq)",
)
EPOCH = "baseline"


def create_app(db_path: str) -> FastAPI:
    database = Database(f"sqlite+aiosqlite:///{db_path}")
    connections: dict[str, list[WebSocket]] = defaultdict(list)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await database.connect()
        for statement in SCHEMA:
            await database.execute(statement)
        yield
        await database.disconnect()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    def note_of(row: Any) -> dict[str, Any]:
        return {
            "id": row["id"],
            "board": row["board"],
            "text": row["text"],
            "author": row["author"],
            "color": None,
            "x": None,
            "y": None,
            "version": 1,
            "seq": row["seq"],
            "created_at": row["created_at"],
            "updated_at": row["created_at"],
            "deleted": False,
        }

    @app.websocket("/ws/{board}")
    async def board_socket(websocket: WebSocket, board: str) -> None:
        await websocket.accept()
        since = websocket.query_params.get("since")
        name = websocket.query_params.get("name") or None
        query = "SELECT * FROM notes WHERE board = :board"
        values: dict[str, Any] = {"board": board}
        if since is not None and since.isdigit():
            query += " AND seq > :since"
            values["since"] = int(since)
        rows = await database.fetch_all(query + " ORDER BY seq", values)
        seq = await database.fetch_val("SELECT seq FROM boards WHERE board = :board", {"board": board}) or 0
        connections[board].append(websocket)
        snapshot = {
            "type": "snapshot",
            "board": board,
            "epoch": EPOCH,
            "seq": seq,
            "notes": [note_of(r) for r in rows],
            "presence": len(connections[board]),
            "reset": False,
        }
        await websocket.send_text(json.dumps(snapshot))
        try:
            while True:
                data = json.loads(await websocket.receive_text())
                if data.get("type") == "ping":
                    await websocket.send_text('{"type":"pong"}')
                    continue
                if data.get("type") != "create" or not isinstance(data.get("text"), str):
                    error = {"type": "error", "code": "bad_request", "message": "unsupported frame"}
                    await websocket.send_text(json.dumps({**error, "client_id": data.get("client_id")}))
                    continue
                now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
                await database.execute(
                    "INSERT INTO boards (board, seq) VALUES (:board, 0) ON CONFLICT (board) DO NOTHING",
                    {"board": board},
                )
                seq = await database.fetch_val(
                    "UPDATE boards SET seq = seq + 1 WHERE board = :board RETURNING seq", {"board": board}
                )
                note_id = await database.execute(
                    "INSERT INTO notes (board, text, author, seq, created_at)"
                    " VALUES (:board, :text, :author, :seq, :now)",
                    {"board": board, "text": data["text"], "author": name, "seq": seq, "now": now},
                )
                note = note_of(
                    {"id": note_id, "board": board, "text": data["text"], "author": name, "seq": seq, "created_at": now}
                )
                ack = {"type": "ack", "client_id": data.get("client_id"), "seq": seq, "note": note}
                await websocket.send_text(json.dumps(ack))
                event = json.dumps({"type": "event", "op": "created", "seq": seq, "note": note})
                for connection in connections[board]:
                    await connection.send_text(event)
        except WebSocketDisconnect:
            pass
        finally:
            if websocket in connections[board]:
                connections[board].remove(websocket)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="The tutorial-pattern baseline server for notesboard's benchmarks.")
    parser.add_argument("--host", default="127.0.0.1", help="Address to bind (default: 127.0.0.1).")
    parser.add_argument("--port", type=int, default=8001, help="TCP port to listen on (default: 8001).")
    parser.add_argument("--db", default="baseline.db", help="SQLite file to store the notes in.")
    args = parser.parse_args()
    uvicorn.run(create_app(args.db), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
