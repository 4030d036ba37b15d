"""ChatWidget's Python side without a browser: the comm is replaced by a recorder of what
the widget would send (the real comm path is covered by tests/e2e/notebook)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.config import Config, DataConfig
from nbchat.jupyter.widget import ChatWidget
from widget_log import SentLog


async def test_reset_starts_a_fresh_chat_and_ends_the_old_one(tmp_path: Path) -> None:
    ended = asyncio.Event()
    app = App("w")
    with registering_on(app):

        @cl.on_chat_start
        async def start() -> None:
            await cl.Message(content="hi").send()

        @cl.on_chat_end
        def end() -> None:
            ended.set()

    widget = ChatWidget(app, config=Config(data=DataConfig(enabled=False), app_dir=tmp_path))
    sent = SentLog()
    widget.send = sent
    try:
        widget._dispatch({"type": "hello", "protocolVersion": 1}, [])
        first = await sent.until(lambda e: e.get("type") == "welcome")
        widget._dispatch({"host": "reset"}, [])
        widget._dispatch({"type": "hello", "protocolVersion": 1}, [])
        second = await sent.until(lambda e: e.get("type") == "welcome"
                                  and e["sessionId"] != first["sessionId"])
        await ended.wait()
        assert second["threadId"] != first["threadId"]
        assert widget.session.id == second["sessionId"]
    finally:
        widget.session.emitter.close()
        widget.close()


async def test_file_requests_answer_only_this_chats_bytes(tmp_path: Path) -> None:
    app = App("w")
    with registering_on(app):

        @cl.on_chat_start
        async def start() -> None:
            await cl.Message(content="img", elements=[
                cl.Image(name="a.png", content=b"\x89PNG\r\n\x1a\nxx")]).send()

    widget = ChatWidget(app, config=Config(data=DataConfig(enabled=False), app_dir=tmp_path))
    sent = SentLog()
    widget.send = sent
    try:
        widget._dispatch({"type": "hello", "protocolVersion": 1}, [])
        element = (await sent.until(lambda e: e.get("type") == "element"))["element"]
        widget._dispatch({"host": "file_request", "requestId": "r1",
                          "objectKey": element["objectKey"]}, [])
        ok = await sent.until(lambda e: e.get("requestId") == "r1")
        assert ok["mime"] == "image/png"
        widget._dispatch({"host": "file_request", "requestId": "r2",
                          "objectKey": "../../etc/passwd"}, [])
        refused = await sent.until(lambda e: e.get("requestId") == "r2")
        assert "error" in refused
        # A malformed request (protocol/host_messages.py) is answered, not left to time out.
        widget._dispatch({"host": "file_request", "requestId": "r3", "objectKey": 7}, [])
        bad = await sent.until(lambda e: e.get("requestId") == "r3")
        assert "must be string" in bad["error"]
    finally:
        widget.session.emitter.close()
        widget.close()


async def test_a_widget_tells_the_history_panel_where_its_kernel_keeps_chats(
        tmp_path: Path, private_jupyter_runtime: Path) -> None:
    from nbchat.jupyter.kernel_stores import FOLDER, KernelStores

    folder = tmp_path / "sub folder"
    folder.mkdir()
    widget = ChatWidget(App("w"), config=Config(app_dir=folder))
    try:
        assert widget.history_store
        stores = KernelStores(private_jupyter_runtime / FOLDER)
        opened = stores.open(widget.history_store)
        assert opened is not None
        assert str(opened[0].path).startswith(str(folder))  # type: ignore[attr-defined]
        await stores.close()
        off = ChatWidget(App("w"), config=Config(data=DataConfig(enabled=False), app_dir=folder))
        assert off.history_store == ""
        off.close()
    finally:
        widget.close()


async def test_widgets_store_chats_in_the_apps_own_layer(tmp_path: Path) -> None:
    from memory_layer import MemoryDataLayer

    made: list[MemoryDataLayer] = []
    app = App("plugged")
    with registering_on(app):

        @cl.data_layer
        def make_layer() -> MemoryDataLayer:
            made.append(MemoryDataLayer())
            return made[-1]

        @cl.on_message
        async def echo(message: cl.Message) -> None:
            await cl.Message(content="echo: " + message.content).send()

    widgets = [ChatWidget(app, config=Config(app_dir=tmp_path)) for _ in range(2)]
    try:
        for i, widget in enumerate(widgets):
            sent = SentLog()
            widget.send = sent
            widget._dispatch({"type": "hello", "protocolVersion": 1}, [])
            await sent.until(lambda e: e.get("type") == "welcome")
            widget._dispatch({"type": "user_message", "content": f"m{i}"}, [])
            await sent.until(lambda e, i=i: e.get("type") == "step"
                             and e["step"]["output"] == f"echo: m{i}")
            # The app's layer lives in this kernel only: no store for the extension to
            # open (which would make a .nbchat/nbchat.db).
            assert widget.history_store == ""
        [layer] = made  # one per app in the kernel, shared by its widgets
        for widget in widgets:  # the recorders' writes reached the layer's queue…
            assert widget.session.recorder is not None
            await widget.session.recorder._queue.join()
        recorder = widgets[0].session.recorder
        assert recorder is not None
        await recorder.data.flush()  # …and the queue the layer
        outputs = sorted(s["output"] for s in layer.store.steps.values())
        assert outputs == ["echo: m0", "echo: m1", "m0", "m1"]
        assert len(layer.store.threads) == 2
        assert not (tmp_path / ".nbchat" / "nbchat.db").exists()
    finally:
        for widget in widgets:
            widget.session.emitter.close()
            widget.close()


async def test_a_notebook_chat_has_client_type_notebook(tmp_path: Path) -> None:
    app = App("kind")
    with registering_on(app):

        @cl.on_chat_start
        async def start() -> None:
            await cl.Message(content=cl.context.session.client_type).send()

    widget = ChatWidget(app, config=Config(data=DataConfig(enabled=False), app_dir=tmp_path))
    sent = SentLog()
    widget.send = sent
    try:
        widget._dispatch({"type": "hello", "protocolVersion": 1}, [])
        shown = await sent.until(lambda e: e.get("type") == "step"
                                 and e["step"]["output"] == "notebook")
        assert shown["step"]["type"] == "assistant_message"
    finally:
        widget.session.emitter.close()
        widget.close()


async def test_asset_requests_answer_the_plotly_bundle_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    static = tmp_path / "static"  # stands in for the built nbchat/static/
    static.mkdir()
    (static / "plotly.js").write_bytes(b"export default {};")
    (tmp_path / "secret.txt").write_text("outside")
    monkeypatch.setattr("nbchat.jupyter.widget.STATIC", static)
    widget = ChatWidget(App("w"), config=Config(data=DataConfig(enabled=False),
                                                app_dir=tmp_path))
    answers: dict[str, tuple[dict[str, Any], list[bytes] | None]] = {}
    got = asyncio.Event()

    def record(content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        if "requestId" in content:
            answers[content["requestId"]] = (content, buffers)
            got.set()

    widget.send = record
    try:
        widget._dispatch({"host": "asset_request", "requestId": "a1", "name": "plotly.js"}, [])
        widget._dispatch({"host": "asset_request", "requestId": "a2", "name": "../secret.txt"}, [])
        while len(answers) < 2:
            got.clear()
            await asyncio.wait_for(got.wait(), 10)
        ok, buffers = answers["a1"]
        assert ok["mime"] == "text/javascript"
        assert buffers == [b"export default {};"]
        assert "no bundle" in answers["a2"][0]["error"]
    finally:
        widget.close()
