"""The WebSocket transport on a real tornado server with real WebSocket clients."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
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
from nbchat.runtime.context import get_session
from nbchat.runtime.hosting import ChatHost
from nbchat.transports.websocket import ChatSocketHandler, WebSocketTransport
from wsclient import WsClient


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
            if message.content == "half an emoji":   # an app's bug: text cut inside 😀
                await cl.Message(content="half \ud83d").send()
                return
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


async def connect(server: Server, user: str | None = None,
                  origin: str | None = None) -> WsClient:
    headers = {"X-Test-User": user} if user else {}
    if origin:
        headers["Origin"] = origin
    request = tornado.httpclient.HTTPRequest(server.url, headers=headers)
    conn = await tornado.websocket.websocket_connect(request)
    server.connections.append(conn)
    return WsClient(conn)


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


async def test_text_without_a_utf8_form_from_the_app_never_cuts_the_chat(
        server: Server) -> None:
    client = await connect(server)
    await client.send({"type": "hello", "protocolVersion": 1})
    welcome = await client.until(lambda e: e["type"] == "welcome")
    await client.send({"type": "user_message", "content": "half an emoji"})
    half = await client.until(lambda e: e["type"] == "step"
                              and e["step"]["type"] == "assistant_message")
    assert half["step"]["output"] == "half \ud83d"   # sent as the escape JSON allows
    # The batch is in the replay buffer: a reconnect replays it, and the chat goes on.
    again = await connect(server)
    await again.send({"type": "hello", "protocolVersion": 1,
                      "sessionId": welcome["sessionId"], "lastSeq": 0})
    replayed = await again.until(lambda e: e["seq"] == half["seq"])
    assert replayed["step"]["output"] == "half \ud83d"
    await again.send({"type": "user_message", "content": "go on"})
    reply = await again.until(lambda e: is_final_reply(e) and e["seq"] > half["seq"])
    assert reply["step"]["output"].startswith("t0 ")


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
    combined = WsClient(first.conn)
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


# ---------------------------------------------------------------- the direct write path


@dataclass
class Stream:
    """An app that streams big tokens, with hooks a test waits on instead of sleeping."""

    backlogged: asyncio.Event = field(default_factory=asyncio.Event)
    detached: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    tokens: list[str] = field(default_factory=list)


class WatchedHost(ChatHost):
    def __init__(self, app: App, config: Config, stream: Stream) -> None:
        super().__init__(app, config)
        self.stream = stream

    def disconnected(self, session: Any) -> None:
        super().disconnected(session)
        self.stream.detached.set()


def streaming_app(stream: Stream) -> App:
    app = App("big")
    with registering_on(app):

        @cl.on_message
        async def reply(message: cl.Message) -> None:
            session = get_session("test")
            msg = cl.Message(content="")
            # Tokens streamed once the condition holds: a backlogged client reads them
            # while tornado's buffer drains, and they must still arrive in order.
            after = 40
            for i in range(2000):  # bounded; a backlog builds long before
                token = f"{i:05d}" + "x" * 16_000 + " "
                stream.tokens.append(token)
                await msg.stream_token(token)
                await asyncio.sleep(0)  # let the emitter's flushes run
                transport = session.emitter.transport
                if message.content == "until backlog":
                    if isinstance(transport, WebSocketTransport) and transport.buffered > 0:
                        stream.backlogged.set()
                elif transport is None:  # dropped: the reply goes on without a client
                    stream.backlogged.set()
                if stream.backlogged.is_set():
                    after -= 1
                    if not after:
                        break
            await msg.send()
            stream.done.set()

    return app


class SmallBufferHandler(ChatSocketHandler):
    def open(self, *args: str, **kwargs: str) -> None:
        super().open(*args, **kwargs)
        # A tiny kernel send buffer, so a client that does not read backs frames up into
        # tornado's buffer after kilobytes rather than megabytes.
        sock = self.transport._stream.socket if self.transport._stream else None
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)


@pytest.fixture
async def big_server() -> AsyncIterator[tuple[str, WatchedHost]]:
    stream = Stream()
    host = WatchedHost(streaming_app(stream), Config(
        project=ProjectConfig(session_timeout=3600)), stream)
    application = tornado.web.Application([
        (r"/ws", SmallBufferHandler, {"host": host, "identify": lambda _: None}),
    ])
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    http = tornado.httpserver.HTTPServer(application)
    http.add_sockets(sockets)
    yield f"127.0.0.1:{sockets[0].getsockname()[1]}", host
    http.stop()
    await http.close_all_connections()
    await host.close()


class RawClient:
    """A WebSocket client on a plain socket with a tiny receive buffer, which reads only
    when told to: a slow reader."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, address: str) -> RawClient:
        host, port = address.split(":")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
        reader, writer = await asyncio.open_connection(sock=sock, limit=1 << 24)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET /ws HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 101")
        return cls(reader, writer)

    async def send(self, event: dict[str, Any]) -> None:
        data = json.dumps(event).encode()
        assert len(data) < 126
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.writer.write(bytes((0x81, 0x80 | len(data))) + mask + masked)
        await self.writer.drain()

    async def batch(self) -> list[dict[str, Any]] | None:
        """The next text frame's events; None when the server closed the connection."""
        try:
            first, second = await asyncio.wait_for(self.reader.readexactly(2), 10)
        except asyncio.IncompleteReadError:
            return None
        assert first == 0x81, f"not a final text frame: {first:#x}"
        size = second & 0x7F
        if size == 126:
            size = int.from_bytes(await self.reader.readexactly(2), "big")
        elif size == 127:
            size = int.from_bytes(await self.reader.readexactly(8), "big")
        events: list[dict[str, Any]] = json.loads(await self.reader.readexactly(size))
        return events


