"""The contract of each shared-state interface, against memory and Redis alike
(`two_workers`: what one worker writes, the other reads)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from nbchat.cluster import SharedState
from nbchat.cluster.redis_state import RedisSharedState, redis_state

from .redis_fixtures import REDIS_URL, redis_workers, run_prefix

Workers = tuple[SharedState, SharedState]


async def test_a_sign_out_on_one_worker_is_seen_and_heard_on_the_other(
        two_workers: Workers) -> None:
    first, second = two_workers
    heard: asyncio.Queue[str] = asyncio.Queue()
    second.revocations.listeners.append(heard.put_nowait)
    assert not await second.revocations.revoked("sid-1")
    await first.revocations.revoke("sid-1", 60)
    assert await second.revocations.revoked("sid-1")
    assert not await second.revocations.revoked("sid-2")
    assert await asyncio.wait_for(heard.get(), 5) == "sid-1"


async def test_a_revocation_ends_with_its_lifetime(two_workers: Workers) -> None:
    first, second = two_workers
    # Long enough to be seen under load on the other worker first; Redis (or the memory
    # store) ends it, which the loop below waits for (there is no event to wait on).
    await first.revocations.revoke("short", 1.5)
    assert await second.revocations.revoked("short")
    deadline = asyncio.get_running_loop().time() + 15
    while await second.revocations.revoked("short"):  # polls the store, not a timer
        assert asyncio.get_running_loop().time() < deadline, "the revocation never ended"
        await asyncio.sleep(0.02)


async def test_failed_sign_ins_count_on_every_worker(two_workers: Workers) -> None:
    first, second = two_workers
    for _ in range(3):
        await first.attempts.failed("10.0.0.1", "Ada")
    for _ in range(2):
        await second.attempts.failed("10.0.0.1", "ada")  # usernames fold case
    wait = await first.attempts.retry_after("10.0.0.1", "ADA")
    assert 0 < wait <= 300
    assert await second.attempts.retry_after("10.0.0.2", "ada") == 0  # another IP
    assert await second.attempts.retry_after("10.0.0.1", "bob") == 0  # another name
    await second.attempts.succeeded("10.0.0.1", "ada")
    assert await first.attempts.retry_after("10.0.0.1", "ada") == 0


async def test_one_ip_spraying_many_names_is_slowed_everywhere(two_workers: Workers) -> None:
    first, second = two_workers
    for i in range(50):
        await (first if i % 2 else second).attempts.failed("10.9.9.9", f"user{i}")
    assert await first.attempts.retry_after("10.9.9.9", "someone-new") > 0


async def test_an_oauth_state_is_used_once_across_workers(two_workers: Workers) -> None:
    first, second = two_workers
    assert await first.oauth_states.first_use("state-a", 60)
    assert not await second.oauth_states.first_use("state-a", 60)
    assert not await first.oauth_states.first_use("state-a", 60)
    assert await second.oauth_states.first_use("state-b", 60)


async def test_the_directory_knows_every_worker_s_sessions(two_workers: Workers) -> None:
    first, second = two_workers
    await first.directory.claim("s1", "ada", "t1")
    await second.directory.claim("s2", "ada", "t2")
    await second.directory.claim("s3", None, "t3")  # no user: not counted for anyone
    owner = await second.directory.owner("s1")
    assert owner is not None
    assert (owner.worker, owner.user, owner.thread_id, owner.alive) == (
        first.directory.worker, "ada", "t1", True)
    assert await first.directory.count("ada") == 2
    assert await first.directory.count("bob") == 0
    await first.directory.release("s1", "ada")
    assert await second.directory.owner("s1") is None
    assert await second.directory.count("ada") == 1


async def test_a_dead_worker_s_sessions_stop_counting() -> None:
    async with redis_workers("survivor", "doomed") as (survivor, doomed):
        await doomed.directory.claim("d1", "ada", "t1")
        await survivor.directory.claim("s1", "ada", "t2")
        assert await survivor.directory.count("ada") == 2
        await _die(doomed)
        owner = await survivor.directory.owner("d1")
        assert owner is not None
        assert not owner.alive
        assert await survivor.directory.count("ada") == 1


async def _die(state: RedisSharedState) -> None:
    """What kill -9 leaves: no heartbeat (its key expired), no goodbye to the directory."""
    for task in state._tasks:
        task.cancel()
    await asyncio.gather(*state._tasks, return_exceptions=True)
    await state.link.client.delete(state.link.key("worker", state.link.worker))
    await state.link.close()


async def test_a_redis_that_does_not_answer_is_a_clear_start_up_error() -> None:
    from nbchat.errors import ConfigError

    state = redis_state("redis://127.0.0.1:1/0", run_prefix())
    with pytest.raises(ConfigError, match="does not answer"):
        await state.start()
    await state.link.client.aclose()


def test_the_kind_follows_server_redis_url_or_nbchat_redis_url(tmp_path: Path) -> None:
    from nbchat.cluster import shared_state
    from nbchat.cluster.memory import MemoryRevocations
    from nbchat.config import load

    config = load(tmp_path, {"NBCHAT_REDIS_URL": REDIS_URL})
    assert config.server.redis_url == REDIS_URL
    state = shared_state(config.server)
    assert isinstance(state, RedisSharedState)
    assert state.distributed
    assert state.link.prefix == "nbchat"
    local = shared_state(load(tmp_path, {}).server)
    assert isinstance(local.revocations, MemoryRevocations)
    assert not local.distributed
