"""Sessions: replay after a reconnect, snapshots, edit_message, feedback, and memory."""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import nbchat as cl
from fixture_types import Connect, MakeConfig, OfType
from nbchat.app import App, registering_on
from nbchat.runtime.session import ChatSession, SessionRegistry
from nbchat.transports.memory import MemoryTransport


@pytest.fixture
def echo_app(app: App) -> App:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            msg = cl.Message("")
            for word in f"echo {message.content}".split(" "):
                await msg.stream_token(word + " ")
            await msg.send()
    return app


# ---------------------------------------------------------------------------- replay


async def test_reconnect_replays_exactly_the_missed_events(echo_app: App, connect: Connect) -> None:
    async with connect() as client:
        await client.send("one")
        last = client.last_seq
        received = len(client.events)
        client.disconnect()
        await client.send("two")
        await client.send("three")
        assert len(client.events) == received  # nothing arrived while disconnected
        server_seq = client.session.emitter.seq
        assert server_seq > last

        await client.reconnect(last_seq=last)
        replayed = client.events[received:]
        assert [e["seq"] for e in replayed] == list(range(last + 1, server_seq + 1))
        assert not any(e["type"] in ("welcome", "snapshot") for e in replayed)
        assert [m["output"] for m in client.messages] == [
            "one", "echo one ", "two", "echo two ", "three", "echo three "]
        # And the live connection carries on after the replay.
        await client.send("four")
        seqs = [e["seq"] for e in client.events]
        assert seqs == list(range(1, len(seqs) + 1))


async def test_reconnect_when_nothing_was_missed(echo_app: App, connect: Connect) -> None:
    async with connect() as client:
        await client.send("one")
        received = len(client.events)
        await client.reconnect(last_seq=client.last_seq)
        assert len(client.events) == received


async def test_snapshot_when_the_replay_buffer_was_exceeded(echo_app: App, connect: Connect,
                                                            of_type: OfType) -> None:
    async with connect(replay_buffer=8) as client:
        await client.send("one")
        last = client.last_seq
        client.disconnect()
        for text in ("two", "three", "four"):
            await client.send(text)
        received = len(client.events)
        await client.reconnect(last_seq=last)
        new = client.events[received:]
        assert [e["type"] for e in new] == ["welcome", "snapshot"]
        snapshot = new[1]
        assert [s["output"] for s in snapshot["steps"]] == [
            "one", "echo one ", "two", "echo two ", "three", "echo three ", "four",
            "echo four "]
        assert snapshot["running"] is False
        assert [m["output"] for m in client.messages][-1] == "echo four "
        assert new[1]["seq"] == new[0]["seq"] + 1 == client.session.emitter.seq


async def test_fresh_client_gets_a_snapshot_with_the_pending_ask(app: App,
                                                                 connect: Connect) -> None:
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await cl.ChatSettings([cl.Switch("s", "S")]).send()
            await cl.Message("hi", actions=[cl.Action("a")]).send()
            await cl.AskUserMessage("name?").send()

    async with connect() as client:
        ask = client.pending_ask
        assert ask is not None
        await client.reconnect()  # a new page: no last_seq, starts empty
        snapshot = client.events[-1]
        assert snapshot["type"] == "snapshot"
        assert snapshot["ask"]["askId"] == ask["askId"]
        assert [a["name"] for a in snapshot["actions"]] == ["a"]
        assert snapshot["settings"]["inputs"][0]["id"] == "s"
        assert snapshot["running"] is True
        assert client.state.ask is not None
        assert client.state.ask["askId"] == ask["askId"]
        assert [m["output"] for m in client.messages] == ["hi", "name?"]
        await client.answer("Ada")
        assert client.pending_ask is None


# ---------------------------------------------------------------------------- edit


