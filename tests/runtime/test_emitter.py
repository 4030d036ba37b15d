"""The emitter: sequence numbers, token coalescing (timer and size bound), order around
other events, and two sessions streaming at once."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import pytest

import nbchat as cl
from fixture_types import Connect, OfType
from nbchat.app import App, registering_on
from nbchat.protocol import outbound
from nbchat.runtime import emitter as emitter_module
from nbchat.runtime.emitter import STRETCH, Emitter, FlushClock, flush_clock
from nbchat.transports.base import Transport


class Recorder(Transport):
    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.arrived = asyncio.Event()

    def send(self, events: list[dict[str, Any]]) -> None:
        self.batches.append(events)
        self.arrived.set()


def _streaming_app(app: App, tokens: int, *, yield_every: int | None = None) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            msg = cl.Message("")
            for i in range(tokens):
                await msg.stream_token(f"{message.content}{i} ")
                if yield_every and i % yield_every == 0:
                    await asyncio.sleep(0)
            await msg.send()


def _expected(prefix: str, tokens: int) -> str:
    return "".join(f"{prefix}{i} " for i in range(tokens))


async def test_sequence_numbers_are_strictly_increasing(app: App, connect: Connect) -> None:
    _streaming_app(app, 50, yield_every=5)
    async with connect() as client:
        for text in ("a", "b", "c"):
            await client.send(text)
        seqs = [e["seq"] for e in client.events]
        assert seqs == list(range(1, len(seqs) + 1))
        assert client.last_seq == client.session.emitter.seq


async def test_many_tokens_become_few_token_events(app: App, connect: Connect,
                                                   of_type: OfType) -> None:
    _streaming_app(app, 5000)
    async with connect() as client:
        turn = await client.send("t")
        assert turn[-1]["output"] == _expected("t", 5000)
        tokens = of_type(client, "token")
        assert 1 <= len(tokens) <= 2
        assert "".join(t["delta"] for t in tokens) == _expected("t", 5000)


async def test_tokens_across_loop_iterations_are_coalesced_by_the_timer(app: App, connect: Connect,
                                                                         of_type: OfType) -> None:
    _streaming_app(app, 2000, yield_every=1)
    async with connect(stream_interval_ms=1000) as client:
        await client.send("t")
        tokens = of_type(client, "token")
        # 2000 loop iterations, far fewer events: only the final send flushes.
        assert len(tokens) <= 3
        assert "".join(t["delta"] for t in tokens) == _expected("t", 2000)


async def test_size_bound_flushes_early(app: App, connect: Connect, of_type: OfType) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message() -> None:
            msg = cl.Message("")
            for _ in range(100):
                await msg.stream_token("x")
            await msg.send()

    async with connect(stream_max_chars=10, stream_interval_ms=10_000) as client:
        await client.send("go")
        assert [t["delta"] for t in of_type(client, "token")] == ["x" * 10] * 10


async def test_other_events_flush_pending_tokens_first(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message() -> None:
            msg = cl.Message("")
            await msg.stream_token("a")
            await msg.stream_token("b")
            await cl.Step(name="between").send()
            await msg.stream_token("c")
            await msg.send()

    async with connect(stream_interval_ms=10_000) as client:
        await client.send("go")
        reply = client.messages[-1]
        assert reply["output"] == "abc"
        trail = [(e["type"], e.get("delta") or e.get("step", {}).get("name"))
                 for e in client.events
                 if e["type"] == "token" or (e["type"] == "step" and
                                             e["step"]["id"] != client.messages[0]["id"])]
        assert trail == [("step", "Assistant"), ("token", "ab"), ("step", "between"),
                         ("token", "c"), ("step", "Assistant")]


async def test_timer_flushes_within_the_interval() -> None:
    emitter = Emitter(interval=0.02)
    transport = Recorder()
    emitter.transport = transport
    emitter.token("s", "a")
    emitter.token("s", "b")
    assert transport.batches == []  # not sent synchronously
    # One wait on the loop's clock, due within the interval (checked on the clock, not
    # with a stopwatch).
    loop = asyncio.get_running_loop()
    clock = flush_clock(loop, 0.02)
    assert [e for _, e in clock.queue] == [emitter]
    assert clock.timer is not None
    assert clock.timer.when() - loop.time() <= 0.02
    await asyncio.wait_for(transport.arrived.wait(), 2)
    assert transport.batches == [[{"type": "token", "id": "s", "delta": "ab", "seq": 1}]]


async def test_one_clock_serves_every_streaming_emitter_of_a_loop() -> None:
    """Hundreds of streaming sessions share one loop timer, not one each; an emitter
    flushed early (another event) is skipped by the clock, not flushed twice."""
    emitters, transports = [], []
    for _ in range(300):
        emitter = Emitter(interval=0.02)
        emitter.transport = Recorder()
        emitters.append(emitter)
        transports.append(emitter.transport)
    for i, emitter in enumerate(emitters):
        emitter.token("s", f"t{i}")
    early = emitters[0]
    early.emit(outbound.task_end())
    early.flush()  # the token goes out now, before the clock's turn
    loop = asyncio.get_running_loop()
    clock = flush_clock(loop, 0.02)
    assert len(clock.queue) == 300
    assert all(e._clock is clock for e in emitters)
    await asyncio.wait_for(asyncio.gather(*(t.arrived.wait() for t in transports)), 2)
    assert not clock.queue
    assert clock.timer is None
    assert transports[0].batches == [[{"type": "token", "id": "s", "delta": "t0", "seq": 1},
                                      {"type": "task_end", "seq": 2}]]
    for i, transport in enumerate(transports[1:], 1):
        assert transport.batches == [[{"type": "token", "id": "s", "delta": f"t{i}",
                                       "seq": 1}]]
    # Another interval has a clock of its own.
    assert flush_clock(loop, 0.5) is not clock


async def test_tokens_of_two_steps_are_kept_apart() -> None:
    emitter = Emitter(interval=10)
    transport = Recorder()
    emitter.transport = transport
    emitter.token("x", "1")
    emitter.token("y", "2")
    emitter.token("x", "3")
    emitter.token("y", "4", replace=True)
    emitter.flush()
    assert transport.batches == [[
        {"type": "token", "id": "x", "delta": "13", "seq": 1},
        {"type": "token", "id": "y", "delta": "4", "replace": True, "seq": 2},
    ]]


async def test_two_sessions_stream_at_once_without_cross_talk(app: App, connect: Connect) -> None:
    _streaming_app(app, 3000, yield_every=7)
    async with connect(stream_max_chars=500) as alice, connect(stream_max_chars=500) as bob:
        a_turn, b_turn = await asyncio.gather(alice.send("A"), bob.send("B"))
        assert a_turn[-1]["output"] == _expected("A", 3000)
        assert b_turn[-1]["output"] == _expected("B", 3000)
        for client, mine, other in ((alice, "A", "B"), (bob, "B", "A")):
            ids = {s["id"] for s in client.steps}
            tokens = [e for e in client.events if e["type"] == "token"]
            assert len(tokens) > 1  # they really streamed in several deltas
            assert all(t["id"] in ids for t in tokens)
            assert all(other not in t["delta"] for t in tokens)
            assert all(mine in t["delta"] for t in tokens)
            seqs = [e["seq"] for e in client.events]
            assert seqs == list(range(1, len(seqs) + 1))
        assert {s["id"] for s in alice.steps}.isdisjoint({s["id"] for s in bob.steps})


def _fire_late(clock: FlushClock, emitter: Emitter, late: float) -> None:
    """Run the clock as if its timer (due for `emitter`) fired `late` seconds late."""
    assert clock.timer is not None
    clock.timer.cancel()
    due = clock.loop.time() - late
    clock.queue[0] = (due, emitter)
    clock.when = emitter._due = due
    clock._fire()


async def test_token_wait_stretches_when_timers_run_late_and_recovers() -> None:
    """Under load the clock fires late; the next waits grow (fewer, larger frames when CPU
    is scarce) and return to the configured interval once it is on time."""
    emitter = Emitter(interval=0.03)
    loop = asyncio.get_running_loop()
    clock = flush_clock(loop, 0.03)
    emitter.token("s", "a")
    _fire_late(clock, emitter, 0.05)
    assert not emitter._tokens  # it flushed
    assert 0.19 < clock.delay <= 0.03 * STRETCH
    emitter.token("s", "b")
    assert emitter._due - loop.time() == pytest.approx(clock.delay, abs=0.01)
    _fire_late(clock, emitter, 10)   # very late: capped
    assert clock.delay == pytest.approx(0.03 * STRETCH)
    emitter.token("s", "c")
    _fire_late(clock, emitter, 0)    # on time again
    assert clock.delay == pytest.approx(0.03)
    assert not emitter._tokens
    emitter.close()


def test_a_clock_goes_with_its_loop_and_emitters() -> None:
    """Clocks are shared through a weak table: one run's loop, its emitters and its clock
    are all freed once the run is over (no table entry keeps a closed loop alive)."""

    async def stream() -> tuple[weakref.ref[asyncio.AbstractEventLoop], int]:
        emitter = Emitter(interval=0.001)
        transport = Recorder()
        emitter.transport = transport
        emitter.token("s", "a")
        await asyncio.wait_for(transport.arrived.wait(), 2)  # the clock's timer fired
        emitter.token("s", "b")  # and a wait still queued when the run ends
        loop = asyncio.get_running_loop()
        assert (id(loop), 0.001) in emitter_module._clocks
        return weakref.ref(loop), id(loop)

    loop, loop_id = asyncio.run(stream())
    gc.collect()
    assert loop() is None
    assert (loop_id, 0.001) not in emitter_module._clocks


class Broken(Transport):
    def send(self, events: list[dict[str, Any]]) -> None:
        raise RuntimeError("this transport is broken")


async def test_a_failing_flush_does_not_stall_the_other_emitters(
        caplog: pytest.LogCaptureFixture) -> None:
    broken, fine = Emitter(interval=0.001), Emitter(interval=0.001)
    broken.transport = Broken()
    fine.transport = Recorder()
    broken.token("s", "lost")
    fine.token("s", "kept")   # queued on the same clock, after the broken one
    await asyncio.wait_for(fine.transport.arrived.wait(), 2)
    assert fine.transport.batches == [[{"type": "token", "id": "s", "delta": "kept", "seq": 1}]]
    assert "flushing a chat's streamed tokens failed" in caplog.text
    fine.transport.arrived.clear()
    fine.token("s", "again")  # the clock still runs
    await asyncio.wait_for(fine.transport.arrived.wait(), 2)
