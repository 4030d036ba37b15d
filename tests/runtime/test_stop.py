"""Stop: the running on_message is cancelled, its open steps end marked cancelled, on_stop
runs, and the session keeps working."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nbchat as cl
from fixture_types import Connect, OfType
from nbchat.app import App, registering_on
from nbchat.config import Config, UIConfig


async def test_stop_cancels_the_running_message_and_marks_open_steps(app: App, connect: Connect,
                                                                      of_type: OfType) -> None:
    started = asyncio.Event()
    stopped = []
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            if message.content != "long":
                await cl.Message(f"echo {message.content}").send()
                return
            async with cl.Step(name="work"):
                manual = cl.Step(name="manual")
                await manual.send()
                reply = cl.Message("")
                await reply.stream_token("partial")
                started.set()
                await asyncio.Event().wait()

        @cl.on_stop
        async def on_stop() -> None:
            stopped.append(cl.user_session.get("id"))
            await cl.Message("stopped").send()

    async with connect() as client:
        await client.session.receive({"type": "user_message", "content": "long"})
        await asyncio.wait_for(started.wait(), 5)
        await client.stop()

        steps = {s["name"] or s["output"]: s for s in client.steps}
        for name in ("work", "manual"):
            assert steps[name].get("cancelled") is True, name
            assert steps[name]["end"] is not None
            assert steps[name]["isError"] is False
        streamed = next(s for s in client.steps if s["output"] == "partial")
        assert streamed.get("cancelled") is True
        assert streamed["streaming"] is False
        assert stopped == [client.session.id]
        # Chainlit's stop message, then what on_stop says.
        assert [m["output"] for m in client.messages[-2:]] == ["Task manually stopped.",
                                                               "stopped"]
        assert client.messages[-2]["name"] == "Assistant"
        assert "cancelled" not in client.messages[-2]
        # Posted before the cancellation, as Chainlit does: it comes ahead of the events
        # that close the stopped steps.
        ids = [e["step"]["id"] if e["type"] == "step" else None for e in client.events]
        stop_message = ids.index(client.messages[-2]["id"])
        closed = next(i for i, e in enumerate(client.events)
                      if e["type"] == "step" and e["step"].get("cancelled"))
        assert stop_message < closed
        assert client.session.open_steps == {}
        # The app is idle: every task_start has its task_end.
        assert len(of_type(client, "task_start")) == len(of_type(client, "task_end"))
        assert client.state.running == 0
        # The session keeps working.
        turn = await client.send("again")
        assert turn[-1]["output"] == "echo again"
        assert "cancelled" not in turn[-1]


async def test_stop_when_idle_runs_on_stop_and_the_stop_message_is_configurable(
        app: App, connect: Connect, tmp_path: Path) -> None:
    calls = []
    with registering_on(app):
        @cl.on_stop
        def on_stop() -> None:
            calls.append("stop")

    async with connect() as client:
        await client.stop()
        assert calls == ["stop"]
        assert [m["output"] for m in client.messages] == ["Task manually stopped."]
        assert client.errors == []
    quiet = Config(ui=UIConfig(stop_message=""), app_dir=tmp_path)
    async with connect(config=quiet) as client:
        await client.stop()
        assert calls == ["stop", "stop"]
        assert client.messages == []


async def test_stop_cancels_child_tasks_of_gather(app: App, connect: Connect) -> None:
    started = asyncio.Event()
    cancelled = []
    with registering_on(app):
        @cl.on_message
        async def on_message() -> None:
            async def child(n: int) -> None:
                try:
                    if n == 1:
                        started.set()
                    await asyncio.Event().wait()
                except asyncio.CancelledError:
                    cancelled.append(n)
                    raise

            await asyncio.gather(child(1), child(2))

    async with connect() as client:
        await client.session.receive({"type": "user_message", "content": "x"})
        await asyncio.wait_for(started.wait(), 5)
        await client.stop()
        assert sorted(cancelled) == [1, 2]
