"""The Redis broker against the machine's Redis (NOTESBOARD_TEST_REDIS); skipped, with the reason, if unreachable."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from notesboard.cluster import BrokerError
from notesboard.cluster.brokers.redis import RedisBroker
from tests.support.brokers import REDIS_URL, kill_pubsub, redis_reason


def _broker() -> RedisBroker:
    reason = redis_reason()
    if reason:
        pytest.skip(reason)
    b = RedisBroker(REDIS_URL)
    b.name = f"nbtest-{uuid.uuid4().hex[:12]}"  # to find (and kill) its connections, and nobody else's
    return b


@pytest.fixture
async def broker() -> AsyncIterator[RedisBroker]:
    b = _broker()
    await b.connect()
    yield b
    await b.disconnect()


async def test_messages_arrive_in_order(broker: RedisBroker) -> None:
    channel = f"nbtest-{uuid.uuid4().hex}"
    await broker.subscribe(channel)
    publisher = _broker()
    await publisher.connect()
    try:
        await publisher.publish(channel, "one")
        await publisher.publish_many(channel, [f"m{i}" for i in range(100)])
        got = [(await asyncio.wait_for(broker.next_published(), 5)).data for _ in range(101)]
        assert got == ["one", *(f"m{i}" for i in range(100))]
    finally:
        await publisher.disconnect()


async def test_a_killed_subscription_raises_instead_of_silently_reconnecting(broker: RedisBroker) -> None:
    channel = f"nbtest-{uuid.uuid4().hex}"
    await broker.subscribe(channel)
    assert await kill_pubsub(broker.name) == 1
    with pytest.raises(BrokerError):
        await asyncio.wait_for(broker.next_published(), 10)
    await broker.disconnect()
    await broker.connect()  # the owner reconnects and subscribes again
    await broker.subscribe(channel)
    await broker.publish(channel, "after")
    assert (await asyncio.wait_for(broker.next_published(), 5)).data == "after"


async def test_unreachable_redis_is_a_broker_error() -> None:
    b = RedisBroker("redis://127.0.0.1:9/0")
    with pytest.raises(BrokerError):
        await b.connect()


async def test_channels_come_and_go_while_a_reader_waits(broker: RedisBroker) -> None:
    first, second = (f"nbtest-{uuid.uuid4().hex}" for _ in range(2))
    await broker.subscribe(first)
    publisher = _broker()
    await publisher.connect()
    try:
        await publisher.publish(first, "early")
        await broker.subscribe(second)  # nobody reads yet: the confirmation is read here, "early" kept
        got: list[tuple[str, str]] = []

        async def read() -> None:
            while True:
                m = await broker.next_published()
                got.append((m.channel, m.data))

        reader = asyncio.ensure_future(read())
        try:
            third = f"nbtest-{uuid.uuid4().hex}"
            await asyncio.wait_for(broker.subscribe(third), 5)  # confirmed through the waiting reader
            await publisher.publish_batch([(first, "a1"), (second, "b1"), (third, "c1"), (first, "a2")])
            for _ in range(100):  # everything sent to `second` arrived before it is dropped
                if len(got) >= 5:
                    break
                await asyncio.sleep(0.05)
            await broker.unsubscribe(second)
            await publisher.publish_batch([(second, "gone"), (first, "a3")])
            for _ in range(100):
                if (first, "a3") in got:
                    break
                await asyncio.sleep(0.05)
            assert got == [(first, "early"), (first, "a1"), (second, "b1"), (third, "c1"), (first, "a2"), (first, "a3")]
        finally:
            reader.cancel()
    finally:
        await publisher.disconnect()
