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


async def test_votes_need_write_and_count_per_token_subject(secure: ServerProcess) -> None:
    board = "retro-votes"
    created = httpx.post(f"{secure.url}/api/boards/{board}/notes", json={"text": "idea"}, headers=bearer("write"))
    note = created.json()["id"]
    url = f"{secure.url}/api/boards/{board}/session"
    assert httpx.put(url, json={"vote": {"open": True, "budget": 1}}, headers=bearer("facilitate")).status_code == 200
    read = httpx.post(
        f"{secure.url}/api/boards/{board}/notes/{note}/votes", json={"delta": 1, "voter": "k"}, headers=bearer("read")
    )
    assert read.status_code == 403 and read.json()["error"]["code"] == "forbidden"
    async with connect(secure, board, token=mint(SECRET, board, "read", 60)) as reader:
        refused = await reader.request({"type": "vote", "id": note, "delta": 1, "client_id": "r1"})
        assert refused["type"] == "error" and refused["code"] == "forbidden"
    # A token with a subject: the subject is the voter, whatever key a socket or body names.
    ann = mint(SECRET, board, "write", 60, subject="ann@example.com")
    async with connect(secure, board, token=ann, key="one") as first:
        assert (await first.request({"type": "vote", "id": note, "delta": 1, "client_id": "a1"}))["type"] == "ack"
    async with connect(secure, board, token=ann, key="two") as second:
        assert second.snapshot["votes"]["mine"] == {str(note): 1} and second.snapshot["votes"]["left"] == 0
        over = await second.request({"type": "vote", "id": note, "delta": 1, "client_id": "a2"})
        assert over["type"] == "error" and over["code"] == "forbidden"
    again = httpx.post(
        f"{secure.url}/api/boards/{board}/notes/{note}/votes",
        json={"delta": 1},
        headers={"Authorization": f"Bearer {ann}"},
    )
    assert again.status_code == 403  # the same budget over REST, no voter key needed
    bob = httpx.post(
        f"{secure.url}/api/boards/{board}/notes/{note}/votes",
        json={"delta": 1},
        headers={"Authorization": f"Bearer {mint(SECRET, board, 'write', 60, subject='bob')}"},
    )
    assert bob.status_code == 200 and bob.json()["votes"] == 2


def test_the_cli_mints_tokens_with_a_subject() -> None:
    r = run_command("token", "retro-*", "--subject", "ann@example.com", env={"NOTESBOARD_AUTH_SECRET": SECRET})
    assert r.returncode == 0, r.stderr
    assert authorize(SECRET, r.stdout.strip(), "retro-3").subject == "ann@example.com"
    bad = run_command("token", "retro-*", "--subject", "x" * 200, env={"NOTESBOARD_AUTH_SECRET": SECRET})
    assert bad.returncode != 0 and "--subject" in bad.stderr
