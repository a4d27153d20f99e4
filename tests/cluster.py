"""Several server processes on one database and one broker, shared by the scale-out test modules: the
cluster, strict watchers, writers, broker faults and nginx in front (tests/test_scaleout.py,
tests/test_cluster_subs.py). Not a test module."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import websockets

from notesboard.client import Connection, SeqTracker, SnapshotKind, Verdict
from tests.support import Database, ServerProcess
from tests.support.brokers import (
    broker_url,
    drop_listeners,
    kill_pubsub,
    listener_pids,
    pubsub_ids,
)

PRESENCE_TTL = 2.0


CLUSTER_ENV = {
    "NOTESBOARD_PRESENCE_TTL": str(PRESENCE_TTL),
    "NOTESBOARD_PRESENCE_INTERVAL": "0.1",
    "NOTESBOARD_GAP_WAIT": "0.1",
    "NOTESBOARD_SEQ_CHECK_INTERVAL": "1",
}


class Cluster:
    """Two `notesboard serve` processes on their own ports, sharing a fresh Postgres database and a broker."""

    def __init__(self, kind: str, tmp: Path, broker: str | None = None, env: dict[str, str] | None = None) -> None:
        self.kind = kind
        self.db = Database("postgres", tmp)
        try:
            self.broker = broker or broker_url(kind, self.db)
        except BaseException:
            self.db.drop()
            raise
        env = {**CLUSTER_ENV, **(env or {}), "NOTESBOARD_BROKER": self.broker}
        self.servers = [ServerProcess(self.db.url, tmp / f"server{i}.log", env=env) for i in range(2)]

    def start(self) -> Cluster:
        for s in self.servers:
            s.start()
        return self

    def close(self) -> None:
        for s in self.servers:
            try:
                s.stop(timeout=15)  # graceful: the log ends with the relay's counters
            finally:
                s.kill()
        self.db.drop()

    def seq(self, board: str) -> int:
        return int(httpx.get(f"{self.servers[-1].url}/api/boards/{board}/notes", params={"limit": 1}).json()["seq"])

    def changes(self, board: str) -> list[dict[str, Any]]:
        """Every note changed since 0, paged through REST, in seq order."""
        notes: list[dict[str, Any]] = []
        since = 0
        for _ in range(1000):
            page = httpx.get(
                f"{self.servers[-1].url}/api/boards/{board}/notes", params={"since": since, "limit": 10000}
            ).json()
            notes += page["notes"]
            if not page["more"]:
                return notes
            since = notes[-1]["seq"]
        raise AssertionError("too many pages")


class Watcher:
    """A strict client: asserts each event is the next seq; resumes with since+epoch after a close.

    The package's wire client does the tracking (notesboard.client: a resume snapshot out of order or older
    than `since` raises ProtocolError); the watcher adds the strictness and moving to another server.
    """

    def __init__(self, servers: list[ServerProcess], board: str, name: str | None = None, batch: bool = False):
        self.servers = servers
        self.board = board
        self.name = name
        self.batch = batch
        self.index = 0
        self.tracker = SeqTracker()
        self.events: list[int] = []
        self.received: list[int] = []  # events, and the changes a resume snapshot brought
        self.closes: list[int | None] = []
        self.presence: dict[str, Any] | None = None
        self.snapshot: dict[str, Any] = {}
        self.conn: Connection | None = None
        self._seq = 0
        self._checked = 0

    @property
    def seq(self) -> int:
        """The last seq consumed (the tracker counts on arrival: a batch message may be ahead)."""
        return self._seq

    @property
    def epoch(self) -> str | None:
        return self.tracker.epoch

    @property
    def ws(self) -> websockets.ClientConnection | None:
        return self.conn.ws if self.conn is not None else None

    async def connect(self) -> Watcher:
        for _ in range(100):
            server = self.servers[self.index % len(self.servers)]
            resuming = self.tracker.epoch is not None
            try:
                self.conn = await Connection.open(
                    server.url, self.board, tracker=self.tracker, name=self.name, batch=1 if self.batch else None
                )
            except (OSError, TimeoutError, websockets.InvalidHandshake, websockets.ConnectionClosed):
                self.index += 1
                await asyncio.sleep(0.1)
                continue
            self.snapshot = self.conn.snapshot
            if resuming:  # the changes missed, in order, and nothing older (checked by the tracker)
                assert self.conn.snapshot_kind is SnapshotKind.RESUMED, self.snapshot
                self.received += self.tracker.missed
            self._seq = self.tracker.seq
            self._checked = 0
            return self
        raise AssertionError("could not connect to any server")

    def _take(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "event":
            assert self.conn is not None
            seq, verdict = self.conn.verdicts[self._checked]
            self._checked += 1
            assert verdict is Verdict.NEXT, f"{self.board}: event {seq} after {self.seq} ({verdict.value})"
            assert frame["note"]["seq"] == frame["seq"]
            self._seq = seq
            self.events.append(seq)
            self.received.append(seq)
        elif frame["type"] == "presence":
            self.presence = frame

    async def read_until(self, until: Any, timeout: float = 30.0) -> None:
        """Read (resuming as needed) until `until(self)` holds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not until(self):
            assert loop.time() < deadline, f"{self.board}: stuck at seq {self.seq}"
            assert self.conn is not None
            try:
                frame = await self.conn.recv(max(0.05, min(1.0, deadline - loop.time())))
            except TimeoutError:
                continue
            except websockets.ConnectionClosed as exc:
                self.closes.append(exc.rcvd.code if exc.rcvd else None)
                if exc.rcvd is None or exc.rcvd.code != 1013:
                    self.index += 1  # its server is going away: resume on another
                await self.connect()
                continue
            self._take(frame)

    async def until_seq(self, seq: int, timeout: float = 30.0) -> None:
        await self.read_until(lambda w: w.seq >= seq, timeout)

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()