async def test_edit_message_reruns_from_the_edited_message(echo_app: App, connect: Connect,
                                                            of_type: OfType) -> None:
    async with connect() as client:
        first = (await client.send("a"))[0]
        await client.send("b")
        removed = [m["id"] for m in client.messages[1:]]
        turn = await client.edit(first["id"], "A")
        assert [m["output"] for m in client.messages] == ["A", "echo A "]
        assert client.messages[0]["id"] == first["id"]
        assert client.messages[0]["createdAt"] == first["createdAt"]
        assert {e["id"] for e in of_type(client, "step_delete")} == set(removed)
        assert turn[-1]["output"] == "echo A "


async def test_edit_message_refusals(echo_app: App, connect: Connect) -> None:
    async with connect() as client:
        turn = await client.send("a")
        await client.edit(turn[-1]["id"], "not mine")
        assert client.errors[-1]["code"] == "unknown_step"
        await client.edit("missing", "x")
        assert client.errors[-1]["code"] == "unknown_step"
        assert [m["output"] for m in client.messages] == ["a", "echo a "]

    async with connect(edit_message=False) as client:
        turn = await client.send("a")
        await client.edit(turn[0]["id"], "b")
        assert client.errors[-1]["code"] == "forbidden"
        assert [m["output"] for m in client.messages] == ["a", "echo a "]


# ---------------------------------------------------------------------------- feedback


async def test_feedback_on_assistant_steps(echo_app: App, connect: Connect,
                                           of_type: OfType) -> None:
    async with connect() as client:
        _user, reply = await client.send("a")
        await client.feedback(reply["id"], 1, comment="great")
        stored = of_type(client, "feedback")[-1]["feedback"]
        assert stored["forId"] == reply["id"]
        assert stored["value"] == 1
        assert stored["comment"] == "great"
        assert stored["threadId"] == client.session.thread_id
        assert client.state.steps[reply["id"]]["feedback"] == stored
        # A second rating replaces the first and keeps its id.
        await client.feedback(reply["id"], 0)
        again = of_type(client, "feedback")[-1]["feedback"]
        assert again["id"] == stored["id"]
        assert again["value"] == 0
        await client.send_event({"type": "feedback_delete", "stepId": reply["id"]})
        assert client.state.steps[reply["id"]]["feedback"] is None
        assert client.session.feedback == {}


async def test_feedback_refusals(echo_app: App, connect: Connect, of_type: OfType) -> None:
    async with connect() as client:
        user, reply = await client.send("a")
        await client.feedback(user["id"], 1)
        assert client.errors[-1]["code"] == "unknown_step"
        await client.feedback("missing", 1)
        assert client.errors[-1]["code"] == "unknown_step"
        await client.feedback(reply["id"], 2)
        assert client.errors[-1]["code"] == "bad_event"
        await client.feedback(reply["id"], 1, comment="x" * 10_001)
        assert "10,000" in client.errors[-1]["message"]
        assert of_type(client, "feedback") == []
        assert client.session.feedback == {}


# ---------------------------------------------------------------------------- lifecycle


async def test_events_before_hello_are_refused(app: App, make_config: MakeConfig) -> None:
    received: list[dict[str, Any]] = []
    session = ChatSession(app, make_config())
    session.attach(MemoryTransport(received.extend))
    await session.receive({"type": "user_message", "content": "early"})
    session.emitter.flush()
    assert [(e["type"], e["code"]) for e in received] == [("error", "not_started")]
    await session.receive({"type": "hello", "protocolVersion": 99})
    session.emitter.flush()
    assert received[-1]["code"] == "unsupported_version"
    assert "version 1" in received[-1]["message"]
    assert session.started is False
    await session.close()


