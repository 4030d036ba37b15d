"""The WebSocket transport on a real tornado server with real WebSocket clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import tornado.httpclient
import tornado.httpserver
import tornado.netutil
import tornado.web
import tornado.websocket

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.config import Config, ProjectConfig, RuntimeConfig
from nbchat.hosting import ChatHost
from nbchat.transports.websocket import ChatSocketHandler


@dataclass
class Probe:
    """What the test app did, with events the tests wait on instead of sleeping."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)
    streaming: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    files: list[bytes] = field(default_factory=list)


def make_app(probe: Probe) -> App:
    app = App("ws")
    with registering_on(app):

        @cl.on_message
        async def reply(message: cl.Message) -> None:
            if message.content == "upload":
                files = await cl.AskFileMessage("file?", accept=["text/plain"]).send()
                probe.files = [Path(f.path).read_bytes() for f in files or []]
                await cl.Message(content=f"got {len(probe.files)}").send()
                return
            msg = cl.Message(content="")
            for i in range(2000):
                await msg.stream_token(f"t{i} ")
            probe.streaming.set()
            if message.content == "wait":
                await probe.gate.wait()
            for i in range(2000, 4000):
                await msg.stream_token(f"t{i} ")
            await msg.send()

        @cl.on_chat_end
        def end() -> None:
            probe.ended.set()

    return app


def user_from_header(handler: tornado.web.RequestHandler) -> cl.User | None:
    name = handler.request.headers.get("X-Test-User")
    return cl.User(identifier=name) if name else None


@dataclass
class Server:
    url: str
    host: ChatHost
    probe: Probe
    connections: list[tornado.websocket.WebSocketClientConnection] = field(default_factory=list)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    probe = Probe()
    config = Config(runtime=RuntimeConfig(max_event_bytes=10_000),
                    project=ProjectConfig(session_timeout=3600))
    host = ChatHost(make_app(probe), config)
    application = tornado.web.Application([
        (r"/ws", ChatSocketHandler, {"host": host, "identify": user_from_header}),
    ])
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    http = tornado.httpserver.HTTPServer(application)
    http.add_sockets(sockets)
    port = sockets[0].getsockname()[1]
    running = Server(f"ws://127.0.0.1:{port}/ws", host, probe)
    yield running
    for conn in running.connections:
        conn.close()
        # The close handshake is done when reading yields None.
        while await asyncio.wait_for(conn.read_message(), 10) is not None:
            pass
    http.stop()
    await http.close_all_connections()
    await host.close()


class Client:
    def __init__(self, conn: tornado.websocket.WebSocketClientConnection) -> None:
        self.conn = conn
        self.events: list[dict[str, Any]] = []
        self.frames = 0

    async def send(self, event: dict[str, Any]) -> None:
        await self.conn.write_message(json.dumps(event))

    async def until(self, predicate: Any) -> dict[str, Any]:
        """Read frames until an event matches; return it."""
        for event in self.events:
            if predicate(event):
                return event
        while True:
            frame = await asyncio.wait_for(self.conn.read_message(), 10)
            assert frame is not None, "the server closed the connection"
            self.frames += 1
            batch = json.loads(frame)
            self.events.extend(batch)
            for event in batch:
                if predicate(event):
                    return event

    def text(self, step_id: str) -> str:
        out = ""
        for e in self.events:
            if e["type"] == "step" and e["step"]["id"] == step_id:
                out = e["step"]["output"]
            elif e["type"] == "token" and e["id"] == step_id:
                out = e["delta"] if e.get("replace") else out + e["delta"]
        return out


async def connect(server: Server, user: str | None = None,
                  origin: str | None = None) -> Client:
    headers = {"X-Test-User": user} if user else {}
    if origin:
        headers["Origin"] = origin
    request = tornado.httpclient.HTTPRequest(server.url, headers=headers)
    conn = await tornado.websocket.websocket_connect(request)
    server.connections.append(conn)
    return Client(conn)


def is_final_reply(event: dict[str, Any]) -> bool:
    return (event["type"] == "step" and event["step"]["type"] == "assistant_message"
            and not event["step"]["streaming"])


async def test_a_streamed_reply_arrives_in_few_frames(server: Server) -> None:
    client = await connect(server)
    await client.send({"type": "hello", "protocolVersion": 1})
    await client.until(lambda e: e["type"] == "welcome")
    await client.send({"type": "user_message", "content": "go"})
    final = await client.until(is_final_reply)
    assert final["step"]["output"].split()[-1] == "t3999"
    tokens = [e for e in client.events if e["type"] == "token"]
    assert len(tokens) < 10, f"{len(tokens)} token events for 4,000 tokens"
    seqs = [e["seq"] for e in client.events]
    assert seqs == list(range(1, len(seqs) + 1))


