"""Redis for the cluster tests: the server on 127.0.0.1:6379, a key prefix per test run.

The tests never start Redis themselves (the machine runs it, as CI's .ci/run does); when
it does not answer they fail saying so.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator

import redis
import redis.asyncio as aioredis

from nbchat.cluster.redis_state import RedisSharedState, redis_state

REDIS_URL = os.environ.get("NBCHAT_TEST_REDIS", "redis://127.0.0.1:6379/0")


def run_prefix() -> str:
    """A prefix no other test run uses (runs of other helpers share the server)."""
    return f"nbchat-test-{secrets.token_hex(6)}"


def require_redis() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except (redis.ConnectionError, OSError) as exc:
        raise AssertionError(
            f"the cluster tests need Redis at {REDIS_URL} ({exc}): start redis-server "
            "(apt-get install redis-server) or set NBCHAT_TEST_REDIS") from None


async def drop_prefix(prefix: str) -> None:
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@contextlib.asynccontextmanager
async def redis_workers(*names: str) -> AsyncIterator[list[RedisSharedState]]:
    """Started Redis states of workers `names` under a fresh prefix; closed (those still
    open) and their keys dropped afterwards."""
    require_redis()
    prefix = run_prefix()
    states = [redis_state(REDIS_URL, prefix, worker=name) for name in names]
    for state in states:
        await state.start()
    try:
        yield states
    finally:
        for state in states:
            if not state.link.closed:
                await state.close()
        await drop_prefix(prefix)
