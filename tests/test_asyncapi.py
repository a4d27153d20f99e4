"""`/asyncapi.json` describes the socket protocol truthfully: every frame a real server sends over a real
socket validates against the document's schemas (and has exactly the documented fields), the frame
builders agree with it, and frames the document calls invalid are refused by the server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from notesboard.awareness.frames import Joined
from notesboard.contract import protocol
from notesboard.contract.asyncapi import CLIENT_FRAMES, SERVER_FRAMES, build_asyncapi, client_message
from notesboard.contract.errors import Conflict
from notesboard.contract.model import VoteResult
from notesboard.contract.votes import vote_ack, vote_event
from notesboard.core import privacy
from notesboard.core.votes import view as votes_view
from tests.helpers import Client, connect
from tests.support import ServerProcess, sqlite_url

DOC_URI = "urn:notesboard:asyncapi"


@pytest.fixture(scope="module")
def sock_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("asyncapi")
    env = {"NOTESBOARD_PRESENCE_INTERVAL": "0.05", "NOTESBOARD_SNAPSHOT_LIMIT": "2"}
    srv = ServerProcess(sqlite_url(tmp / "notes.db"), tmp / "server.log", env=env).start()
    yield srv
    srv.stop()


class Frames:
    """Validators for each message of an AsyncAPI document (its payload schemas, JSON Schema draft 7)."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        registry: Registry[Any] = Registry().with_resource(DOC_URI, Resource.from_contents(doc, DRAFT7))
        self.validators = {}
        for name, message in doc["components"]["messages"].items():
            schema = {"$ref": DOC_URI + message["payload"]["$ref"]}
            self.validators[name] = jsonschema.Draft7Validator(schema, registry=registry)
        self.seen: set[str] = set()

    def schema(self, ref: str) -> dict[str, Any]:
        """A component schema by name or by `#/components/schemas/Name` reference."""
        return self.doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]  # type: ignore[no-any-return]

    def check(self, frame: dict[str, Any]) -> None:
        """Valid, and no field the document does not name (a server change must update the document)."""
        kind = frame["type"]
        self.validators[kind].validate(frame)
        schema = self.schema(self.doc["components"]["messages"][kind]["payload"]["$ref"])
        props, required = set(schema["properties"]), set(schema.get("required", ()))
        assert required <= set(frame) <= props, (kind, set(frame) ^ props)  # optional: the snapshot's session
        note_fields = set(self.schema("Note")["properties"])
        optional = {"hidden", "private"}  # only on notes written while private (core/privacy.py)
        for note in [frame["note"]] if "note" in frame else frame.get("notes", []):
            assert set(note) - optional == note_fields - optional and set(note) <= note_fields, set(note) ^ note_fields
        self.seen.add(kind)

    def valid(self, kind: str, frame: dict[str, Any]) -> bool:
        """Is `frame` a valid client frame of type `kind`?"""
        return bool(self.validators[client_message(kind)].is_valid(frame))