async def test_frames_go_straight_to_the_socket_and_keep_order_behind_a_backlog(
        big_server: tuple[str, WatchedHost]) -> None:
    address, host = big_server
    client = await RawClient.connect(address)
    await client.send({"type": "hello", "protocolVersion": 1})
    welcome = await client.batch()
    assert welcome is not None
    assert welcome[0]["type"] == "welcome"
    session = host.sessions.get(welcome[0]["sessionId"])
    assert session is not None
    transport = session.emitter.transport
    assert isinstance(transport, WebSocketTransport)
    # The direct path is taken with this tornado (it reads WebSocketProtocol.stream, which
    # is not documented API: if a tornado release renames it, this fails).
    assert transport.direct

    await client.send({"type": "user_message", "content": "until backlog"})
    await asyncio.wait_for(host.stream.backlogged.wait(), 20)  # frames wait in tornado
    events = list(welcome)
    final = None
    while final is None:
        batch = await client.batch()
        assert batch is not None, "the server closed the connection"
        events.extend(batch)
        final = next((e for e in batch if is_final_reply(e)), None)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    streamed = "".join(e["delta"] for e in events if e["type"] == "token")
    assert streamed == "".join(host.stream.tokens) == final["step"]["output"]
    assert not transport.dropped
    client.writer.close()


async def test_a_client_that_does_not_read_is_dropped_and_its_session_kept(
        big_server: tuple[str, WatchedHost], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(WebSocketTransport, "max_buffered", 64 * 1024)
    address, host = big_server
    client = await RawClient.connect(address)
    await client.send({"type": "hello", "protocolVersion": 1})
    welcome = await client.batch()
    assert welcome is not None
    session = host.sessions.get(welcome[0]["sessionId"])
    assert session is not None
    transport = session.emitter.transport
    assert isinstance(transport, WebSocketTransport)

    await client.send({"type": "user_message", "content": "never read"})
    await asyncio.wait_for(host.stream.detached.wait(), 20)  # the server dropped it
    assert transport.dropped
    assert session.emitter.transport is None
    assert not session.closed
    # What waits for the client stays bounded: the limit plus one frame (a flush of
    # at most stream_max_chars characters and its JSON).
    assert transport.buffered <= 64 * 1024 + 2 * 65536
    await asyncio.wait_for(host.stream.done.wait(), 20)  # the reply went on without a client

    # A reconnect gets the whole reply (from the replay buffer or a snapshot).
    again = await connect_raw_ws(address)
    await again.send({"type": "hello", "protocolVersion": 1,
                      "sessionId": session.id, "lastSeq": 1})
    final = await again.until(is_final_reply)
    assert final["step"]["output"] == "".join(host.stream.tokens)
    client.writer.close()
    again.conn.close()


async def connect_raw_ws(address: str) -> WsClient:
    conn = await tornado.websocket.websocket_connect(f"ws://{address}/ws",
                                                     max_message_size=1 << 30)
    return WsClient(conn)


class CompressingHandler(ChatSocketHandler):
    def get_compression_options(self) -> dict[str, Any]:
        return {}


async def test_a_compressed_connection_writes_through_tornado() -> None:
    probe = Probe()
    host = ChatHost(make_app(probe), Config(project=ProjectConfig(session_timeout=3600)))
    application = tornado.web.Application([
        (r"/ws", CompressingHandler, {"host": host, "identify": lambda _: None}),
    ])
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    http = tornado.httpserver.HTTPServer(application)
    http.add_sockets(sockets)
    try:
        conn = await tornado.websocket.websocket_connect(
            f"ws://127.0.0.1:{sockets[0].getsockname()[1]}/ws", compression_options={})
        client = WsClient(conn)
        await client.send({"type": "hello", "protocolVersion": 1})
        welcome = await client.until(lambda e: e["type"] == "welcome")
        session = host.sessions.get(welcome["sessionId"])
        assert session is not None
        transport = session.emitter.transport
        assert isinstance(transport, WebSocketTransport)
        assert not transport.direct
        await client.send({"type": "user_message", "content": "go"})
        final = await client.until(is_final_reply)
        assert final["step"]["output"].split()[-1] == "t3999"
        conn.close()
        assert await asyncio.wait_for(conn.read_message(), 10) is None
    finally:
        http.stop()
        await http.close_all_connections()
        await host.close()
