"""A chat persisted through the runtime (ThreadRecorder), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.config import Config, DataConfig
from nbchat.data import NativeDataLayer, make_data_layer
from nbchat.runtime.context import current_session
from nbchat.testing import ChatTestClient


def layer(backend: str, folder: Path) -> NativeDataLayer:
    return make_data_layer(backend.removeprefix("sqlite:"), folder)


def chat_app(seen: dict[str, object], data: NativeDataLayer) -> App:
    app = App("persisted")
    with registering_on(app):

        @cl.on_chat_start
        async def start() -> None:
            await cl.Message(content="welcome").send()

        @cl.on_message
        async def reply(message: cl.Message) -> None:
            # The user's message must already be durable when on_message runs.
            thread = await data.get_thread(cl.user_session.get("thread_id"))
            assert thread is not None
            seen["stored_before_reply"] = [s["output"] for s in thread["steps"]]
            async with cl.Step(name="tool", type="tool") as step:
                step.output = "tool output"
            image = cl.Image(name="dot.png", content=b"\x89PNG\r\n\x1a\nfake")
            await cl.Message(content=f"echo {message.content}", elements=[image]).send()

        @cl.on_chat_resume
        async def resume(thread: dict[str, object]) -> None:
            seen["resumed"] = thread["id"]
            seen["settings_on_resume"] = cl.user_session.get("chat_settings")

        @cl.on_settings_update
        async def settings(values: dict[str, object]) -> None:
            seen["settings"] = values

    return app


async def test_chat_is_stored_and_resumed(backend: str, tmp_path: Path) -> None:
    data = layer(backend, tmp_path)
    seen: dict[str, object] = {}
    app = chat_app(seen, data)
    user = cl.User(identifier="ada")
    try:
        async with ChatTestClient(app, user=user, data_layer=data) as client:
            await client.send_event({"type": "settings_update", "settings": {}})
            await client.send("first question about   tides")
            assert "first question about   tides" in seen["stored_before_reply"]  # type: ignore[operator]
            answer = client.messages[-1]
            await client.feedback(answer["id"], 1, "helpful")
            thread_id = client.session.thread_id
        thread = await data.get_thread(thread_id)
        assert thread is not None
        assert thread["name"] == "first question about tides"
        assert thread["userIdentifier"] == "ada"
        outputs = [(s["type"], s["output"]) for s in thread["steps"]]
        assert outputs == [
            ("assistant_message", "welcome"),
            ("user_message", "first question about   tides"),
            ("tool", "tool output"),
            ("assistant_message", "echo first question about   tides"),
        ]
        rated = next(s for s in thread["steps"] if s["id"] == answer["id"])
        assert rated.get("feedback", {})["comment"] == "helpful"  # type: ignore[index]
        assert thread["elements"]
        assert thread["elements"][0]["name"] == "dot.png"

        async with ChatTestClient(app, user=user, data_layer=data,
                                  resume_thread=thread_id) as again:
            assert seen["resumed"] == thread_id
            assert [m["output"] for m in again.messages][:2] == [
                "welcome", "first question about   tides"]
            key = again.elements[0]["objectKey"]
            blob = await again.session.read_blob(key)
            assert blob is not None
            assert blob[0].startswith(b"\x89PNG")
            await again.send("second")
        thread = await data.get_thread(thread_id)
        assert thread is not None
        assert [s["output"] for s in thread["steps"]][-1] == "echo second"
    finally:
        await data.close()


async def test_another_users_thread_cannot_be_resumed(backend: str, tmp_path: Path) -> None:
    data = layer(backend, tmp_path)
    app = chat_app({}, data)
    try:
        async with ChatTestClient(app, user=cl.User("ada"), data_layer=data) as client:
            await client.send("private")
            thread_id = client.session.thread_id
        async with ChatTestClient(app, user=cl.User("eve"), data_layer=data,
                                  resume_thread=thread_id) as intruder:
            assert [e["code"] for e in intruder.errors] == ["unknown_thread"]
            assert [m["output"] for m in intruder.messages] == ["welcome"]
            assert intruder.session.thread_id != thread_id
        thread = await data.get_thread(thread_id)
        assert thread is not None
        assert len(thread["steps"]) == 4
    finally:
        await data.close()


async def test_resume_without_persistence_is_an_error_and_a_new_chat() -> None:
    app = chat_app({}, layer("sqlite::memory:", Path(".")))
    async with ChatTestClient(app, resume_thread="0192f000-0000-7000-8000-000000000000") as c:
        assert [e["code"] for e in c.errors] == ["no_persistence"]
        assert [m["output"] for m in c.messages] == ["welcome"]


async def test_streaming_reply_is_checkpointed_before_it_ends(tmp_path: Path) -> None:
    data = layer(f"sqlite:{tmp_path / 'chat.db'}", tmp_path)
    app = App("stream")
    half_way = asyncio.Event()
    finish = asyncio.Event()
    with registering_on(app):

        @cl.on_message
        async def reply(_: cl.Message) -> None:
            msg = cl.Message(content="")
            await msg.stream_token("partial answer")
            half_way.set()
            await finish.wait()
            await msg.stream_token(" and the rest")
            await msg.send()

    try:
        async with ChatTestClient(app, data_layer=data) as client:
            sending = asyncio.create_task(client.send("go"))
            await half_way.wait()
            client.session.emitter.flush()   # the emitter's clock, without waiting for it
            assert client.session.recorder is not None
            await client.session.recorder._queue.join()
            await data.flush()
            thread = await data.get_thread(client.session.thread_id)
            assert thread is not None
            assert thread["steps"][-1]["output"] == "partial answer"
            finish.set()
            await sending
    finally:
        await data.close()


async def test_a_streaming_reply_is_checkpointed_at_most_every_checkpoint_ms(
        tmp_path: Path) -> None:
    """Many flushes within one checkpoint interval: one write, then the newest text once
    the interval is over (not a write per flush); the end of the stream at once."""
    data = layer(f"sqlite:{tmp_path / 'chat.db'}", tmp_path)
    written: list[str] = []
    caught_up = asyncio.Event()
    finish = asyncio.Event()
    real_update = data.update_step

    async def spy(step: Any, **kwargs: Any) -> None:
        if step.get("type") == "assistant_message":
            written.append(step["output"])
            if step["output"] == "t0 t1 t2 t3 t4 ":
                caught_up.set()
        await real_update(step, **kwargs)

    data.update_step = spy  # type: ignore[method-assign,assignment]  # a spy on the instance
    app = App("checkpoints")
    with registering_on(app):

        @cl.on_message
        async def reply(_: cl.Message) -> None:
            msg = cl.Message(content="")
            session = current_session.get()
            assert session is not None
            for i in range(5):
                await msg.stream_token(f"t{i} ")
                session.emitter.flush()  # a flush per token: five batches
            await finish.wait()
            await msg.send()

    config = Config(data=DataConfig(checkpoint_ms=300))
    try:
        async with ChatTestClient(app, config=config, data_layer=data) as client:
            sending = asyncio.create_task(client.send("go"))
            await asyncio.wait_for(caught_up.wait(), 10)  # the held text, by the timer
            assert written == ["t0 ", "t0 t1 t2 t3 t4 "]
            finish.set()
            await sending
            assert written[-1] == "t0 t1 t2 t3 t4 "
            assert len(written) == 3  # the end of the stream, at once
    finally:
        await data.close()


CHILD = textwrap.dedent("""
    import asyncio, sys
    import nbchat as cl
    from nbchat.app import App, registering_on
    from nbchat.data import make_data_layer
    from nbchat.testing import ChatTestClient

    app = App("kill")
    with registering_on(app):
        @cl.on_message
        async def reply(message):
            await cl.Message(content="ok").send()

    async def main():
        data = make_data_layer(sys.argv[1], __import__("pathlib").Path(sys.argv[2]))
        async with ChatTestClient(app, data_layer=data) as client:
            print("thread", client.session.thread_id, flush=True)
            for i in range(int(sys.argv[3])):
                await client.send(f"message {i}")
                print("ack", i, flush=True)
            await asyncio.Event().wait()   # hang until killed

    asyncio.run(main())
