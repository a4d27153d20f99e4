"""The LISTEN/NOTIFY broker against the machine's Postgres (NOTESBOARD_TEST_POSTGRES); skipped if unreachable."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from notesboard.cluster import BrokerError
from notesboard.cluster.brokers.postgres import PostgresBroker
from tests.support import POSTGRES_ADMIN


@pytest.fixture
async def broker() -> AsyncIterator[PostgresBroker]:
    b = PostgresBroker(POSTGRES_ADMIN)
    b.name = f"nbtest-{uuid.uuid4().hex[:12]}"
    try:
        await b.connect()
    except BrokerError as exc:
        pytest.skip(f"Postgres at {POSTGRES_ADMIN} is unreachable: {exc}")
    yield b
    await b.disconnect()


async def test_notifications_arrive_in_order(broker: PostgresBroker) -> None:
    channel = f"nbtest_{uuid.uuid4().hex}"
    await broker.subscribe(channel)
    await broker.publish(channel, "one")
    await broker.publish_many(channel, [f"m{i}" for i in range(200)])
    got = [(await asyncio.wait_for(broker.next_published(), 5)).data for _ in range(201)]
    assert got == ["one", *(f"m{i}" for i in range(200))]


async def test_the_payload_limit_is_what_postgres_enforces(broker: PostgresBroker) -> None:
    channel = f"nbtest_{uuid.uuid4().hex}"
    await broker.subscribe(channel)
    assert broker.max_payload is not None
    fits = "é" * (broker.max_payload // 2)  # bytes count, not characters
    await broker.publish(channel, fits)
    assert (await asyncio.wait_for(broker.next_published(), 5)).data == fits
    with pytest.raises(BrokerError):
        await broker.publish(channel, "x" * (broker.max_payload + 1))


async def test_a_terminated_listener_raises(broker: PostgresBroker) -> None:
    channel = f"nbtest_{uuid.uuid4().hex}"
    await broker.subscribe(channel)
    admin = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
            f"{broker.name}-listen",
        )
    finally:
        await admin.close()
    assert killed == 1
    with pytest.raises(BrokerError):
        await asyncio.wait_for(broker.next_published(), 10)
    await broker.disconnect()
    await broker.connect()
    await broker.subscribe(channel)
    await broker.publish(channel, "after")
    assert (await asyncio.wait_for(broker.next_published(), 5)).data == "after"


async def test_channels_come_and_go_while_a_reader_waits(broker: PostgresBroker) -> None:
    first, second = (f"nbtest_{uuid.uuid4().hex}" for _ in range(2))
    await broker.subscribe(first)
    got: list[tuple[str, str]] = []

    async def read() -> None:
        while True:
            m = await broker.next_published()
            got.append((m.channel, m.data))

    reader = asyncio.ensure_future(read())
    try:
        await asyncio.wait_for(broker.subscribe(second), 5)
        await broker.publish_batch([(first, "a1"), (second, "b1"), (first, "a2")])  # one statement
        for _ in range(100):  # everything sent to `second` arrived before it is dropped
            if len(got) >= 3:
                break
            await asyncio.sleep(0.05)
        await broker.unsubscribe(second)
        await broker.publish_batch([(second, "gone"), (first, "a3")])
        for _ in range(100):
            if (first, "a3") in got:
                break
            await asyncio.sleep(0.05)
        assert got == [(first, "a1"), (second, "b1"), (first, "a2"), (first, "a3")]
    finally:
        reader.cancel()
