"""`nbchat serve` of an app that brings its own Chainlit-style layer (`@cl.data_layer`), on a
real server: chats and the REST API share that one layer, the function is called once per
server, and no default `.nbchat/nbchat.db` is made."""

from __future__ import annotations

import io
import json
from pathlib import Path

import memory_layer
from nbchat.data import AdaptedDataLayer
from nbchat.server.serve import ServeOptions, start_server
from serve.helpers import WsClient, fetch

APP = '''
import memory_layer
import nbchat as cl


@cl.data_layer
def layer():
    made = memory_layer.MemoryDataLayer()
    memory_layer.MADE.append(made)
    return made


@cl.on_message
async def echo(message: cl.Message):
    await cl.Message(content="echo: " + message.content,
                     elements=[cl.File(name="a.txt", content=b"bytes!")]).send()
'''


async def test_serve_stores_chats_and_answers_the_api_from_the_apps_layer(
        tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(APP, encoding="utf-8")
    memory_layer.MADE.clear()
    server = await start_server(ServeOptions(path, port=0), out=io.StringIO())
    try:
        assert isinstance(server.host.data_layer, AdaptedDataLayer)
        ws = server.url.replace("http://", "ws://") + "ws"
        for text in ("first chat", "second chat"):  # two sessions, one layer
            client = await WsClient.connect(ws)
            await client.hello()
            assert (await client.reply(text))["step"]["output"] == f"echo: {text}"
            await client.close()
        [layer] = memory_layer.MADE  # called once for the server, not per chat
        assert server.host.data_layer.layer is layer
        listed = await fetch(server.url + "nbchat/api/threads")
        assert listed.code == 200, listed.body
        threads = json.loads(listed.body)["data"]
        assert sorted(t["name"] for t in threads) == ["first chat", "second chat"]
        one = await fetch(server.url + f"nbchat/api/threads/{threads[0]['id']}")
        assert one.code == 200, one.body
        # The user's message is durable before the reply; the reply's writes may still be
        # on their way (write-behind), so they are checked after the shutdown flush.
        outputs = [s["output"] for s in json.loads(one.body)["steps"]]
        assert threads[0]["name"] in outputs
        assert [layer] == memory_layer.MADE  # the API did not make a layer of its own
    finally:
        await server.stop()
    assert layer.closed  # the server's own layer: closed (after flushing) at shutdown
    replies = sorted(s["output"] for s in layer.store.steps.values()
                     if s["type"] == "assistant_message")
    assert replies == ["echo: first chat", "echo: second chat"]
    assert sorted(layer.store.bytes.values()) == [b"bytes!", b"bytes!"]
    assert not (tmp_path / ".nbchat" / "nbchat.db").exists()
