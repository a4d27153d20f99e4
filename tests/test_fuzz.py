"""Property tests: arbitrary frames and REST bodies never produce a 500, a 1011 or harm to other clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import Client, connect
from tests.support import ServerProcess, sqlite_url

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
field_values = (
    json_values
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([1e308, -1e308, 1000000, 1000000.5, 0, -0.0, "#a1B2c3", "#12345g", ""])
    | st.integers(min_value=10_001, max_value=10_010).map(lambda n: "x" * n)  # over the text limit
)
frame_objects = st.fixed_dictionaries(
    {"type": st.sampled_from(["create", "update", "delete", "ping", "awareness", "nope", 7, None])},
    optional={
        name: field_values
        for name in (
            "text",
            "id",
            "version",
            "client_id",
            "color",
            "x",
            "y",
            "author",
            "extra",
            "cursor",
            "editing",
            "selected",
            "view",
        )
    },
)
# The standard json module (not orjson) encodes integers beyond 64 bits, which the server must refuse.
raw_texts = (
    frame_objects.map(json.dumps)
    | st.text(max_size=200)
    | st.sampled_from(['{"type": "create", "text": "a", "x": NaN}', "{}", '{"type": "update", "id": 1e999}'])
    | st.integers(min_value=500, max_value=5000).map(lambda n: "[" * n + "]" * n)  # deep nesting
    | st.integers(min_value=500, max_value=5000).map(lambda n: '{"a":' * n)
)
frames: st.SearchStrategy[str | bytes] = raw_texts | st.binary(max_size=200)


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    srv = ServerProcess(sqlite_url(tmp / "notes.db"), tmp / "server.log").start()
    yield srv
    srv.stop()


async def _answers_everything(server: ServerProcess, batch: list[str | bytes]) -> None:
    async with connect(server, "fuzz") as bystander, connect(server, "fuzz") as fuzzer:
        for frame in batch:
            await fuzzer.ws.send(frame)
        await fuzzer.ping(timeout=10)  # still answering, after every frame was handled in order
        for f in fuzzer._pending:
            assert f["type"] in ("ack", "error", "event", "presence", "pong", "awareness"), f
            if f["type"] == "error":
                assert f["code"] in ("bad_request", "too_large", "not_found", "conflict"), f
        ack = await bystander.request({"type": "create", "text": "still fine", "client_id": f"b{id(batch)}"})
        assert ack["type"] == "ack"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(frames, min_size=1, max_size=30))
def test_arbitrary_frames_never_break_the_server(fuzz_server: ServerProcess, batch: list[str | bytes]) -> None:
    try:
        asyncio.run(_answers_everything(fuzz_server, batch))
    except websockets.ConnectionClosed as exc:
        assert exc.rcvd is None or exc.rcvd.code != 1011, exc
        raise


rest_bodies = (
    frame_objects.map(lambda f: json.dumps(f).encode())
    | st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["POST", "PATCH", "DELETE", "GET", "PUT"]),
    path=st.sampled_from(["fuzz/notes", "fuzz/notes/1", "fuzz/notes/99999", "fuzz/notes/x", "-/notes", "fuzz"]),
    query=st.sampled_from(["", "?since=1", "?limit=abc", "?version=2", "?since=-5&limit=0"]),
    body=rest_bodies,
)
def test_arbitrary_rest_requests_never_500(
    fuzz_server: ServerProcess, method: str, path: str, query: str, body: Any
) -> None:
    r = httpx.request(method, f"{fuzz_server.url}/api/boards/{path}{query}", content=body, timeout=10)
    assert r.status_code < 500, (r.status_code, r.text)
    if r.status_code >= 400:
        assert set(r.json()["error"]) == {"code", "message"}


def test_deeply_nested_frame_is_a_bad_request(fuzz_server: ServerProcess) -> None:
    async def run() -> None:
        async with connect(fuzz_server, "fuzz") as c:
            await c.send("[" * 100_000 + "]" * 100_000)
            assert (await c.recv_type("error"))["code"] == "bad_request"
            await c.send(b"\xff\xfe not utf-8")
            assert (await c.recv_type("error"))["code"] == "bad_request"
            await c.ping()

    asyncio.run(run())


_ = Client  # the helper class is what `connect` yields
