"""The chat host over the shared state: the per-user cap counts sessions of other workers,
and a Redis that stops answering is an error the client sees, not a dropped socket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tornado.httpclient
import tornado.httpserver
import tornado.netutil
import tornado.websocket

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.cluster.memory import MemoryDirectory
from nbchat.cluster.redis_state import redis_state
from nbchat.config import Config, ServerConfig
from nbchat.runtime.hosting import ChatHost, SessionLimitError
from nbchat.server.auth import SingleUserIdentity
from nbchat.server.standalone import make_app
from nbchat.transports.base import Transport
from wsclient import WsClient

from .cluster import hang_up
from .redis_fixtures import run_prefix


class _Connected(Transport):
    """A transport standing for a connected client (the session is not idle)."""

    def send(self, events: list[dict[str, Any]]) -> None:
        pass


def echo_app() -> App:
    app = App("echo")
    with registering_on(app):

        @cl.on_message
        async def echo(message: cl.Message) -> None:
            await cl.Message(content=message.content).send()

    return app


async def test_the_cap_counts_the_user_s_sessions_on_other_workers(tmp_path: Path) -> None:
    directory = MemoryDirectory()
    config = Config(server=ServerConfig(max_sessions_per_user=2), app_dir=tmp_path)
    host = ChatHost(echo_app(), config, directory=directory)
    ada = cl.User(identifier="ada")
    await directory.claim("elsewhere-1", "ada", "t1")  # as another worker's sessions
    mine = await host.open_session(ada)
    mine.attach(_Connected())  # a client is on it: it cannot be closed to make room
    with pytest.raises(SessionLimitError, match="you have 2 chats open"):
        await host.open_session(ada)
    assert await directory.count("ada") == 2  # the refused one was never entered
    await host.open_session(cl.User(identifier="bob"))  # another user's budget
    await host.close()
    assert await directory.count("ada") == 1  # closing released this worker's


async def test_a_redis_that_stops_answering_is_an_error_for_the_client(tmp_path: Path) -> None:
    dead = redis_state("redis://127.0.0.1:1/0", run_prefix())  # nothing listens on port 1
    config = Config(app_dir=tmp_path)
    app = echo_app()
    host = ChatHost(app, config, directory=dead.directory)
    application = make_app(app, config, host=host, services=None,
                           identity=SingleUserIdentity("local"), headless=True, shared=dead)
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(application)
    server.add_sockets(sockets)
    port = sockets[0].getsockname()[1]
    try:
        conn = await tornado.websocket.websocket_connect(tornado.httpclient.HTTPRequest(
            f"ws://127.0.0.1:{port}/ws", headers={"Origin": f"http://127.0.0.1:{port}"}))
        client = WsClient(conn)
        await client.send({"type": "hello", "protocolVersion": 1})
        error = await client.until(lambda e: e["type"] == "error")
        assert error["code"] == "internal_error"
        assert "shared state" in error["message"]
        await hang_up(client)
    finally:
        server.stop()
        await server.close_all_connections()
        await dead.link.close()
