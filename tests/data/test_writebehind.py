"""The write-behind queue on its own, with a recording `apply` (no database)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import pytest

from nbchat.data import WriteFailedError
from nbchat.data.writebehind import Batch, ThreadPatch, WriteBehindQueue
from nbchat.types import FeedbackDict, StepDict


def step(i: int, **kw: Any) -> StepDict:
    return cast(StepDict, {"id": f"s{i}", "threadId": "t", "output": "", **kw})


class Recorder:
    def __init__(self, fail_on: set[str] | None = None) -> None:
        self.batches: list[Batch] = []
        self.fail_on = fail_on or set()
        self.applied = asyncio.Event()
        self.gate: asyncio.Event | None = None  # when set, apply waits for it
        self.entered = asyncio.Event()  # apply has started (the batch is in flight)

    async def __call__(self, batch: Batch) -> None:
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_on & set(batch.steps):
            raise RuntimeError("constraint failed")
        self.batches.append(batch)
        self.applied.set()

    @property
    def steps(self) -> list[StepDict]:
        return [s for b in self.batches for s in b.steps.values()]


async def test_writes_in_one_window_become_one_batch() -> None:
    rec = Recorder()
    q = WriteBehindQueue(rec, interval=0.01)
    for i in range(100):
        q.put_step(step(i))
    await rec.applied.wait()  # the writer's own timer committed it
    assert len(rec.batches) == 1
    assert len(rec.steps) == 100
    await q.close()


async def test_updates_of_one_step_coalesce() -> None:
    rec = Recorder()
    q = WriteBehindQueue(rec, interval=10)
    q.put_step(step(1, output="a"))
    q.put_step(step(1, output="ab"))
    q.put_thread(ThreadPatch("t", name="x", metadata={"a": 1}))
    q.put_thread(ThreadPatch("t", metadata={"b": 2}))
    await q.flush()
    assert [s["output"] for s in rec.steps] == ["ab"]
    patch = rec.batches[0].threads["t"]
    assert patch.name == "x"
    assert patch.metadata == {"a": 1, "b": 2}
    await q.close()


async def test_full_batch_is_written_without_waiting_for_the_interval() -> None:
    rec = Recorder()
    q = WriteBehindQueue(rec, interval=3600, max_batch=10)
    for i in range(10):
        q.put_step(step(i))
    await asyncio.wait_for(rec.applied.wait(), 30)
    assert len(rec.steps) == 10
    await q.close()


async def test_pending_and_inflight_writes_are_visible() -> None:
    rec = Recorder()
    rec.gate = asyncio.Event()
    q = WriteBehindQueue(rec, interval=3600)
    q.put_step(step(1, output="x"))
    q.put_feedback(cast(FeedbackDict, {"forId": "s1", "value": 1}))
    assert q.find_step("s1") is not None
    flushing = asyncio.create_task(q.flush())
    await rec.entered.wait()  # the flush took the batch
    assert q.find_step("s1") is not None
    assert q.find_feedback("s1") is not None
    dirty_while_flushing = q.dirty  # (mypy would keep q.dirty narrowed across the await)
    assert dirty_while_flushing
    rec.gate.set()
    await flushing
    assert not q.dirty
    assert q.find_step("s1") is None
    await q.close()


async def test_a_bad_write_does_not_drop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    rec = Recorder(fail_on={"s2"})
    q = WriteBehindQueue(rec, interval=3600)
    for i in range(5):
        batch = q.put_step(step(i))
    with caplog.at_level(logging.ERROR, "nbchat.data"):
        with pytest.raises(WriteFailedError, match="1 queued write"):
            await q.flush()
        assert "could not store step s2" in caplog.text
    assert sorted(s["id"] for s in rec.steps) == ["s0", "s1", "s3", "s4"]
    assert ("step", "s2") in batch.errors
    assert q.failed_writes == 1
    await q.close()


async def test_durable_raises_only_for_its_own_write() -> None:
    rec = Recorder(fail_on={"bad"})
    q = WriteBehindQueue(rec, interval=3600)
    q.put_step(cast(StepDict, {"id": "bad", "threadId": "t"}))
    batch = q.put_step(step(1))
    await q.durable(batch, ("step", "s1"))  # someone else's failure is not ours
    batch = q.put_step(cast(StepDict, {"id": "bad", "threadId": "t"}))
    with pytest.raises(WriteFailedError, match="step bad"):
        await q.durable(batch, ("step", "bad"))
    await q.close()


async def test_cancelled_flush_still_commits_and_keeps_order() -> None:
    rec = Recorder()
    rec.gate = asyncio.Event()
    q = WriteBehindQueue(rec, interval=3600)
    q.put_step(step(1))
    flushing = asyncio.create_task(q.flush())
    await rec.entered.wait()
    flushing.cancel()  # e.g. the user pressed stop while the message was being saved
    with pytest.raises(asyncio.CancelledError):
        await flushing
    q.put_step(step(2))
    second = asyncio.create_task(q.flush())
    rec.gate.set()
    await second
    assert [s["id"] for s in rec.steps] == ["s1", "s2"]
    await q.close()


async def test_barrier_runs_after_queued_writes() -> None:
    rec = Recorder()
    order: list[str] = []
    q = WriteBehindQueue(rec, interval=3600)
    q.put_step(step(1))

    async def delete() -> str:
        order.append(f"delete after {len(rec.steps)} writes")
        return "ok"

    assert await q.barrier(delete) == "ok"
    assert order == ["delete after 1 writes"]
    await q.close()


async def test_close_flushes_then_refuses_writes() -> None:
    rec = Recorder()
    q = WriteBehindQueue(rec, interval=3600)
    q.put_step(step(1))
    await q.close()
    await q.close()
    assert len(rec.steps) == 1
    with pytest.raises(WriteFailedError, match="closed"):
        q.put_step(step(2))


async def test_durable_writes_made_together_share_one_commit() -> None:
    """A burst of users' messages, each made durable while other chats keep streaming:
    one commit for the burst, not one per message (every later caller finds its batch
    committed, instead of committing the streamed text queued since)."""
    q: WriteBehindQueue
    streamed = iter(range(1000, 2000))

    class Streaming(Recorder):
        async def __call__(self, batch: Batch) -> None:
            await asyncio.sleep(0)  # a commit takes time: the rest of the burst queues up
            await super().__call__(batch)
            # Another chat's checkpoint arrives while the burst waits for the lock.
            asyncio.get_running_loop().call_soon(q.put_step, step(next(streamed)))

    rec = Streaming()
    q = WriteBehindQueue(rec, interval=3600)
    batches = [(q.put_step(step(i)), ("step", f"s{i}")) for i in range(50)]
    await asyncio.gather(*(q.durable(batch, key) for batch, key in batches))
    assert len(rec.batches) == 1
    assert {f"s{i}" for i in range(50)} <= set(rec.batches[0].steps)
    # A durable write queued after that commit is committed, not skipped.
    later = q.put_step(step(99))
    await q.durable(later, ("step", "s99"))
    assert "s99" in rec.batches[-1].steps
    await q.close()
