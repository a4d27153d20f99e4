"""Awareness across two server processes on Redis and on Postgres NOTIFY (issue #21): real servers, real brokers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cluster import PRESENCE_TTL, Cluster
from tests.helpers import Client, connect
from tests.support import ServerProcess
from tests.test_awareness import entry, is_aware, peer_of, until_state


@pytest.fixture(scope="module", params=["redis", "notify"])
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(request.param, tmp_path_factory.mktemp("aware-cluster"))
    try:
        yield c.start()
    finally:
        c.close()


async def test_peers_on_the_other_process_are_seen(cluster: Cluster) -> None:
    s0, s1 = cluster.servers
    async with connect(s0, "awc-see", name="a") as a:
        await a.recv_until(is_aware)
        async with connect(s1, "awc-see", name="b") as b:
            bob = await peer_of(a, "b")  # joined on the other process
            alice = await peer_of(b, "a")  # the newcomer's process asked for the board's full state
            note = httpx.post(f"{s0.url}/api/boards/awc-see/notes", json={"text": "n"}).json()["id"]
            started = time.monotonic()
            await b.send({"type": "awareness", "cursor": {"x": 10, "y": 20}, "editing": note})
            seen = await until_state(a, bob, "cursor", {"x": 10, "y": 20})
            assert time.monotonic() - started < 1.0  # two ticks plus the broker's delay, with room to spare
            assert (entry(seen, bob) or {})["editing"] == note  # the editing check read the shared database
            await a.send({"type": "awareness", "selected": [note]})
            await until_state(b, alice, "selected", [note])
            colours = {(entry(seen, bob) or {})["color"]}
            full = [f for f in b._pending if is_aware(f)]
            assert all(p["peer"] != bob for f in full for p in f["peers"])  # no own echo across processes
        gone = await a.recv_until(lambda f: is_aware(f) and bob in f["gone"], timeout=2.0)
        assert entry(gone, bob) is None and colours


@pytest.fixture
def redis_cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster("redis", tmp_path)
    try:
        yield c.start()
    finally:
        c.close()


async def test_a_crashed_process_peers_are_gone_within_presence_ttl(redis_cluster: Cluster) -> None:
    s0, s1 = redis_cluster.servers
    async with connect(s0, "awc-kill", name="a") as a:
        b = await Client.open(s1.url, "awc-kill", name="b")
        bob = await peer_of(a, "b")
        await b.send({"type": "awareness", "cursor": {"x": 1, "y": 2}})
        await until_state(a, bob, "cursor", {"x": 1, "y": 2})
        s1.kill()  # SIGKILL: no goodbye, no gone; only the TTL tells
        killed = time.monotonic()
        await a.recv_until(lambda f: is_aware(f) and bob in f["gone"], timeout=PRESENCE_TTL + 3)
        assert time.monotonic() - killed <= PRESENCE_TTL + 1.5  # the TTL plus one sweep (0.5 s) and a tick
        try:
            await b.close()
        except Exception:  # noqa: BLE001 - its server is gone
            pass


async def test_an_entry_too_big_for_the_broker_is_not_sent_across(cluster: Cluster) -> None:
    """A selection of 1000 long ids (~19 KB) fits Redis but not a Postgres NOTIFY payload (8000 bytes)."""
    s0, s1 = cluster.servers
    async with connect(s0, "awc-big", name="a") as a, connect(s1, "awc-big", name="b") as b:
        bob = await peer_of(a, "b")
        big = [10**17 + i for i in range(1000)]
        await b.send({"type": "awareness", "selected": big, "cursor": {"x": 1, "y": 1}})
        if cluster.kind == "redis":
            await until_state(a, bob, "selected", big)
        else:
            await b.ping()
            await wait_metric(s1, 'notesboard_awareness_dropped_total{reason="broker_payload"}', 1)
        await asyncio.sleep(0.06)
        await b.send({"type": "awareness", "selected": [], "cursor": {"x": 2, "y": 2}})  # small again: relayed
        seen = await until_state(a, bob, "cursor", {"x": 2, "y": 2})
        assert (entry(seen, bob) or {})["selected"] == []
        if cluster.kind != "redis":  # the big state never arrived on the other process
            assert all((entry(f, bob) or {}).get("selected") != big for f in a._pending if is_aware(f))


async def wait_metric(server: ServerProcess, series: str, at_least: float, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        text = httpx.get(f"{server.url}/metrics").text
        value = next((float(line.split()[-1]) for line in text.splitlines() if line.startswith(series)), 0.0)
        if value >= at_least:
            return
        assert time.monotonic() < deadline, f"{series} stayed at {value}"
        await asyncio.sleep(0.05)
