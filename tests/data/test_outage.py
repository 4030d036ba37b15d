"""A database outage under a served chat (PostgreSQL behind a proxy the test cuts): the
user is told a message was not stored, nothing acknowledged is lost, replies finished
during the outage are written when the database returns, and /health says the store is
down meanwhile."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import tornado.httpclient
import tornado.httpserver
import tornado.netutil
import tornado.web
import tornado.websocket

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.config import Config
from nbchat.data import PostgresDataLayer, StoreUnavailableError
from nbchat.runtime.hosting import ChatHost
from nbchat.runtime.recorder import LOCAL_USER
from nbchat.server.standalone import HealthHandler
from nbchat.transports.websocket import ChatSocketHandler
from pgproxy import CuttableProxy
from wsclient import WsClient


@dataclass
class Gates:
    streaming: asyncio.Event = field(default_factory=asyncio.Event)
    finish: asyncio.Event = field(default_factory=asyncio.Event)


def outage_app(gates: Gates) -> App:
    app = App("outage")
    with registering_on(app):

        @cl.on_message
        async def reply(message: cl.Message) -> None:
            if message.content != "slow":
                await cl.Message(content=f"echo {message.content}").send()
                return
            msg = cl.Message(content="")
            await msg.stream_token("slow ")
            gates.streaming.set()
            await gates.finish.wait()
            await msg.stream_token("done")
            await msg.send()

    return app


@dataclass
class Served:
    base: str
    layer: PostgresDataLayer
    proxy: CuttableProxy


@pytest.fixture
async def served(fresh_pg_url: str) -> AsyncIterator[tuple[Served, Gates]]:
    proxy = CuttableProxy()
    await proxy.start()
    layer = PostgresDataLayer(proxy.url(fresh_pg_url))
    gates = Gates()
    host = ChatHost(outage_app(gates), Config(), layer)
    application = tornado.web.Application([
        (r"/health", HealthHandler, {"host": host}),
        (r"/ws", ChatSocketHandler, {"host": host, "identify": lambda _: LOCAL_USER}),
    ])
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    http = tornado.httpserver.HTTPServer(application)
    http.add_sockets(sockets)
    yield Served(f"127.0.0.1:{sockets[0].getsockname()[1]}", layer, proxy), gates
    http.stop()
    await http.close_all_connections()
    await host.close()
    await proxy.close()


async def health(served: Served) -> dict[str, Any]:
    response = await tornado.httpclient.AsyncHTTPClient().fetch(f"http://{served.base}/health")
    assert response.code == 200
    body: dict[str, Any] = json.loads(response.body)
    assert body.pop("worker")  # the process's id in the session directory
    return body


def step_output(text: str) -> Any:
    return lambda e: (e["type"] == "step" and e["step"]["output"] == text
                      and not e["step"]["streaming"])


async def test_an_outage_is_shown_and_loses_nothing(served: tuple[Served, Gates]) -> None:
    server, gates = served
    client = WsClient(await tornado.websocket.websocket_connect(f"ws://{server.base}/ws"))
    await client.hello()
    await client.send({"type": "user_message", "content": "one"})
    await client.until(step_output("echo one"))
    assert await health(server) == {"status": "ok", "app": "outage", "store": "ok"}
    await client.send({"type": "user_message", "content": "slow"})
    await gates.streaming.wait()

    await server.proxy.cut()
    gates.finish.set()  # the reply finishes during the outage
    await client.until(step_output("slow done"))
    await client.send({"type": "user_message", "content": "two"})
    error = await client.until(lambda e: e["type"] == "error")
    assert error["code"] == "store_unavailable"
    echo = next(e for e in client.events if e["type"] == "step"
                and e["step"]["output"] == "two")
    deleted = await client.until(lambda e: e["type"] == "step_delete")
    assert deleted["id"] == echo["step"]["id"]
    assert not any(e["type"] == "step" and e["step"]["output"] == "echo two"
                   for e in client.events)
    assert await health(server) == {"status": "degraded", "app": "outage", "store": "down"}
    try:
        await server.layer.get_thread("0192f000-0000-7000-8000-000000000000")
    except StoreUnavailableError as exc:
        refused = exc
    else:
        raise AssertionError("a read during the outage did not fail")
    assert "unavailable" in str(refused)
    del refused  # its traceback holds this frame (and the open client) until collected

    await server.proxy.restore()
    await server.layer.flush()  # what was kept is committed now
    assert await health(server) == {"status": "ok", "app": "outage", "store": "ok"}
    await client.send({"type": "user_message", "content": "three"})
    await client.until(step_output("echo three"))
    thread_id = next(e["id"] for e in client.events if e["type"] == "thread")
    thread = await server.layer.get_thread(thread_id)
    assert thread is not None
    assert [s["output"] for s in thread["steps"]] == [
        "one", "echo one", "slow", "slow done", "three", "echo three"]
    assert server.layer.queue.failed_writes == 0
    client.conn.close()
    while await asyncio.wait_for(client.conn.read_message(), 10) is not None:
        pass
    client.conn.close()  # releases the client's side once the close handshake is done
