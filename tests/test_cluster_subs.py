"""Per-board subscriptions: a process listens to the broker only for boards with connections on it.

Two real processes on a fresh Postgres database, on Redis pub/sub and on Postgres LISTEN/NOTIFY. What a process
got from the broker is read from its /metrics (`notesboard_broker_messages_received_total`, and
`notesboard_broker_channels`). Clients are the strict watchers of test_scaleout.py: each event must be the next
seq, through moves between processes and broker faults.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from notesboard.cluster.wire import Channels
from tests.cluster import Cluster, Watcher, drop_broker_connections, start_nginx, write
from tests.helpers import ServerProcess

GRACE = 1.0


@pytest.fixture(params=["redis", "notify"])
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    # Heartbeats only every 10 s: presence seen sooner comes from the others answering a new subscriber's query.
    env = {"NOTESBOARD_SUBSCRIBE_GRACE": str(GRACE), "NOTESBOARD_PRESENCE_TTL": "30"}
    c = Cluster(request.param, tmp_path, env=env)
    try:
        yield c.start()
    finally:
        c.close()


def metric(server: ServerProcess, name: str) -> float:
    for line in httpx.get(f"{server.url}/metrics", timeout=5).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def received(server: ServerProcess) -> float:
    return metric(server, "notesboard_broker_messages_received_total")


def channels(server: ServerProcess) -> float:
    return metric(server, "notesboard_broker_channels")


async def until(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def test_a_process_gets_only_the_boards_it_serves(cluster: Cluster) -> None:
    a, b = cluster.servers
    ann = await Watcher([a], "solo", name="ann").connect()
    await until(lambda: channels(a) == 2, 5, "a listens to the control channel and the board's")
    assert channels(b) == 1
    before = received(b)
    await write(a, "solo", "only-a", 60)
    await ann.until_seq(60)
    assert received(b) == before  # nothing of "solo" reached b: no events, no presence
    assert received(a) > 0

    # A client on b joins later: every event from its snapshot on, and presence of both processes soon.
    joined = time.monotonic()
    bob = await Watcher([b], "solo", name="bob").connect()
    assert bob.seq == 60
    await bob.read_until(lambda w: w.presence is not None and w.presence["count"] == 2, timeout=5)
    assert time.monotonic() - joined < 1.5, "presence of the other process took too long"
    assert bob.presence is not None and bob.presence["names"] == ["ann", "bob"]
    await asyncio.gather(write(a, "solo", "a-later", 40, gap=0.002), write(b, "solo", "b-later", 40, gap=0.002))
    await asyncio.gather(ann.until_seq(140), bob.until_seq(140))
    assert ann.events == list(range(1, 141)) and bob.events == list(range(61, 141))
    assert not ann.closes and not bob.closes

    # Its last client gone, b stops listening after the grace period, and gets nothing of the board again.
    await bob.close()
    await until(lambda: channels(b) == 1, GRACE + 5, "b still subscribed after the grace period")
    settled = received(b)
    await write(a, "solo", "after", 30)
    await ann.until_seq(170)
    assert received(b) == settled
    # The writer's socket has left a too: ann alone, and b's withdrawn count is not counted any more.
    await ann.read_until(lambda w: w.presence is not None and w.presence["count"] == 1, timeout=5)
    await ann.close()


async def test_clients_moving_between_processes_under_writes_see_every_event_once_in_order(cluster: Cluster) -> None:
    """Movers go a -> b -> a while b writes; a's subscription ends (grace) and starts again while events flow."""
    a, b = cluster.servers
    total = 600
    movers = [Watcher([a, b], "moving", name=f"m{i}") for i in range(3)]
    # Every mover is on a before the first write, so each must see all of seq 1..total as events or in its
    # resume snapshots (a mover that connected after seq 1 would get it in its first, fresh, snapshot).
    await asyncio.gather(*(w.connect() for w in movers))
    writing = asyncio.ensure_future(write(b, "moving", "w", total, window=4, gap=0.01))

    async def move(w: Watcher, dwell: float) -> None:
        for _ in range(2):  # a -> b -> a
            await w.read_until(lambda w: w.seq > 0, timeout=10)
            await asyncio.sleep(dwell)
            await w.close()
            w.index += 1
            await w.connect()
        await w.until_seq(total, timeout=60)

    # One mover stays away from a longer than the grace period, so a resubscribes while b writes.
    await asyncio.gather(*(move(w, d) for w, d in zip(movers, (0.05, 0.4, GRACE + 1.0), strict=True)))
    acked = await writing
    assert sorted(acked) == list(range(1, total + 1))
    for w in movers:
        assert w.received == list(range(1, total + 1)), f"{w.name}: lost, repeated or out of order"
        assert w.index % 2 == 0  # back on a
        await w.close()
    assert "broker connection lost" not in a.log()