async def test_bad_frames_get_error_events_and_the_session_lives(server: Server) -> None:
    client = await connect(server)
    await client.send({"type": "hello", "protocolVersion": 1})
    await client.until(lambda e: e["type"] == "welcome")
    await client.conn.write_message("{not json")
    await client.conn.write_message(json.dumps({"type": "user_message", "content": 3}))
    await client.conn.write_message(json.dumps({"type": "user_message", "content": "x" * 20_000}))
    await client.conn.write_message(b"\x00\x00\x00\xffshort", binary=True)
    codes = []
    for _ in range(4):
        error = await client.until(lambda e: e["type"] == "error" and e not in codes)
        codes.append(error)
    assert [e["code"] for e in codes] == ["bad_json", "bad_event", "too_large", "bad_event"]
    await client.send({"type": "user_message", "content": "still alive"})
    assert (await client.until(is_final_reply))["step"]["output"].startswith("t0 ")


async def test_cross_origin_upgrade_is_refused(server: Server) -> None:
    with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
        await connect(server, origin="https://evil.example")
    assert refused.value.code == 403
    ok = await connect(server, origin=server.url.replace("ws://", "http://").rsplit("/", 1)[0])
    await ok.send({"type": "hello", "protocolVersion": 1})
    await ok.until(lambda e: e["type"] == "welcome")


async def test_reconnect_mid_stream_gets_the_complete_reply_once(server: Server) -> None:
    first = await connect(server, user="ada")
    await first.send({"type": "hello", "protocolVersion": 1})
    welcome = await first.until(lambda e: e["type"] == "welcome")
    await first.send({"type": "user_message", "content": "wait"})
    await server.probe.streaming.wait()
    started = await first.until(lambda e: e["type"] == "step"
                                and e["step"]["type"] == "assistant_message")
    last_seq = first.events[-1]["seq"]
    first.conn.close()
    server.probe.gate.set()   # the reply finishes while nobody is connected

    second = await connect(server, user="ada")
    await second.send({"type": "hello", "protocolVersion": 1,
                       "sessionId": welcome["sessionId"], "lastSeq": last_seq})
    await second.until(is_final_reply)
    assert all(e["seq"] > last_seq for e in second.events)
    combined = Client(first.conn)
    combined.events = first.events + second.events
    words = combined.text(started["step"]["id"]).split()
    assert words == [f"t{i}" for i in range(4000)]


async def test_another_users_session_id_is_not_attached(server: Server) -> None:
    ada = await connect(server, user="ada")
    await ada.send({"type": "hello", "protocolVersion": 1})
    welcome = await ada.until(lambda e: e["type"] == "welcome")
    eve = await connect(server, user="eve")
    await eve.send({"type": "hello", "protocolVersion": 1,
                    "sessionId": welcome["sessionId"], "lastSeq": 0})
    error = await eve.until(lambda e: e["type"] == "error")
    assert error["code"] == "unknown_session"
    eves = await eve.until(lambda e: e["type"] == "welcome")
    assert eves["sessionId"] != welcome["sessionId"]
    assert not any(e["type"] == "step" for e in eve.events)


async def test_upload_chunks_travel_as_binary_frames(server: Server) -> None:
    client = await connect(server)
    await client.send({"type": "hello", "protocolVersion": 1})
    await client.until(lambda e: e["type"] == "welcome")
    await client.send({"type": "user_message", "content": "upload"})
    ask = await client.until(lambda e: e["type"] == "ask")
    await client.send({"type": "upload_start", "uploadId": "u1", "name": "a.txt",
                       "mime": "text/plain", "size": 11})
    header = json.dumps({"type": "upload_chunk", "uploadId": "u1"}).encode()
    await client.conn.write_message(len(header).to_bytes(4, "big") + header + b"hello world",
                                    binary=True)
    await client.send({"type": "upload_end", "uploadId": "u1"})
    done = await client.until(lambda e: e["type"] == "upload_done")
    await client.send({"type": "ask_response", "askId": ask["askId"],
                       "fileIds": [done["fileId"]]})
    reply = await client.until(lambda e: e["type"] == "step" and e["step"]["output"] == "got 1")
    assert reply["step"]["type"] == "assistant_message"
    assert server.probe.files == [b"hello world"]


async def test_a_session_left_alone_is_closed_after_the_timeout(server: Server) -> None:
    server.host.config = replace(server.host.config, project=ProjectConfig(session_timeout=0))
    client = await connect(server)
    await client.send({"type": "hello", "protocolVersion": 1})
    await client.until(lambda e: e["type"] == "welcome")
    assert len(server.host.sessions) == 1
    client.conn.close()
    await server.probe.ended.wait()   # on_chat_end ran: the session was closed
    assert len(server.host.sessions) == 0
