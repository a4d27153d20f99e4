"""The REST API against a real server: each change is broadcast like a socket change; bad input is a 4xx."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import connect
from tests.support import ServerProcess

SERVER_ENV = {"NOTESBOARD_LIST_BOARDS": "true"}  # test_list_boards_most_recent_first lists every board


def api(server: ServerProcess, path: str) -> str:
    return f"{server.url}/api/boards/{path}"


async def test_healthz(server: ServerProcess) -> None:
    r = httpx.get(f"{server.url}/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


async def test_rest_changes_are_broadcast_to_sockets(server: ServerProcess) -> None:
    async with connect(server, "rest-live") as c:
        r = httpx.post(api(server, "rest-live/notes"), json={"text": "from rest", "author": "cli", "x": 1, "y": 2})
        assert r.status_code == 201
        note = r.json()
        assert note["author"] == "cli" and note["seq"] == 1 and note["version"] == 1
        ev = await c.recv_type("event")
        assert ev == {"type": "event", "op": "created", "seq": 1, "note": note}

        r = httpx.patch(api(server, f"rest-live/notes/{note['id']}"), json={"text": "patched", "color": "#ff0000"})
        assert r.status_code == 200 and r.json()["text"] == "patched" and r.json()["version"] == 2
        ev = await c.recv_type("event")
        assert ev["op"] == "updated" and ev["note"] == r.json()

        r = httpx.delete(api(server, f"rest-live/notes/{note['id']}"), params={"version": 2})
        assert r.status_code == 200 and r.json()["deleted"] is True and r.json()["seq"] == 3
        ev = await c.recv_type("event")
        assert ev["op"] == "deleted" and ev["seq"] == 3


async def test_rest_idempotent_create_returns_200_and_broadcasts_nothing(server: ServerProcess) -> None:
    async with connect(server, "rest-idem") as c:
        first = httpx.post(api(server, "rest-idem/notes"), json={"text": "one", "client_id": "rest-1"})
        again = httpx.post(api(server, "rest-idem/notes"), json={"text": "two", "client_id": "rest-1"})
        assert first.status_code == 201 and again.status_code == 200 and again.json() == first.json()
        await c.recv_type("event")
        with pytest.raises(TimeoutError):
            await c.recv_type("event", timeout=0.5)


def test_rest_conflict_and_not_found(server: ServerProcess) -> None:
    note = httpx.post(api(server, "rest-err/notes"), json={"text": "a"}).json()
    r = httpx.patch(api(server, f"rest-err/notes/{note['id']}"), json={"text": "b", "version": 7})
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    r = httpx.delete(api(server, f"rest-err/notes/{note['id']}"), params={"version": 7})
    assert r.status_code == 409
    r = httpx.patch(api(server, "rest-err/notes/424242"), json={"text": "b"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = httpx.patch(api(server, f"other-board/notes/{note['id']}"), json={"text": "b"})
    assert r.status_code == 404
    assert httpx.delete(api(server, f"rest-err/notes/{note['id']}")).status_code == 200
    assert httpx.delete(api(server, f"rest-err/notes/{note['id']}")).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "b/notes", b"not json", 400, "bad_request"),
        ("POST", "b/notes", b"", 400, "bad_request"),
        ("POST", "b/notes", b"[]", 400, "bad_request"),
        ("POST", "b/notes", b'{"text": 1}', 400, "bad_request"),
        ("POST", "b/notes", b'{"color": "#fff"}', 400, "bad_request"),
        ("POST", "b/notes", b'{"text": "a", "x": NaN}', 400, "bad_request"),
        ("POST", "b/notes", b'{"text": "a", "x": 1e400}', 400, "bad_request"),
        ("POST", "b/notes", b'{"text": "a", "author": 5}', 400, "bad_request"),
        ("POST", "b/notes", b'{"text": "' + b"y" * 10_001 + b'"}', 413, "too_large"),
        ("POST", "b/notes", b'{"text": "' + b"y" * 300_000 + b'"}', 413, "too_large"),
        ("POST", "-bad/notes", b'{"text": "a"}', 400, "bad_request"),
        ("PATCH", "b/notes/abc", b'{"text": "a"}', 400, "bad_request"),
        ("PATCH", "b/notes/0", b'{"text": "a"}', 400, "bad_request"),
        ("PATCH", "b/notes/1", b'{"text": null}', 400, "bad_request"),
        ("PATCH", "b/notes/1", b"{}", 400, "bad_request"),
        ("DELETE", "b/notes/-1", b"", 400, "bad_request"),
        ("GET", "b/notes?since=-1", b"", 400, "bad_request"),
        ("GET", "b/notes?since=1.5", b"", 400, "bad_request"),
        ("GET", "b/notes?limit=0", b"", 400, "bad_request"),
        ("GET", "b/notes?limit=10001", b"", 400, "bad_request"),
        ("GET", "?limit=x", b"", 400, "bad_request"),
        ("PUT", "b/notes", b"{}", 405, "bad_request"),
    ],
)
def test_rest_bad_input_is_a_4xx_json_error(
    server: ServerProcess, method: str, path: str, body: bytes, status: int, code: str
) -> None:
    url = f"{server.url}/api/boards" + ("" if path.startswith("?") else "/") + path
    r = httpx.request(method, url, content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code and r.json()["error"]["message"]


def test_list_boards_most_recent_first(server: ServerProcess) -> None:
    for board in ("list-a", "list-b", "list-a"):
        httpx.post(api(server, f"{board}/notes"), json={"text": "n"}).raise_for_status()
    boards = httpx.get(f"{server.url}/api/boards").json()
    mine = [b for b in boards if b["board"].startswith("list-")]
    assert mine[:2] == [{"board": "list-a", "notes": 2, "seq": 2}, {"board": "list-b", "notes": 1, "seq": 1}]
    assert len(httpx.get(f"{server.url}/api/boards", params={"limit": 1}).json()) == 1


def test_unknown_board_reads_empty(server: ServerProcess) -> None:
    r = httpx.get(api(server, "never-touched/notes"))
    assert r.status_code == 200
    body = r.json()
    assert body["seq"] == 0 and body["notes"] == [] and body["more"] is False and body["epoch"]


def test_notes_paging_with_since_and_limit(server: ServerProcess) -> None:
    ids = [httpx.post(api(server, "paging/notes"), json={"text": str(i)}).json()["id"] for i in range(5)]
    httpx.delete(api(server, f"paging/notes/{ids[0]}")).raise_for_status()
    page = httpx.get(api(server, "paging/notes"), params={"limit": 2}).json()
    assert [n["text"] for n in page["notes"]] == ["3", "4"] and page["more"] is True
    page = httpx.get(api(server, "paging/notes"), params={"since": 0, "limit": 4}).json()
    assert [n["seq"] for n in page["notes"]] == [2, 3, 4, 5] and page["more"] is True
    page = httpx.get(api(server, "paging/notes"), params={"since": 5, "limit": 4}).json()
    assert [(n["seq"], n["deleted"]) for n in page["notes"]] == [(6, True)] and page["more"] is False


def test_pages_are_served(server: ServerProcess) -> None:
    assert httpx.get(f"{server.url}/").status_code == 200
    r = httpx.get(f"{server.url}/b/some-board")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert httpx.get(f"{server.url}/b/bad.name").status_code == 404
    assert httpx.get(f"{server.url}/static/index.html").status_code == 200
    assert httpx.get(f"{server.url}/static/../pyproject.toml").status_code == 404
