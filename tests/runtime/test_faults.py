"""Callbacks that fail, hang or block: their steps end, the user is told, the log says why."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest

import nbchat as cl
from fixture_types import Connect
from nbchat.app import App, registering_on


async def test_a_reply_cut_by_an_exception_mid_stream_is_ended(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            msg = cl.Message("")
            await msg.stream_token("half a rep")
            raise RuntimeError("the model went away")

    async with connect() as client:
        await client.send("hi")
        cut, error = client.messages[1:]
        assert cut["output"] == "half a rep"
        assert cut["streaming"] is False
        assert cut["end"] is not None
        assert cut["isError"] is True
        assert error["isError"] is True
        assert not client.session.open_steps


async def test_an_exception_leaves_steps_of_other_running_callbacks_open(app: App,
                                                                         connect: Connect) -> None:
    streaming = asyncio.Event()
    finish = asyncio.Event()
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            msg = cl.Message("")
            await msg.stream_token("still going")
            streaming.set()
            await finish.wait()
            await msg.send()

        @cl.action_callback("boom")
        async def boom(action: cl.Action) -> None:
            raise ValueError("only this callback failed")

        @cl.on_chat_start
        async def start() -> None:
            await cl.Message("hi", actions=[cl.Action(name="boom", payload={})]).send()

    async with connect() as client:
        failed = asyncio.Event()

        def on_events(batch: list[dict[str, Any]]) -> None:
            if any(e["type"] == "step" and e["step"]["isError"] for e in batch):
                failed.set()

        client.on_events = on_events
        await client.session.receive({"type": "user_message", "content": "go"})
        await streaming.wait()
        (button,) = client.actions
        await client.session.receive({"type": "action", "id": button["id"]})
        await failed.wait()
        reply = client.messages[2]
        assert reply["streaming"] is True
        assert reply["id"] in client.session.open_steps
        finish.set()
        await client.settle()
        assert client.state.steps[reply["id"]]["isError"] is False


async def test_a_callback_over_the_timeout_is_stopped_and_the_user_told(
        app: App, connect: Connect, caplog: pytest.LogCaptureFixture) -> None:
    never = asyncio.Event()
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            msg = cl.Message("")
            await msg.stream_token("thinking")
            async with cl.Step(name="tool"):
                await never.wait()

    async with connect(callback_timeout=1) as client:
        with caplog.at_level(logging.WARNING, "nbchat"):
            await client.send("hi")
        reply, tool = (s for s in client.steps if s["type"] != "user_message"
                       and not s["isError"])
        assert reply["streaming"] is False
        assert reply["cancelled"] is True
        assert tool["end"] is not None
        assert tool["cancelled"] is True
        told = client.messages[-1]
        assert told["isError"] is True
        assert "on_message did not finish within 1 s" in told["output"]
        assert "runtime.callback_timeout" in caplog.text
        # The session carries on: the next message runs.
        never.set()
        await client.send("again")
        assert client.messages[-1]["output"] == "thinking"


async def test_the_callbacks_own_timeout_error_is_an_error_not_a_timeout(app: App,
                                                                         connect: Connect) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            raise TimeoutError("the upstream API timed out")

    async with connect(callback_timeout=60, debug=True) as client:
        await client.send("hi")
        assert "TimeoutError: the upstream API timed out" in client.messages[-1]["output"]


class Released(logging.Handler):
    """Lets the blocked callback go once the watchdog's warning is logged."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.released = threading.Event()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "event loop has been blocked" in record.getMessage():
            self.records.append(record)
            self.released.set()


async def test_a_callback_blocking_the_loop_is_named_in_a_warning(app: App,
                                                                  connect: Connect) -> None:
    handler = Released()
    with registering_on(app):
        @cl.on_message
        def on_message(message: cl.Message) -> None:
            # Blocks the loop (a sync callback runs on it) until the watchdog has spoken;
            # the deadline only bounds a failing test.
            handler.released.wait(10)

    logger = logging.getLogger("nbchat")
    logger.addHandler(handler)
    try:
        async with connect(stall_warning_ms=100) as client:
            await client.send("hi")
            assert handler.released.is_set(), "no stall warning within 10 s"
            message = handler.records[0].getMessage()
            assert f"by on_message (session {client.session.id})" in message
            assert "handler.released.wait(10)" in message  # the blocking line's stack
    finally:
        logger.removeHandler(handler)