def test_document_shape_and_references() -> None:
    doc = build_asyncapi()
    assert doc["asyncapi"].startswith("3.") and doc["channels"]["board"]["address"] == "/ws/{board}"
    assert set(doc["components"]["messages"]) == set(SERVER_FRAMES) | set(map(client_message, CLIENT_FRAMES)) | {
        "ysync",
        "yawareness",
    }
    assert doc["channels"]["note_text"]["address"] == "/y/{board}/{note_id}"
    for name, op in doc["operations"].items():
        assert op["action"] == ("send" if name.startswith("send_") else "receive")
        channel = op["channel"]["$ref"].removeprefix("#/channels/")
        assert channel in ("board", "note_text")
        for ref in op["messages"]:
            prefix = f"#/channels/{channel}/messages/"
            assert ref["$ref"].removeprefix(prefix) in doc["channels"][channel]["messages"]

    def refs(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from refs(item)

    for ref in refs(doc):  # every reference resolves inside the document
        target: Any = doc
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        assert isinstance(target, dict), ref


def test_frame_builders_match_the_document() -> None:
    frames = Frames(build_asyncapi())
    note: protocol.Note = {
        "id": 1, "board": "b", "text": "t", "author": None, "color": "#fde68a", "x": 1.0, "y": None,
        "w": 208.0, "h": 150.0, "z": 0, "version": 1, "seq": 3, "created_at": "2026-11-25T14:50:59.480Z",
        "updated_at": "2026-11-25T14:50:59.480Z", "deleted": False, "updated_by": None, "kind": "note",
    }  # fmt: skip
    session: protocol.Session = {
        "vote": {"open": True, "budget": 3, "hidden": True, "multiple": False},
        "writing": "private",
        "timer": {"ends_at": "2026-11-25T14:55:59.480Z", "paused_left": None},
        "version": 2,
    }
    vote = VoteResult("b", 5, 1, "v", 1, 2, 2, 1, True)
    built = [
        protocol.snapshot_frame("b", "e", 3, [note], 1, False),
        protocol.snapshot_frame("b", "e", 3, [note], 1, False, False, session),
        protocol.event_frame("created", note),
        protocol.event_frame("created", privacy.blank(note)),
        protocol.event_frame("created", privacy.own(note)),
        protocol.session_frame(4, session),
        protocol.session_frame(4, session, {1: 3}),
        protocol.snapshot_frame("b", "e", 3, [note], 1, False, False, session, votes_view(session, {(1, "v"): 2}, "v")),
        protocol.ack_frame("c1", 3, note),
        vote_ack("c2", vote),
        *(protocol.render(vote_event(vote), reader) for reader in ("v", "other")),
        *(protocol.render(vote_event(replace(vote, hidden=False)), reader) for reader in ("v", "other")),
        protocol.error_frame(Conflict("stale", "c1")),
        protocol.presence_frame(2, ["ann"]),
        protocol.PONG,
        Joined(
            {
                "p1": '{"peer":"p1","name":"ann","color":"#e6194b","cursor":{"x":1,"y":2.5},"editing":1,'
                '"selected":[1,2],"view":{"x":0,"y":0,"w":800,"h":600}}'
            },
            ["p0"],
        ).shared,
    ]
    for raw in built:
        frames.check(protocol.decode(raw))
    assert frames.seen == set(SERVER_FRAMES)


async def test_every_frame_a_real_server_sends_matches(sock_server: ServerProcess) -> None:
    doc = httpx.get(f"{sock_server.url}/asyncapi.json").json()
    assert doc == build_asyncapi()
    frames = Frames(doc)
    sent: list[dict[str, Any]] = []

    async def request(client: Client, frame: dict[str, Any]) -> dict[str, Any]:
        sent.append(frame)
        reply = await client.request(frame)
        frames.check(reply)
        return reply

    async with connect(sock_server, "spec", name="ann", batch=1) as a:
        frames.check(a.snapshot)
        created = await request(a, {"type": "create", "text": "hi", "client_id": "c1", "x": 5, "w": 300, "z": 2})
        assert created["type"] == "ack"
        note = created["note"]
        upd = {"type": "update", "id": note["id"], "text": "ho", "version": 1, "client_id": "u1"}
        assert (await request(a, upd))["type"] == "ack"
        stale = await request(a, {**upd, "client_id": "u2"})
        assert stale["type"] == "error" and stale["code"] == "conflict"
        bad = await request(a, {"type": "update", "id": note["id"], "client_id": "u3"})  # nothing to update
        assert bad["type"] == "error" and bad["code"] == "bad_request"
        dele = {"type": "delete", "id": note["id"], "version": 2, "client_id": "d1"}
        assert (await request(a, dele))["type"] == "ack"
        restore = {"type": "update", "id": note["id"], "deleted": False, "client_id": "r1"}
        assert (await request(a, restore))["type"] == "ack"
        for i in range(4):
            await request(a, {"type": "create", "text": "more", "client_id": f"m{i}"})
        put = httpx.put(f"{sock_server.url}/api/boards/spec/session", json={"vote": {"open": True}, "version": 0})
        assert put.status_code == 200, put.text
        voted = await request(a, {"type": "vote", "id": note["id"], "delta": 1, "client_id": "v1"})
        assert voted["type"] == "ack" and voted["vote"]["mine"] == 1
        sent.append({"type": "ping"})
        await a.send({"type": "ping"})
        aware = {"type": "awareness", "cursor": {"x": 1, "y": 2}, "selected": [note["id"]], "view": None}
        sent.append(aware)
        await a.send(aware)
        bad_aware = {"type": "awareness", "cursor": {"x": 1e7, "y": 0}, "client_id": "u3"}  # out of bounds
        sent.append(bad_aware)
        await a.send(bad_aware)
        async with connect(sock_server, "spec") as b:  # a second client: presence, and a capped snapshot (votes)
            frames.check(b.snapshot)
            assert b.snapshot["more"] is True and len(b.snapshot["notes"]) == 2
            presence = await a.recv_until(lambda f: f["type"] == "presence" and f["count"] == 2)
            frames.check(presence)
        async with connect(sock_server, "spec", since=1, epoch="another-epoch") as c:
            frames.check(c.snapshot)
            assert c.snapshot["reset"] is True
        # Everything else the first client was sent: the events of its own changes, the pong, presence.
        while True:
            try:
                frames.check(await a.recv(timeout=0.5))
            except TimeoutError:
                break
    assert frames.seen == set(SERVER_FRAMES)

    # What the test sent: the document calls every frame valid but the empty update (u3), which the server
    # refused as bad_request; the stale one (u2) is well formed, refused for the state of the note.
    for frame in sent:
        assert frames.valid(frame["type"], frame) is (frame.get("client_id") != "u3"), frame
