"""`--watch`: saving the file reloads the app; connected clients get a notice and keep
their session; a broken save keeps the old app and says why."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nbchat.server.serve import RunningServer, ServeOptions, start_server
from serve.helpers import WsClient

APP = '''
import nbchat as cl

@cl.on_message
async def reply(message: cl.Message):
    await cl.Message(content="{word}: " + message.content).send()
'''


@pytest.fixture
async def watched(tmp_path: Path) -> AsyncIterator[tuple[RunningServer, Path]]:
    path = tmp_path / "app.py"
    path.write_text(APP.format(word="v1"), encoding="utf-8")
    server = await start_server(ServeOptions(path, port=0, watch=True, watch_interval_ms=20),
                                out=io.StringIO())
    yield server, path
    await server.stop()


def notice(event: dict[str, object]) -> bool:
    return event["type"] == "notice"


async def test_saving_the_file_reloads_the_app_for_live_sessions(
        watched: tuple[RunningServer, Path]) -> None:
    server, path = watched
    client = await WsClient.connect(server.url.replace("http://", "ws://") + "ws")
    welcome = await client.hello()
    assert (await client.reply("a"))["step"]["output"] == "v1: a"

    path.write_text(APP.format(word="version two"), encoding="utf-8")
    event = await client.until(notice)
    assert (event["level"], event["message"]) == ("info", "app reloaded")
    assert (await client.reply("b"))["step"]["output"] == "version two: b"
    assert server.host.sessions.get(welcome["sessionId"]) is not None  # same session

    path.write_text(APP.format(word="v3") + "\ndef broken(:\n", encoding="utf-8")
    failed = await client.until(notice)
    assert failed["level"] == "error"
    assert "reload failed" in failed["message"]
    assert "SyntaxError" in failed["message"]
    assert (await client.reply("c"))["step"]["output"] == "version two: c"
    await client.close()