async def test_killed_broker_connections_resubscribe_every_board_and_repair(cluster: Cluster) -> None:
    a, b = cluster.servers
    boards = [f"k{i}" for i in range(4)]
    watchers = [await Watcher([b], board).connect() for board in boards]
    live = 1 + len({Channels("x", 256 if cluster.kind == "notify" else None).of(board) for board in boards})
    await until(lambda: channels(b) == live, 5, "b subscribed")
    epoch = watchers[0].epoch
    assert epoch is not None
    writing = asyncio.gather(*(write(a, board, f"x{board}", 150, window=5, gap=0.004) for board in boards))
    await asyncio.sleep(0.4)
    assert await drop_broker_connections(cluster, epoch) == 2
    await asyncio.sleep(0.6)
    assert await drop_broker_connections(cluster, epoch) == 2
    await writing
    await asyncio.gather(*(w.until_seq(150) for w in watchers))
    for w in watchers:
        assert w.events == list(range(1, 151)) and not w.closes
    await until(lambda: channels(b) == live, 10, "b did not resubscribe every board")
    # Still live after the reconnects: a new event arrives through the broker, not only the periodic check.
    before = received(b)
    await write(a, "k0", "after", 1)
    await watchers[0].until_seq(151)
    assert received(b) > before
    for w in watchers:
        await w.close()
    assert "broker connection lost" in b.log()


@pytest.fixture
def affine(cluster: Cluster, tmp_path: Path) -> Iterator[ServerProcess]:
    """nginx routing each board to one process (`hash $board consistent`, as docs/deploy.md shows)."""
    yield from start_nginx(cluster, tmp_path, "hash $board consistent;")


async def test_board_affine_routing_behind_nginx(cluster: Cluster, affine: ServerProcess) -> None:
    boards = [f"aff{i}" for i in range(16)]
    watchers = [await Watcher([affine], board, name=f"u{k}").connect() for board in boards for k in range(2)]
    home: dict[str, int] = {}
    for board in boards:
        opened = [s.log().count(f"open board={board} ") for s in cluster.servers]
        assert sorted(opened) == [0, 2], (board, opened)  # both sockets of a board on one process
        home[board] = opened.index(2)
    assert set(home.values()) == {0, 1}  # and the boards spread over both
    for board in boards:  # REST goes where the board's sockets are
        before = [metric(s, "notesboard_writes_committed_total") for s in cluster.servers]
        r = httpx.post(f"{affine.url}/api/boards/{board}/notes", json={"text": "via rest"}, timeout=10)
        assert r.status_code == 201, r.text
        after = [metric(s, "notesboard_writes_committed_total") for s in cluster.servers]
        assert [b - a for a, b in zip(before, after, strict=True)][home[board]] == 1
    await asyncio.gather(*(w.until_seq(1) for w in watchers))
    await asyncio.gather(*(write(affine, board, f"w{board}", 10) for board in boards))
    await asyncio.gather(*(w.until_seq(11) for w in watchers))
    assert all(w.events == list(range(1, 12)) for w in watchers)
    # Each process listens to its own boards' channels only, and got nothing of the others' boards.
    for i, server in enumerate(cluster.servers):
        mine = [board for board in boards if home[board] == i]
        names = {Channels("x", 256 if cluster.kind == "notify" else None).of(board) for board in mine}
        assert channels(server) == 1 + len(names)
    for w in watchers:
        await w.close()
