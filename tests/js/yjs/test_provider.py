"""The stock `WebsocketProvider` of the npm package y-websocket (in node, tests/js/yjs/provider.mjs) and
the Python `TextEditor` edit one note on a real server and converge; REST shows the merged text.

The npm packages come from package-lock.json (`npm ci` into tests/js/yjs/node_modules, git-ignored); the
test skips when node or npm is missing or the packages cannot be installed (offline). `make run` never
needs node: this is a test of the protocol, not part of the server."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from notesboard.client.ytext import TextEditor
from tests.support import ServerProcess

HERE = Path(__file__).parent
pytestmark = pytest.mark.parametrize("fresh_server", ["sqlite"], indirect=True)


def _installed() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node and npm are needed for the y-websocket interop test")
    lock = json.loads((HERE / "package-lock.json").read_text())
    wanted = lock["packages"]["node_modules/y-websocket"]["version"]
    installed = HERE / "node_modules" / "y-websocket" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != wanted:
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, capture_output=True, text=True, timeout=180, check=False
        )
        if proc.returncode != 0:
            pytest.skip(f"npm ci failed (offline?): {proc.stderr[-500:]}")
    return node


async def test_the_stock_websocket_provider_edits_a_note(fresh_server: ServerProcess) -> None:
    node = _installed()
    server = fresh_server.start()
    r = httpx.post(f"{server.url}/api/boards/yjs-node/notes", json={"text": "shared"})
    nid = int(r.json()["id"])
    base = server.url.replace("http://", "ws://")
    async with await TextEditor.open(server.url, "yjs-node", nid) as py:
        proc = await asyncio.create_subprocess_exec(
            node, str(HERE / "provider.mjs"), base, "yjs-node", str(nid),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        await py.wait_text(lambda t: t == "node:shared", timeout=20)
        py.insert(len(str(py)), " py!")
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err.decode()[-2000:]
        result = json.loads(out.decode().strip().splitlines()[-1])
        assert result == {"synced": "shared", "final": "node:shared py!"}
        assert str(py) == "node:shared py!"
    for _ in range(100):
        (note,) = httpx.get(f"{server.url}/api/boards/yjs-node/notes").json()["notes"]
        if note["text"] == "node:shared py!":
            break
        await asyncio.sleep(0.05)
    assert note["text"] == "node:shared py!"
