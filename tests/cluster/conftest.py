"""Fixtures of the cluster tests: every contract runs against both kinds of shared state."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from nbchat.cluster import SharedState
from nbchat.cluster.memory import memory_state

from .redis_fixtures import redis_workers


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
