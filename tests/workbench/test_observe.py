"""chat.observe() sees turns the user types in the widget (here: events as the view sends
them, through the widget's own comm handler; the comm itself is a recorder, see
tests/widget)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.config import Config, DataConfig
from nbchat.jupyter.widget import ChatWidget
from nbchat.workbench.handle import ChatHandle
from nbchat.workbench.turns import Reply
from widget_log import SentLog


async def test_observers_see_turns_typed_in_the_widget(tmp_path: Path) -> None:
    app = App("w")
    with registering_on(app):

        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            await cl.Message(content=f"echo {message.content}").send()

    widget = ChatWidget(app, config=Config(data=DataConfig(enabled=False), app_dir=tmp_path))
    widget.send = SentLog()
    chat = ChatHandle(widget)
    replies: asyncio.Queue[Reply] = asyncio.Queue()
    seen_async: asyncio.Queue[str] = asyncio.Queue()

    async def later(reply: Reply) -> None:
        await asyncio.sleep(0)  # a real coroutine: it runs as a task after the turn
        seen_async.put_nowait(reply.content)

    chat.observe(replies.put_nowait)
    chat.observe(later)
    try:
        widget._on_msg(widget, {"type": "hello", "protocolVersion": 1}, [])
        widget._on_msg(widget, {"type": "user_message", "content": "typed"}, [])
        reply = await asyncio.wait_for(replies.get(), 10)
        assert reply.prompt == "typed"
        assert reply.content == "echo typed"
        assert [m["output"] for m in reply.messages] == ["echo typed"]
        sent = await chat.send("sent")
        assert sent.content == (await asyncio.wait_for(replies.get(), 10)).content
        assert [await asyncio.wait_for(seen_async.get(), 10) for _ in range(2)] == [
            "echo typed", "echo sent"]
    finally:
        widget.session.emitter.close()
        widget.close()
