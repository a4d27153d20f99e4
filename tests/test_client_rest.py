"""client.Rest and client.AsyncRest against a real server (the same error types as the socket client), and
the main example of docs/client.md run as a script, so the doc cannot rot."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from notesboard.client import AsyncRest, BadRequest, Conflict, Forbidden, NotFound, Rest, Unavailable
from notesboard.core.auth import mint
from tests.support import ROOT, ServerProcess

pytestmark = pytest.mark.parametrize("fresh_server", ["sqlite"], indirect=True)


def test_rest_round_trip_and_typed_errors(fresh_server: ServerProcess) -> None:
    server = fresh_server.start()
    with Rest(server.url) as api:
        note = api.create("rest", "hello", color="#ffeb3b", client_id="r-1")
        assert note["text"] == "hello" and note["seq"] == 1
        assert api.create("rest", "hello", client_id="r-1")["id"] == note["id"]  # idempotent
        edited = api.update("rest", note["id"], text="edited", version=1)
        assert edited["version"] == 2
        with pytest.raises(Conflict) as conflict:
            api.update("rest", note["id"], text="stale", version=1)
        assert conflict.value.status == 409 and "version" in conflict.value.message
        with pytest.raises(NotFound):
            api.delete("rest", 999_999)
        with pytest.raises(BadRequest) as bad:
            api.create("bad.board", "x")
        assert bad.value.status == 400 and "board" in bad.value.message
        page = api.notes("rest")
        assert [n["text"] for n in page["notes"]] == ["edited"] and page["seq"] == 2
        exported = api.export("rest")
        assert "edited" in exported and "edited" in api.export("rest", "md")
        done = api.import_board("copy", json.loads(exported))
        assert done["created"] == 1 and api.import_board("copy", json.loads(exported))["created"] == 0
        assert api.delete("rest", note["id"], version=2)["deleted"] is True
        assert api.notes("rest", since=0)["notes"][0]["deleted"] is True  # the tombstone, with since
        assert api.delete_board("copy")["deleted"] == 1 and api.notes("copy")["notes"] == []
    with Rest("http://127.0.0.1:9") as nowhere, pytest.raises(Unavailable) as down:
        nowhere.notes("rest")
    assert "cannot reach" in down.value.message


async def test_async_rest_and_auth_errors(fresh_server: ServerProcess) -> None:
    fresh_server.env["NOTESBOARD_AUTH_SECRET"] = "rest-tests-secret-of-32-bytes-or-more"
    server = fresh_server.start()
    async with AsyncRest(server.url) as anonymous:
        with pytest.raises(Forbidden) as refused:
            await anonymous.create("locked", "x")
        assert refused.value.status == 401 and "token" in refused.value.message
    token = mint("rest-tests-secret-of-32-bytes-or-more", "locked", "write", 60)
    async with AsyncRest(server.url, token=token) as api:
        note = await api.create("locked", "with a token")
        assert (await api.notes("locked"))["notes"] == [note]
        with pytest.raises(Forbidden) as other:
            await api.create("other", "x")
        assert other.value.status == 403


def test_the_main_example_of_docs_client_md_runs(fresh_server: ServerProcess) -> None:
    server = fresh_server.start()
    doc = (ROOT / "docs" / "client.md").read_text()
    code = re.search(r"```python\n(.*?)```", doc, re.S)
    assert code is not None and "client.connect" in code.group(1)
    env = {**os.environ, "NOTESBOARD_URL": server.url}
    r = subprocess.run([sys.executable, "-c", code.group(1)], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("conflict: ") and lines[1].startswith("live notes: 0 seq: 3 epoch: ")
    assert lines[2:] == ["1 created Ship it", "2 updated Shipped", "3 deleted Shipped"]
