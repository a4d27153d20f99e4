"""Issue #23 with auth on: only a `facilitate` token changes the board session; it also writes notes; a read
token reads the session; `notesboard token --role facilitate` mints one."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from notesboard.core.auth import authorize, mint
from tests.helpers import connect
from tests.support import ServerProcess, sqlite_url
from tests.support.cli import run as run_command

SECRET = "test-secret-of-sufficient-length-for-hs256"


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("secure-session")
    srv = ServerProcess(sqlite_url(tmp / "notes.db"), tmp / "server.log", env={"NOTESBOARD_AUTH_SECRET": SECRET})
    srv.start()
    yield srv
    srv.stop()


def bearer(role: str, board: str = "retro-*") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(SECRET, board, role, 60)}"}  # type: ignore[arg-type]


def test_only_a_facilitate_token_changes_the_session(secure: ServerProcess) -> None:
    url = f"{secure.url}/api/boards/retro-1/session"
    body = {"vote": {"open": True}, "version": 0}
    assert httpx.put(url, json=body).status_code == 401
    for role in ("read", "write"):
        r = httpx.put(url, json=body, headers=bearer(role))
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", r.text
    assert httpx.put(url, json=body, headers=bearer("facilitate", "other-*")).status_code == 403
    r = httpx.put(url, json=body, headers=bearer("facilitate"))
    assert r.status_code == 200 and r.json()["version"] == 1
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers=bearer("read")).json() == r.json()


async def test_a_facilitate_token_also_writes_notes(secure: ServerProcess) -> None:
    created = httpx.post(f"{secure.url}/api/boards/retro-2/notes", json={"text": "hi"}, headers=bearer("facilitate"))
    assert created.status_code == 201
    async with connect(secure, "retro-2", token=mint(SECRET, "retro-2", "facilitate", 60)) as c:
        ack = await c.request({"type": "create", "text": "by socket", "client_id": "f1"})
        assert ack["type"] == "ack"


def test_the_cli_mints_facilitate_tokens() -> None:
    r = run_command("token", "retro-*", "--role", "facilitate", env={"NOTESBOARD_AUTH_SECRET": SECRET})
    assert r.returncode == 0, r.stderr
    grant = authorize(SECRET, r.stdout.strip(), "retro-3")
    assert grant.role == "facilitate" and grant.can_write() and grant.can_facilitate()
    bad = run_command("token", "retro-*", "--role", "admin", env={"NOTESBOARD_AUTH_SECRET": SECRET})
    assert bad.returncode != 0 and "read, write or facilitate" in bad.stderr
