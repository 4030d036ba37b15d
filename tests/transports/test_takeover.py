"""A reconnect while the old connection is still open (a dead link, a second tab)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import tornado.httpserver
import tornado.netutil
import tornado.web
import tornado.websocket

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.config import Config, ProjectConfig
from nbchat.runtime.hosting import ChatHost
from nbchat.transports.websocket import ChatSocketHandler
from wsclient import WsClient


@dataclass
class Closes:
    """Server-side closes of connections, for tests to wait on instead of sleeping."""

    seen: asyncio.Queue[ChatSocketHandler] = field(default_factory=asyncio.Queue)
    ended: asyncio.Event = field(default_factory=asyncio.Event)


class SignallingHandler(ChatSocketHandler):
    def initialize(self, closes: Closes, **kwargs: Any) -> None:  # type: ignore[override]
        super().initialize(**kwargs)
        self.closes = closes

    def on_close(self) -> None:
        super().on_close()
        self.closes.seen.put_nowait(self)


@dataclass
class Served:
    url: str
    host: ChatHost
    closes: Closes


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    closes = Closes()
    app = App("takeover")
    with registering_on(app):

        @cl.on_message
        async def echo(message: cl.Message) -> None:
            await cl.Message(content=f"echo {message.content}").send()

        @cl.on_chat_end
        def end() -> None:
            closes.ended.set()

    # A timeout of 0: a session marked disconnected is closed on the next loop turn.
    host = ChatHost(app, Config(project=ProjectConfig(session_timeout=0)))
    application = tornado.web.Application([(r"/ws", SignallingHandler, {
        "host": host, "identify": lambda _: cl.User(identifier="ada"), "closes": closes})])
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    http = tornado.httpserver.HTTPServer(application)
    http.add_sockets(sockets)
    yield Served(f"ws://127.0.0.1:{sockets[0].getsockname()[1]}/ws", host, closes)
    http.stop()
    await http.close_all_connections()
    await host.close()


async def open_client(served: Served) -> WsClient:
    return WsClient(await tornado.websocket.websocket_connect(served.url))


def reply(text: str) -> Any:
    return lambda e: e["type"] == "step" and e["step"]["output"] == text


async def test_the_old_connection_closing_late_leaves_the_new_one_the_session(
        served: Served) -> None:
    old = await open_client(served)
    welcome = await old.hello()
    await old.send({"type": "user_message", "content": "one"})
    await old.until(reply("echo one"))
    session = served.host.sessions.get(welcome["sessionId"])
    assert session is not None

    new = await open_client(served)
    await new.send({"type": "hello", "protocolVersion": 1, "sessionId": welcome["sessionId"],
                    "lastSeq": old.events[-1]["seq"]})
    # The old tab reads on (tornado's client answers the close frame only when read).
    drained = asyncio.ensure_future(drain(old))
    # The takeover closes the old connection; its close is handled after the new attach.
    closed = await asyncio.wait_for(served.closes.seen.get(), 10)
    assert closed.transport is not session.emitter.transport
    # Still attached to the new connection, and not expiring (timeout 0 would have closed
    # it by the end of this round trip).
    await new.send({"type": "user_message", "content": "two"})
    await new.until(reply("echo two"))
    assert not session.closed
    assert served.host.sessions.get(session.id) is session
    assert session.emitter.transport is not None

    # When the new connection goes, the session does expire under it.
    new.conn.close()
    await asyncio.wait_for(served.closes.ended.wait(), 10)
    assert served.host.sessions.get(session.id) is None
    await drained
    await drain(new)


async def drain(client: WsClient) -> None:
    """Read until the connection is closed, then release the client's side of it."""
    while await asyncio.wait_for(client.conn.read_message(), 10) is not None:
        pass
    client.conn.close()
