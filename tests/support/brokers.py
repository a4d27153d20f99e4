"""Broker URLs for test servers, and what a broker restart does to a server's subscription.

Redis comes from NOTESBOARD_TEST_REDIS (default redis://127.0.0.1:6379/0). Servers on different databases
never mix on one Redis: the channel defaults to one per database.
"""

from __future__ import annotations

import os

import asyncpg
import redis
import redis.asyncio as aioredis

from tests.support.databases import POSTGRES_ADMIN, Database, Unreachable

__all__ = ["REDIS_URL", "broker_url", "drop_listeners", "kill_pubsub", "redis_port", "redis_reason", "require_redis"]

REDIS_URL = os.environ.get("NOTESBOARD_TEST_REDIS", "redis://127.0.0.1:6379/0")

_redis_error: str | None = None


def redis_reason() -> str | None:
    """Why Redis cannot be used, or None when it can (asked once per process)."""
    global _redis_error
    if _redis_error is None:
        try:
            client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3, socket_timeout=3)
            client.ping()
            client.close()
            _redis_error = ""
        except (redis.RedisError, OSError) as exc:
            _redis_error = f"Redis at {REDIS_URL} is unreachable: {exc}"
    return _redis_error or None


def require_redis() -> str:
    """REDIS_URL, or Unreachable."""
    reason = redis_reason()
    if reason:
        raise Unreachable(reason)
    return REDIS_URL


def redis_port() -> int:
    return int(REDIS_URL.rsplit(":", 1)[1].split("/")[0])


def broker_url(kind: str, db: Database) -> str:
    """The --broker URL for `kind` (memory, redis or notify); Unreachable if that broker is."""
    if kind == "redis":
        return require_redis()
    if kind == "notify":
        return db.dsn
    if kind == "memory":
        return "memory://"
    raise ValueError(f"unknown broker kind {kind!r}")


async def kill_pubsub(name: str) -> int:
    """CLIENT KILL the Redis pub/sub connections named `name`; how many there were."""
    admin = aioredis.Redis.from_url(REDIS_URL)
    try:
        killed = 0
        for client in await admin.client_list(_type="pubsub"):
            if client.get("name") == name:
                killed += int(await admin.client_kill_filter(_id=client["id"]))
        return killed
    finally:
        await admin.aclose()


async def pubsub_ids(name: str) -> set[str]:
    """Client ids of the open Redis pub/sub connections named `name`."""
    admin = aioredis.Redis.from_url(REDIS_URL)
    try:
        return {str(c["id"]) for c in await admin.client_list(_type="pubsub") if c.get("name") == name}
    finally:
        await admin.aclose()


async def listener_pids(application_name: str) -> set[str]:
    """Backend pids of the open Postgres sessions named `application_name`."""
    conn = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE application_name = $1", application_name)
        return {str(r["pid"]) for r in rows}
    finally:
        await conn.close()


async def drop_listeners(application_name: str) -> int:
    """pg_terminate_backend the Postgres sessions named `application_name`; how many there were."""
    conn = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
                application_name,
            )
        )
    finally:
        await conn.close()
