"""Issue #23 across two server processes (Redis, and Postgres NOTIFY): session frames, hidden votes and private
notes are rendered per reader on the process that delivers them; a voter's (or writer's) socket on the other
process sees their vote (or text), everyone else there sees only its seq (or where the note is)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.cluster import Cluster
from tests.helpers import connect


@pytest.fixture(scope="module", params=["redis", "notify"])
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(request.param, tmp_path_factory.mktemp("vote-cluster"))
    try:
        yield c.start()
    finally:
        c.close()


async def test_hidden_votes_and_the_close_cross_processes_rendered_per_reader(cluster: Cluster) -> None:
    s0, s1 = cluster.servers
    board = "vc-hidden"
    note = httpx.post(f"{s0.url}/api/boards/{board}/notes", json={"text": "idea"}).json()["id"]
    async with (
        connect(s0, board, key="ann") as ann,
        connect(s1, board, key="ann") as ann_elsewhere,
        connect(s1, board, key="bob") as bob,
    ):
        r = httpx.put(f"{s1.url}/api/boards/{board}/session", json={"vote": {"open": True, "hidden": True}})
        assert r.status_code == 200
        for c in (ann, ann_elsewhere, bob):
            assert (await c.recv_type("session"))["session"] == r.json()
        ack = await ann.request({"type": "vote", "id": note, "delta": 1, "client_id": "v1"})
        assert ack["type"] == "ack", ack
        mine = await ann_elsewhere.recv_type("vote")
        assert mine == {"type": "vote", "seq": ack["seq"], "id": note, "delta": 1, "mine": 1, "left": 2}
        assert await bob.recv_type("vote") == {"type": "vote", "seq": ack["seq"], "hidden": True}
        closed = httpx.put(f"{s0.url}/api/boards/{board}/session", json={"vote": {"open": False, "hidden": True}})
        frame = await bob.recv_type("session")
        assert frame["session"] == closed.json() and frame["votes"] == {str(note): 1}
        # The seqs stayed gapless on the other process: no resume was needed.
        assert bob.tracker.seq == frame["seq"] and not any(v.value == "gap" for _, v in bob.verdicts)


async def test_private_texts_cross_processes_to_their_writer_only(cluster: Cluster) -> None:
    s0, s1 = cluster.servers
    board = "vc-private"
    secret = "cluster-secret-7"
    async with (
        connect(s0, board, key="ann") as ann,
        connect(s1, board, key="ann") as ann_elsewhere,
        connect(s1, board, key="bob") as bob,
    ):
        assert httpx.put(f"{s1.url}/api/boards/{board}/session", json={"writing": "private"}).status_code == 200
        ack = await ann.request({"type": "create", "text": secret, "client_id": "p1"})
        note = ack["note"]["id"]
        mine = await ann_elsewhere.recv_until(lambda f: f["type"] == "event" and f["note"]["id"] == note)
        assert mine["note"]["text"] == secret
        theirs = await bob.recv_until(lambda f: f["type"] == "event" and f["note"]["id"] == note)
        assert theirs["note"]["text"] == "" and theirs["note"]["hidden"] is True
        assert httpx.put(f"{s0.url}/api/boards/{board}/session", json={"writing": "open"}).status_code == 200
        revealed = await bob.recv_until(lambda f: f["type"] == "event" and f["note"]["version"] == 2)
        assert revealed["note"]["text"] == secret and not any(v.value == "gap" for _, v in bob.verdicts)
    assert secret not in s1.log() and secret not in s0.log()
