"""Lifecycle decorators: registration, sync and async callbacks, fewer declared parameters,
replacement (also for a live session), errors becoming chat messages, and the context."""

from __future__ import annotations

import asyncio
import logging

import pytest

import nbchat as cl
from fixture_types import Connect, MakeConfig
from nbchat.app import HOOKS, App, default_app, registering_on
from nbchat.errors import ContextError
from nbchat.runtime.session import ChatSession
from nbchat.transports.memory import MemoryTransport


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_decorator_registers_on_the_current_app_and_replaces(app: App,
                                                                         hook: str) -> None:
    decorator = getattr(cl, hook)
    before = dict(default_app.hooks)

    def first() -> None: ...
    def second() -> None: ...

    with registering_on(app):
        assert decorator(first) is first
        decorator(second)
    assert app.get(hook) is second
    assert list(app.hooks) == [hook]
    assert default_app.hooks == before


def test_action_callback_registers_and_replaces(app: App) -> None:
    with registering_on(app):
        @cl.action_callback("go")
        def first(action: cl.Action) -> None: ...

        @cl.action_callback("go")
        def second(action: cl.Action) -> None: ...

    assert app.actions == {"go": second}


def test_unknown_hook_is_refused_with_the_known_ones(app: App) -> None:
    with pytest.raises(ValueError, match=r"unknown hook .on_mesage.*on_message"):
        app.register("on_mesage", lambda: None)


