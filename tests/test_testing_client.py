"""nbchat.testing.ChatTestClient, the public way to test an app without a browser."""

from __future__ import annotations

import asyncio
import typing
from pathlib import Path

import pytest

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.config import Config
from nbchat.protocol import SERVER_EVENTS
from nbchat.testing import ChatTestClient
from nbchat.types import StepDict

APP = '''
import nbchat as cl

@cl.on_chat_start
async def start():
    await cl.Message("Welcome", actions=[cl.Action("inc", payload={"by": 1}),
                                         cl.Action("inc", payload={"by": 5})]).send()
    cl.user_session.set("count", 0)

@cl.action_callback("inc")
async def inc(action):
    count = cl.user_session.get("count") + action.payload["by"]
    cl.user_session.set("count", count)
    await cl.Message(f"count={count}").send()

@cl.step(type="tool")
async def shout(text):
    return text.upper()

@cl.on_message
async def on_message(message):
    if message.content == "name":
        answer = await cl.AskUserMessage("Your name?").send()
        await cl.Message(f"Hi {answer['output']}").send()
    elif message.content == "color":
        res = await cl.AskActionMessage("Color?", actions=[cl.Action("red"),
                                                           cl.Action("blue")]).send()
        await cl.Message(f"color={res['name']}").send()
    elif message.content == "file":
        files = await cl.AskFileMessage("File?", accept=["text/plain"]).send()
        with open(files[0].path) as f:
            await cl.Message(f"{files[0].name}: {f.read()}").send()
    else:
        await cl.Message(await shout(message.content)).send()
'''

STEP_KEYS = {k for k, v in typing.get_type_hints(StepDict, include_extras=True).items()
             if typing.get_origin(v) is not typing.NotRequired}


@pytest.fixture
def app_path(tmp_path: Path) -> Path:
    path = tmp_path / "app.py"
    path.write_text(APP, encoding="utf-8")
    return path


async def test_send_returns_the_turn_and_views_follow_the_conversation(app_path: Path) -> None:
    async with ChatTestClient(app_path, config=Config()) as client:
        assert [m["output"] for m in client.messages] == ["Welcome"]
        turn = await client.send("hello")
        assert [(s["type"], s["output"]) for s in turn] == [
            ("user_message", "hello"), ("tool", "HELLO"), ("assistant_message", "HELLO")]
        assert [m["type"] for m in client.messages] == [
            "assistant_message", "user_message", "assistant_message"]
        assert [s["name"] for s in client.steps] == ["Assistant", "User", "shout",
                                                     "Assistant"]
        assert client.steps[2]["parentId"] is None
        for step in client.steps:
            assert set(step) >= STEP_KEYS
            assert step["threadId"] == client.session.thread_id
        assert client.pending_ask is None
        assert client.events[0]["type"] == "welcome"


async def test_answer_choose_upload_click(app_path: Path, tmp_path: Path) -> None:
    async with ChatTestClient(app_path, config=Config()) as client:
        await client.send("name")
        assert (client.pending_ask or {}).get("kind") == "text"
        assert (await client.answer("Ada"))[-1]["output"] == "Hi Ada"

        await client.send("color")
        assert (client.pending_ask or {}).get("kind") == "action"
        assert (await client.choose("blue"))[-1]["output"] == "color=blue"

        upload = tmp_path / "note.txt"
        upload.write_text("content!")
        await client.send("file")
        assert (await client.upload([upload]))[-1]["output"] == "note.txt: content!"

        assert (await client.click("inc", payload={"by": 5}))[-1]["output"] == "count=5"
        assert (await client.click("inc"))[-1]["output"] == "count=6"
        assert client.pending_ask is None


async def test_helpers_say_what_is_wrong(app_path: Path) -> None:
    async with ChatTestClient(app_path, config=Config()) as client:
        with pytest.raises(AssertionError, match="expected a pending text ask, found none"):
            await client.answer("x")
        await client.send("color")
        with pytest.raises(AssertionError, match=r"offers no action 'green'.*'red', 'blue'"):
            await client.choose("green")
        with pytest.raises(AssertionError, match="expected a pending file ask, found action"):
            await client.upload([])
        with pytest.raises(AssertionError, match="no action 'dec' is shown"):
            await client.click("dec")


async def test_a_busy_app_fails_the_wait_with_a_hint() -> None:
    app = App()
    release = asyncio.Event()
    with registering_on(app):
        @cl.on_message
        async def on_message() -> None:
            await release.wait()

    async with ChatTestClient(app, config=Config(), timeout=0.05) as client:
        with pytest.raises(AssertionError, match=r"still busy after 0\.05 s"):
            await client.send("x")
        release.set()
        await client.settle()


async def test_stop_and_events(app_path: Path) -> None:
    async with ChatTestClient(app_path, config=Config()) as client:
        await client.send("name")
        await client.stop()
        assert client.pending_ask is None
        assert any(e["type"] == "ask_cancel" for e in client.events)


async def test_every_event_received_matches_the_schema(app_path: Path, tmp_path: Path) -> None:
    upload = tmp_path / "n.txt"
    upload.write_text("x")
    async with ChatTestClient(app_path, config=Config()) as client:
        await client.send("hi")
        await client.send("name")
        await client.answer("A")
        await client.send("file")
        await client.upload([upload])
        await client.click("inc")
        await client.feedback(client.messages[-1]["id"], 1)
        await client.send_event({"type": "bogus"})
        kinds = set()
        for event in client.events:
            cls = SERVER_EVENTS[event["type"]]
            hints = typing.get_type_hints(cls)
            required = cls.__required_keys__  # type: ignore[attr-defined]
            assert set(event) <= set(hints), event
            assert required <= set(event), event
            kinds.add(event["type"])
        assert {"welcome", "step", "action", "ask", "ask_cancel", "upload_done", "feedback",
                "error", "task_start", "task_end"} <= kinds


async def test_default_app_is_used_without_an_app() -> None:
    from nbchat.app import default_app

    saved = dict(default_app.hooks)
    try:
        @cl.on_chat_start
        async def start() -> None:
            await cl.Message("from the default app").send()

        async with ChatTestClient(config=Config()) as client:
            assert client.messages[0]["output"] == "from the default app"
    finally:
        default_app.hooks.clear()
        default_app.hooks.update(saved)


async def test_notebook_path(tmp_path: Path) -> None:
    import json

    path = tmp_path / "app.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "metadata": {},
                                           "source": APP, "outputs": [],
                                           "execution_count": None}],
                                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    async with ChatTestClient(path, config=Config()) as client:
        assert (await client.send("nb"))[-1]["output"] == "NB"


async def test_client_outside_async_with_says_so() -> None:
    client = ChatTestClient(App(), config=Config())
    with pytest.raises(AssertionError, match="not open"):
        _ = client.session