async def write(
    server: ServerProcess, board: str, tag: str, count: int, window: int = 25, gap: float = 0.0
) -> list[int]:
    """`count` creates with client_ids `tag-i`, at most `window` unacknowledged; the acked seqs, in order."""
    acks: dict[str, int] = {}
    async with websockets.connect(server.ws_url(board), max_size=None, max_queue=None) as ws:
        await ws.recv()
        sent = 0

        async def read_one() -> None:
            for line in str(await asyncio.wait_for(ws.recv(), 30)).split("\n"):
                frame = orjson.loads(line)
                assert frame["type"] != "error", frame
                if frame["type"] == "ack":
                    acks[frame["client_id"]] = frame["seq"]

        while len(acks) < count:
            if sent < count and sent - len(acks) < window:
                await ws.send(
                    orjson.dumps({"type": "create", "text": f"{tag}-{sent}", "client_id": f"{tag}-{sent}"}).decode()
                )
                sent += 1
                if gap:
                    await asyncio.sleep(gap)
            else:
                await read_one()
    return [acks[f"{tag}-{i}"] for i in range(count)]


async def drop_broker_connections(cluster: Cluster, epoch: str) -> int:
    """What a broker restart does to the servers' subscriptions: Redis CLIENT KILL, or pg_terminate_backend."""
    name = f"notesboard_{epoch}"
    if cluster.kind == "redis":
        return await kill_pubsub(name)
    return await drop_listeners(f"{name}-listen")


async def broker_connections(cluster: Cluster, epoch: str) -> set[str]:
    """Ids of the servers' open subscriptions (Redis client ids, or Postgres backend pids)."""
    name = f"notesboard_{epoch}"
    return await (pubsub_ids(name) if cluster.kind == "redis" else listener_pids(f"{name}-listen"))


async def until_resubscribed(cluster: Cluster, epoch: str, old: set[str], timeout: float = 10.0) -> None:
    """Wait until both servers have new subscriptions (none of `old`, the dropped ones, is left)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        now = await broker_connections(cluster, epoch)
        if len(now) == 2 and not now & old:
            return
        assert loop.time() < deadline, f"the servers did not resubscribe within {timeout} s: {now} (old {old})"
        await asyncio.sleep(0.05)


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
{body}
}}
"""


BOARD_AFFINE = """
    map $uri $board {
        ~^/(?:ws|api/boards)/(?<name>[^/]+)  $name;
        default                             "";
    }"""


def nginx_site(listen: str, backends: list[str], balance: str = "least_conn;") -> str:
    """The `http` block body documented in docs/deploy.md (kept identical: the doc points here).

    `balance` is `least_conn;` or, for board-affine routing, `hash $board consistent;` with BOARD_AFFINE."""
    servers = "\n".join(f"        server {b} max_fails=1 fail_timeout=5s;" for b in backends)
    board_map = BOARD_AFFINE if "$board" in balance else ""
    return f"""
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}{board_map}
    upstream notesboard {{
        {balance}
{servers}
    }}
    server {{
        listen {listen};
        location / {{
            proxy_pass http://notesboard;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
            proxy_buffering off;
        }}
    }}
"""


def _start_nginx(
    binary: str, cluster: Cluster, tmp: Path, balance: str
) -> tuple[subprocess.Popen[bytes], ServerProcess] | None:
    """nginx on a port that was free a moment ago; None if another process took it first (try another)."""
    with socket.socket() as probe:  # nginx cannot listen on port 0, so it gets a port that was just free
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    front = ServerProcess(cluster.db.url, tmp / "unused.log", port=port)  # only for .port/.url/.ws_url
    site = nginx_site(f"127.0.0.1:{port}", [f"127.0.0.1:{s.port}" for s in cluster.servers], balance)
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=tmp, body=site))
    (tmp / "error.log").unlink(missing_ok=True)
    proc = subprocess.Popen([binary, "-c", str(conf), "-p", str(tmp)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            errors = (tmp / "error.log").read_text() if (tmp / "error.log").exists() else ""
            if "Address already in use" in errors:
                return None
            raise AssertionError(f"nginx exited with {proc.returncode}: {errors}")
        try:
            if httpx.get(f"{front.url}/healthz", timeout=1).status_code == 200:
                return proc, front
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    proc.terminate()
    proc.wait(10)
    raise AssertionError(f"nginx did not start: {(tmp / 'error.log').read_text()}")


def start_nginx(cluster: Cluster, tmp_path: Path, balance: str) -> Iterator[ServerProcess]:
    """nginx in front of `cluster` with the upstream directive `balance`, stopped when the caller is done."""
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    for _ in range(5):
        started = _start_nginx(binary, cluster, tmp_path, balance)
        if started is not None:
            break
    else:
        raise AssertionError("nginx found its port taken five times")
    proc, front = started
    try:
        yield front
    finally:
        proc.terminate()
        proc.wait(10)
