"""One rule per input on every transport: a display name is the socket's `name=` and a REST note's `author`."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import websockets

from tests.helpers import ServerProcess, connect

GOOD = ["Ann", "x" * 64, "Zoë 🙂"]
BAD = ["x" * 65, "nul\x00byte", "\x1b[2Jclear", "two\nlines", "\x7fdel"]


def handshake_status(server: ServerProcess, name: str) -> tuple[int, str]:
    async def attempt() -> tuple[int, str]:
        try:
            async with websockets.connect(server.ws_url("names", name=name), open_timeout=5):
                return 101, ""
        except websockets.InvalidStatus as exc:
            return exc.response.status_code, exc.response.body.decode() if exc.response.body else ""

    return asyncio.run(attempt())


@pytest.mark.parametrize("name", BAD)
def test_bad_names_are_refused_on_both_transports(server: ServerProcess, name: str) -> None:
    r = httpx.post(f"{server.url}/api/boards/names/notes", json={"text": "t", "author": name})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "bad_request" and "printable" in r.json()["error"]["message"]
    status, body = handshake_status(server, name)
    assert status == 400 and "printable" in body
    notes = httpx.get(f"{server.url}/api/boards/names/notes").json()["notes"]
    assert all(n["author"] != name for n in notes)  # nothing stored


@pytest.mark.parametrize("name", BAD)
def test_bad_names_are_refused_on_every_rest_write(server: ServerProcess, name: str) -> None:
    api = f"{server.url}/api/boards/names-w/notes"
    note = httpx.post(api, json={"text": "t"}).json()
    for r in (
        httpx.patch(f"{api}/{note['id']}", json={"text": "u", "author": name}),  # who changed it
        httpx.delete(f"{api}/{note['id']}", params={"author": name}),
    ):
        assert r.status_code == 400 and "printable" in r.json()["error"]["message"], r.text
    now = next(n for n in httpx.get(api, params={"limit": 1000}).json()["notes"] if n["id"] == note["id"])
    assert now["version"] == note["version"] and not now["deleted"]  # neither went through


@pytest.mark.parametrize("name", GOOD)
async def test_good_names_are_stored_alike_on_both_transports(server: ServerProcess, name: str) -> None:
    r = httpx.post(f"{server.url}/api/boards/names-ok/notes", json={"text": "rest", "author": name})
    assert r.status_code == 201 and r.json()["author"] == name
    async with connect(server, "names-ok", name=name) as c:
        cid = f"n{GOOD.index(name)}"  # client_ids are deduplicated per board: one per case
        ack = await c.request({"type": "create", "text": "socket", "client_id": cid})
        assert ack["type"] == "ack" and ack["note"]["author"] == name