async def test_sync_and_async_callbacks(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_chat_start
        def start() -> None:  # sync, no parameters
            cl.user_session.set("greeted", True)

        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            await cl.Message(f"{message.content}/{cl.user_session.get('greeted')}").send()

    async with connect() as client:
        turn = await client.send("hi")
        assert [s["output"] for s in turn] == ["hi", "hi/True"]


async def test_callback_may_declare_fewer_parameters(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message() -> None:
            await cl.Message("no parameters needed").send()

        @cl.on_settings_update
        def on_settings() -> None:
            cl.user_session.set("settings_seen", True)

        @cl.action_callback("go")
        async def go() -> None:
            await cl.Message("went").send()

        @cl.on_chat_start
        async def start() -> None:
            await cl.ChatSettings([cl.Switch("s", "S")]).send()
            await cl.Message("pick", actions=[cl.Action("go")]).send()

    async with connect() as client:
        turn = await client.send("x")
        assert turn[-1]["output"] == "no parameters needed"
        await client.click("go")
        assert client.messages[-1]["output"] == "went"
        await client.update_settings(s=True)
        assert client.session.user_data["settings_seen"] is True
        assert client.errors == []


async def test_callback_with_var_args_gets_everything(app: App, connect: Connect) -> None:
    seen = []
    with registering_on(app):
        @cl.on_message
        async def on_message(*args: object) -> None:
            seen.append(args)

    async with connect() as client:
        await client.send("x")
    assert len(seen) == 1
    assert isinstance(seen[0][0], cl.Message)


async def test_reregistering_replaces_and_a_live_session_uses_the_new_handler(
        app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            await cl.Message("old").send()

    async with connect() as client:
        assert (await client.send("1"))[-1]["output"] == "old"
        with registering_on(app):  # re-running the notebook cell
            @cl.on_message
            async def on_message(message: cl.Message) -> None:
                await cl.Message("new").send()

        turn = await client.send("2")
        assert [s["output"] for s in turn] == ["2", "new"]


async def test_on_chat_start_runs_on_open_and_on_chat_end_on_close(app: App,
                                                                   connect: Connect) -> None:
    calls = []
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            calls.append("start")
            await cl.Message("welcome!").send()

        @cl.on_chat_end
        def end() -> None:
            calls.append(f"end {cl.user_session.get('id')}")

    client = connect()
    async with client:
        assert calls == ["start"]
        assert client.messages[0]["output"] == "welcome!"
        session_id = client.session.id
    assert calls == ["start", f"end {session_id}"]


async def test_resume_without_persistence_is_an_error_and_the_chat_starts(
        app: App, make_config: MakeConfig) -> None:
    calls = []
    with registering_on(app):
        @cl.on_chat_resume
        def resume(thread: object) -> None:
            calls.append("resume")

        @cl.on_chat_start
        def start() -> None:
            calls.append("start")

    received: list[dict[str, object]] = []
    session = ChatSession(app, make_config())
    session.attach(MemoryTransport(received.extend))
    await session.receive({"type": "hello", "protocolVersion": 1, "resumeThreadId": "t1"})
    await session.wait_quiet()
    await session.close()
    assert calls == ["start"]
    assert [e["code"] for e in received if e["type"] == "error"] == ["no_persistence"]


# ---------------------------------------------------------------------------- errors


async def test_callback_exception_becomes_an_error_message_without_details(
        app: App, connect: Connect, caplog: pytest.LogCaptureFixture) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            if message.content == "boom":
                raise ValueError("secret detail")
            await cl.Message("fine").send()

    async with connect() as client:
        with caplog.at_level(logging.ERROR, logger="nbchat"):
            turn = await client.send("boom")
        error = turn[-1]
        assert error["isError"] is True
        assert error["type"] == "assistant_message"
        assert "on_message" in error["output"]
        assert "secret detail" not in error["output"]
        assert "Traceback" not in error["output"]
        # The traceback goes to the log.
        logged = [r for r in caplog.records if r.exc_info]
        assert logged
        exc_info = logged[0].exc_info
        assert exc_info is not None
        assert "secret detail" in str(exc_info[1])
        # The session keeps working.
        assert (await client.send("again"))[-1]["output"] == "fine"


async def test_callback_exception_shows_the_traceback_in_debug(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_chat_start
        def start() -> None:
            raise KeyError("missing")

    async with connect(debug=True) as client:
        error = client.messages[-1]
        assert error["isError"] is True
        assert "KeyError: 'missing'" in error["output"]
        assert "Traceback (most recent call last)" in error["output"]


async def test_action_callback_exception_becomes_an_error_message(app: App,
                                                                  connect: Connect) -> None:
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await cl.Message("m", actions=[cl.Action("bad")]).send()

        @cl.action_callback("bad")
        def bad(action: cl.Action) -> None:
            raise RuntimeError("nope")

    async with connect(debug=True) as client:
        turn = await client.click("bad")
        assert turn[-1]["isError"] is True
        assert "RuntimeError: nope" in turn[-1]["output"]
        assert (await client.click("bad"))[-1]["isError"] is True  # still clickable


async def test_cancellation_is_not_swallowed(app: App, connect: Connect) -> None:
    started = asyncio.Event()
    tasks: list[asyncio.Task[object]] = []
    seen = []
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            tasks.append(asyncio.current_task())  # type: ignore[arg-type]
            started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                seen.append("cancelled")
                raise

    async with connect() as client:
        await client.session.receive({"type": "user_message", "content": "x"})
        await asyncio.wait_for(started.wait(), 5)
        await client.stop()
        assert seen == ["cancelled"]
        assert tasks[0].cancelled()
        # No error message is made of a cancellation.
        assert not any(m["isError"] for m in client.messages)


# ---------------------------------------------------------------------------- context


async def test_session_api_outside_a_session_says_what_to_do() -> None:
    with pytest.raises(ContextError, match=r"Message\.send.*outside.*ChatTestClient"):
        await cl.Message("hello").send()
    with pytest.raises(ContextError, match=r"user_session\.get"):
        cl.user_session.get("x")
    with pytest.raises(ContextError, match=r"user_session\.set"):
        cl.user_session.set("x", 1)
    with pytest.raises(ContextError, match=r"cl\.context\.session"):
        _ = cl.context.session
    with pytest.raises(ContextError, match="Step"):
        async with cl.Step("s"):
            pass
    with pytest.raises(ContextError, match="set_commands"):
        await cl.set_commands([{"id": "a", "description": "A"}])
    with pytest.raises(ContextError, match=r"ChatSettings\.send"):
        await cl.ChatSettings([]).send()
    with pytest.raises(ContextError, match=r"AskUserMessage\.send"):
        await cl.AskUserMessage("?").send()


async def test_tasks_spawned_in_a_callback_keep_the_session(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            async def reply(n: int) -> None:
                await cl.Message(f"{n}:{cl.user_session.get('id')}").send()

            await asyncio.gather(reply(1), reply(2))
            await asyncio.create_task(reply(3))

    async with connect() as client:
        turn = await client.send("go")
        sid = client.session.id
        assert sorted(s["output"] for s in turn[1:]) == [f"{n}:{sid}" for n in (1, 2, 3)]


async def test_context_gives_the_session_and_current_step(app: App, connect: Connect) -> None:
    seen: dict[str, object] = {}
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            seen["session"] = cl.context.session.id
            seen["outside"] = cl.context.current_step
            async with cl.Step("s") as s:
                seen["inside"] = cl.context.current_step is s

    async with connect() as client:
        await client.send("x")
        assert seen == {"session": client.session.id, "outside": None, "inside": True}