""")


def test_acknowledged_messages_survive_sigkill(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    count = 25
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), str(tmp_path), str(count)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert child.stdout is not None
    thread_id = child.stdout.readline().split()[1]
    acks = [child.stdout.readline() for _ in range(count)]
    assert acks[-1].strip() == f"ack {count - 1}", acks
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()

    async def stored() -> list[str]:
        data = make_data_layer(str(db), tmp_path)
        try:
            thread = await data.get_thread(thread_id)
            assert thread is not None
            return [s["output"] for s in thread["steps"] if s["type"] == "user_message"]
        finally:
            await data.close()

    assert asyncio.run(stored()) == [f"message {i}" for i in range(count)]


@pytest.mark.parametrize("enabled", [True, False])
async def test_persistence_follows_config(enabled: bool, tmp_path: Path) -> None:
    from nbchat.config import Config, DataConfig

    config = Config(data=DataConfig(enabled=enabled), app_dir=tmp_path)
    pytest.importorskip("anywidget")  # the widget host decides; here we check its rule
    from nbchat.jupyter.widget import ChatWidget

    widget = ChatWidget(App("w"), config=config)
    try:
        assert (widget.session.recorder is not None) is enabled
    finally:
        widget.session.emitter.close()


async def test_many_first_messages_at_once_persist_without_nested_transactions(
        backend: str, tmp_path: Path) -> None:
    """Each first message creates a user and a thread while the batch writer runs; on
    SQLite's single connection these writes must take turns (found by serve_load.py)."""
    data = layer(backend, tmp_path)
    app = App("many")
    with registering_on(app):

        @cl.on_message
        async def reply(message: cl.Message) -> None:
            await cl.Message(content=f"re: {message.content}").send()

    async def one_chat(i: int) -> str:
        async with ChatTestClient(app, user=cl.User(f"user{i}"), data_layer=data) as client:
            await client.send(f"hello {i}")
            assert client.errors == []
            return client.session.thread_id

    try:
        thread_ids = await asyncio.gather(*(one_chat(i) for i in range(40)))
        for i, thread_id in enumerate(thread_ids):
            thread = await data.get_thread(thread_id)
            assert thread is not None, f"thread of chat {i} was not stored"
            assert [s["output"] for s in thread["steps"]] == [f"hello {i}", f"re: hello {i}"]
    finally:
        await data.close()
