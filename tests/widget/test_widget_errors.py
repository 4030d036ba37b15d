"""A failing callback in the notebook shows its traceback (collapsed, under the error
message): the notebook's viewer wrote the code and cannot read the kernel's log. A served
page keeps showing one line unless runtime.debug (the server's log has the rest)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.config import Config, DataConfig, RuntimeConfig
from nbchat.jupyter.widget import ChatWidget
from nbchat.runtime.callback_errors import TRACEBACK_STEP
from serve.helpers import WsClient
from serve.test_serve_app import serve
from widget_log import SentLog


def failing_app() -> App:
    app = App("fails")
    with registering_on(app):

        @cl.on_message
        async def reply(message: cl.Message) -> None:
            raise ValueError(f"cannot answer {message.content!r}")

    return app


def is_traceback_step(event: dict[str, Any]) -> bool:
    return (event.get("type") == "step" and event["step"]["name"] == TRACEBACK_STEP
            and event["step"]["end"] is not None)


async def test_the_notebook_shows_the_traceback_collapsed_under_the_error(
        tmp_path: Path) -> None:
    widget = ChatWidget(failing_app(),
                        config=Config(data=DataConfig(enabled=False), app_dir=tmp_path))
    sent = SentLog()
    widget.send = sent
    try:
        widget._dispatch({"type": "hello", "protocolVersion": 1}, [])
        await sent.until(lambda e: e.get("type") == "welcome")
        widget._dispatch({"type": "user_message", "content": "hi"}, [])
        trace = (await sent.until(is_traceback_step))["step"]
        error = next(e["step"] for e in sent.events if e.get("type") == "step"
                     and e["step"]["id"] == trace["parentId"])
        assert error["isError"] is True
        assert error["output"] == "ValueError: cannot answer 'hi' (in on_message)"
        assert trace["output"].startswith("Traceback (most recent call last):")
        assert 'raise ValueError(f"cannot answer {message.content!r}")' in trace["output"]
        assert trace["output"].rstrip().endswith("ValueError: cannot answer 'hi'")
        assert trace["defaultOpen"] is False          # collapsed: one click shows it
        assert trace["language"] == "text"
        assert trace["isError"] is False              # the UI would open an error step
        assert widget.session.open_steps == {}        # finished, not left running
    finally:
        widget.session.emitter.close()
        widget.close()


@contextlib.asynccontextmanager
async def served_chat(tmp_path: Path, config: Config) -> AsyncIterator[WsClient]:
    gen = serve(tmp_path, config=config, app=failing_app())
    running = await anext(gen)
    ws = await WsClient.connect(running.ws, {"X-Test-User": "visitor"})
    try:
        await ws.hello()
        yield ws
    finally:
        await ws.close()
        with contextlib.suppress(StopAsyncIteration):
            await anext(gen)


async def test_a_served_page_shows_no_traceback_unless_debug(tmp_path: Path) -> None:
    async with served_chat(tmp_path / "plain", Config(app_dir=tmp_path)) as ws:
        await ws.send({"type": "user_message", "content": "hi"})
        error = await ws.until(lambda e: e["type"] == "step" and e["step"]["isError"])
        await ws.until(lambda e: e["type"] == "task_end")
        assert error["step"]["output"] == ("An error occurred in on_message. "
                                           "The details are in the server log.")
        assert not any(e["type"] == "step" and e["step"]["name"] == TRACEBACK_STEP
                       for e in ws.events)
    debug = Config(runtime=RuntimeConfig(debug=True), app_dir=tmp_path)
    async with served_chat(tmp_path / "debug", debug) as ws:
        await ws.send({"type": "user_message", "content": "hi"})
        error = await ws.until(lambda e: e["type"] == "step" and e["step"]["isError"])
        assert error["step"]["output"].startswith("ValueError: cannot answer 'hi'\n\n```text\n"
                                                  "Traceback (most recent call last):")
