"""Fixtures of the cluster tests: every contract runs against both kinds of shared state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from nbchat.cluster import SharedState
from nbchat.cluster.memory import memory_state

from .cluster import Cluster
from .redis_fixtures import drop_prefix, redis_workers, require_redis, run_prefix


@pytest_asyncio.fixture(params=["memory", "redis"])
async def two_workers(request: pytest.FixtureRequest) -> AsyncIterator[
        tuple[SharedState, SharedState]]:
    """Two workers' views of the shared state: in memory one process is both (what it
    writes it reads back), in Redis two connections with their own worker ids."""
    if request.param == "memory":
        state = memory_state()
        yield state, state
        return
    async with redis_workers("w1", "w2") as (first, second):
        yield first, second


@pytest.fixture
def cluster(tmp_path: Path, free_port: int, pg_url: str) -> Iterator[Cluster]:
    """`nbchat serve --workers 2` over Redis (a fresh prefix) and the run's PostgreSQL."""
    require_redis()
    prefix = run_prefix()
    running = Cluster(tmp_path, free_port, pg_url, prefix)
    try:
        running.start()
        yield running
    finally:
        status = running.stop()
        asyncio.run(drop_prefix(prefix))
    assert status == 0, "".join(running.output)
