"""Two server processes on one Postgres database, with Redis pub/sub and with Postgres LISTEN/NOTIFY:
editors of one note on different processes converge, and v1 edits on either reach both."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from notesboard.client.ytext import TextEditor
from tests.cluster import Cluster


@pytest.fixture(scope="module", params=["redis", "notify"])
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(request.param, tmp_path_factory.mktemp("ycluster"))
    try:
        yield c.start()
    finally:
        c.close()


async def test_editors_on_two_processes_converge(cluster: Cluster) -> None:
    a_srv, b_srv = cluster.servers
    r = httpx.post(f"{a_srv.url}/api/boards/crdt-cluster/notes", json={"text": "mid"})
    nid = int(r.json()["id"])
    async with (
        await TextEditor.open(a_srv.url, "crdt-cluster", nid, client_id=1) as a,
        await TextEditor.open(b_srv.url, "crdt-cluster", nid, client_id=2) as b,
    ):
        for i in range(15):  # both type at once, each on its own process
            a.insert(0, "abcde"[i % 5])
            b.insert(len(str(b)), "12345"[i % 5])
            await asyncio.sleep(0.01)
        want = "".join("abcde"[i % 5] for i in reversed(range(15))) + "mid" + "123451234512345"
        assert await a.wait_text(lambda t: t == want) == await b.wait_text(lambda t: t == want)
        # A v1 edit on either process merges into both editors.
        r = httpx.patch(f"{b_srv.url}/api/boards/crdt-cluster/notes/{nid}", json={"text": want.replace("mid", "MID")})
        assert r.status_code == 200, r.text
        want = want.replace("mid", "MID")
        assert await a.wait_text(lambda t: t == want) == await b.wait_text(lambda t: t == want)
    for srv in cluster.servers:
        (note,) = httpx.get(f"{srv.url}/api/boards/crdt-cluster/notes").json()["notes"]
        assert note["text"] == want
