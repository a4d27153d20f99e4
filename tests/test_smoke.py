"""A first end-to-end check: snapshot, create, ack and event."""

from tests.helpers import ServerProcess, connect


async def test_create_is_acked_and_broadcast(server: ServerProcess) -> None:
    async with connect(server, "smoke", name="alice") as a, connect(server, "smoke") as b:
        assert a.snapshot["seq"] == 0
        ack = await a.request({"type": "create", "text": "hi", "client_id": "c1"})
        assert ack["type"] == "ack" and ack["seq"] == 1 and ack["note"]["author"] == "alice"
        ev = await b.recv_type("event")
        assert ev["seq"] == 1 and ev["note"] == ack["note"]