async def test_registry_closes_sessions(app: App, make_config: MakeConfig) -> None:
    ended = []
    with registering_on(app):
        @cl.on_chat_end
        def end() -> None:
            ended.append(cl.user_session.get("id"))

    registry = SessionRegistry()
    sessions = [registry.add(ChatSession(app, make_config())) for _ in range(3)]
    for session in sessions:
        await session.receive({"type": "hello", "protocolVersion": 1})
        await session.wait_quiet()
    assert len(registry) == 3
    assert registry.get(sessions[0].id) is sessions[0]
    await registry.close(sessions[0].id)
    await registry.close_all()
    assert len(registry) == 0
    assert sorted(ended) == sorted(s.id for s in sessions)
    assert all(s.closed for s in sessions)


async def _growth(cycle: Callable[[int], Awaitable[object]], n: int) -> int:
    """Memory blocks still allocated after running `cycle` n times (after a warm-up).

    sys.getallocatedblocks() costs nothing per allocation, unlike tracemalloc (which made
    these tests take a minute): a session that kept even one object would add n blocks."""
    # One timer for the whole run: cycles use clients without timers (timeout=None), since
    # each timed wait leaves a cancelled timer in the loop's heap for its full timeout, and
    # how many are still there when counting depends on the machine's speed.
    async with asyncio.timeout(600):
        await cycle(200)  # warm up caches, interned strings, free lists
        gc.collect()
        before = sys.getallocatedblocks()
        await cycle(n)
        gc.collect()
        return sys.getallocatedblocks() - before


async def test_ten_thousand_sessions_leave_memory_flat(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            cl.user_session.set("payload", "x" * 1000)
            async with cl.Step(name="setup"):
                await cl.Message("welcome").send()

    async def cycle(n: int) -> None:
        for _ in range(n):
            async with connect(timeout=None):
                pass

    growth = await _growth(cycle, 10_000)
    # Each session holds hundreds of blocks while open; keeping one object each would
    # leave 10,000 behind.
    assert growth < 1_000, f"{growth} blocks more after 10,000 sessions"


async def test_sessions_using_everything_release_it(app: App, connect: Connect) -> None:
    # (Uploads are left out: each makes a uniquely named folder, and pathlib interns path
    # parts, so the interpreter's interned-string table grows by itself. That the folders
    # are removed is tested in test_ask.py.)
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            cl.user_session.set("payload", "x" * 1000)
            await cl.ChatSettings([cl.Switch("s", "S")]).send()
            await cl.Message("hi", elements=[cl.Image(name="i", content=b"\x89PNG" * 100)],
                             actions=[cl.Action("a")]).send()

        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            async with cl.Step(name="tool"):
                await cl.Message("").stream_token("partial")
            await cl.Message("done").send()

    async def cycle(n: int) -> None:
        for _ in range(n):
            async with connect(timeout=None) as client:
                await client.send("hi")
                await client.feedback(client.messages[-1]["id"], 1)
                await client.click("a")

    # Allocator noise (objects gc does not track: strings, bytes) moves the count by a few
    # hundred blocks either way; a session keeping one object adds 2,000.
    growth = await _growth(cycle, 2_000)
    assert growth < 800, f"{growth} blocks more after 2,000 sessions"


async def test_replay_sends_each_missed_event_once_and_in_order(app: App,
                                                                make_config: MakeConfig) -> None:
    # Events still pending when the client comes back belong to the replay: sent before it
    # they arrived ahead of older events and then again inside it.
    session = ChatSession(app, make_config())
    first: list[dict[str, Any]] = []
    session.attach(MemoryTransport(first.extend))
    await session.receive({"type": "hello", "protocolVersion": 1})
    session.emitter.flush()
    last = first[-1]["seq"]
    session.detach()
    session.error("e1", "flushed while the client was away")
    session.emitter.flush()
    session.error("e2", "pending when the client comes back")
    session.error("e3", "pending as well")
    again: list[dict[str, Any]] = []
    session.attach(MemoryTransport(again.extend))
    await session.receive({"type": "hello", "protocolVersion": 1, "lastSeq": last})
    assert [e["seq"] for e in again] == [last + 1, last + 2, last + 3]
    assert [e["code"] for e in again] == ["e1", "e2", "e3"]
    await session.close()
