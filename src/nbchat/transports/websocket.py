"""The served transport: a tornado WebSocket handler that checks, then delegates.

Frames: client → server, a text frame is one JSON event; an event with binary buffers
(upload_chunk) is one binary frame `[u32 big-endian JSON length][JSON][bytes]`. Server →
client, a text frame is one batch (JSON array of events).

The handler knows nothing of messages: it checks the Origin, authenticates through the
`identify` callable it is given, finds or creates the session through the ChatHost, and
hands frames to `ChatSession.receive`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import struct
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

import tornado.iostream
import tornado.web
import tornado.websocket

from nbchat.errors import ProtocolError
from nbchat.protocol import client_json, encode, encode_utf8, outbound
from nbchat.runtime.hosting import ChatHost, SessionLimitError
from nbchat.runtime.session import ChatSession
from nbchat.transports.base import Transport
from nbchat.transports.ws_failing import FailingProtocol
from nbchat.types import User

log = logging.getLogger("nbchat")
WORKER_HEADER = "X-Nbchat-Worker"
# Who is connecting: a user, None (anonymous), or HTTPError(401/403) to refuse the upgrade.
# May be async (served mode asks the host's Identity).
Identify = Callable[[tornado.web.RequestHandler], User | Awaitable[User | None] | None]


def frame_header(size: int) -> bytes:
    """The header of an unmasked, final text frame of `size` bytes (RFC 6455 §5.2)."""
    if size < 126:
        return bytes((0x81, size))
    if size <= 0xFFFF:
        return struct.pack("!BBH", 0x81, 126, size)
    return struct.pack("!BBQ", 0x81, 127, size)


class WebSocketTransport(Transport):
    """Sends each batch as one text frame.

    tornado's `write_message` costs a Future, a wrapper coroutine and its Task per frame,
    ~40 µs of CPU where the socket `send` takes ~3 (benchmarks/README.md, serve_load), and
    a served chat writes a frame per session every few tens of milliseconds. So once the
    connection is open, a frame goes straight to the socket while tornado's write buffer is
    empty; whatever the socket does not take (a full socket buffer, an error) is handed to
    `IOStream.write`, which keeps the order, finishes the write when the socket drains and
    closes the stream on errors. Compressed or TLS connections always use `write_message`.

    Backpressure: tornado's write buffer has no limit, so a client that reads slower than
    the chat streams would grow it without bound. Once more than `max_buffered` bytes wait
    in it, the connection is dropped; the session stays, and a reconnect gets the missed
    events from the replay buffer (or a snapshot).
    """

    max_buffered = 4 * 1024 * 1024

    def __init__(self, handler: tornado.websocket.WebSocketHandler) -> None:
        self.handler = handler
        self.frames = 0
        self.buffered = 0  # bytes handed to tornado's write buffer, not yet written
        self.dropped = False  # the connection was dropped for reading too slowly
        self._conn: tornado.websocket.WebSocketProtocol | None = None
        self._stream: tornado.iostream.IOStream | None = None

    def opened(self) -> None:
        """The WebSocket is open: write frames directly if the connection allows it."""
        conn = self.handler.ws_connection
        # `WebSocketProtocol.stream` is not documented API (tornado 6.x sets it in
        # `_accept_connection`); without it, or on TLS (SSLIOStream) or a compressed
        # connection, every frame takes `write_message`. tests/transports/test_websocket.py
        # checks that the direct path is taken, so a tornado that renames it fails there.
        stream = getattr(conn, "stream", None)
        if (conn is not None and type(stream) is tornado.iostream.IOStream
                and self.handler.get_compression_options() is None):
            self._conn = conn
            self._stream = stream

    @property
    def direct(self) -> bool:
        """True when frames go straight to the socket (see the class docstring)."""
        return self._stream is not None

    def send(self, events: list[dict[str, Any]]) -> None:
        stream, conn = self._stream, self._conn
        if stream is None or conn is None:
            try:
                self.handler.write_message(encode_utf8(events))  # bytes: a text frame
                self.frames += 1
            except tornado.websocket.WebSocketClosedError:
                pass  # the close callback detaches us; the replay buffer keeps the events
            return
        if conn.is_closing():
            return  # as above
        data = encode_utf8(events)
        frame = frame_header(len(data)) + data
        self.frames += 1
        if not stream.writing():
            try:
                sent = stream.socket.send(frame)
            except OSError:  # would block, or broken: IOStream.write sorts it out below
                sent = 0
            if sent == len(frame):
                return
            frame = frame[sent:]
        elif self.buffered > self.max_buffered:
            log.warning("nbchat: dropping a WebSocket client that reads too slowly "
                        "(%d bytes waiting); its session waits for a reconnect", self.buffered)
            self.dropped = True
            stream.close()  # on_close detaches the session
            return
        try:
            written = stream.write(frame)
        except tornado.iostream.StreamClosedError:
            return
        size = len(frame)
        self.buffered += size
        written.add_done_callback(lambda done: self._written(size, done))

    def _written(self, size: int, done: asyncio.Future[None]) -> None:
        self.buffered -= size
        if not done.cancelled():
            # A stream closed with frames waiting fails their futures; the close callback
            # handles the disconnect, and a retrieved error is not logged as unhandled.
            done.exception()

    def close(self) -> None:
        self.handler.close()


def split_binary(frame: bytes) -> tuple[dict[str, Any], list[bytes]]:
    """The event and buffers of a binary frame; ProtocolError saying what is wrong."""
    if len(frame) < 4:
        raise ProtocolError("binary frame shorter than its 4-byte header")
    size = int.from_bytes(frame[:4], "big")
    if size > len(frame) - 4:
        raise ProtocolError("binary frame header announces more JSON than the frame holds")
    event = client_json.parse(frame[4:4 + size])
    if not isinstance(event, dict):
        raise ProtocolError("binary frame JSON must be an object")
    rest = frame[4 + size:]
    return event, [rest] if rest else []


class ChatSocketHandler(tornado.websocket.WebSocketHandler):
    def initialize(self, host: ChatHost, identify: Identify,
                   allowed_origins: frozenset[str] = frozenset(),
                   connections: set[ChatSocketHandler] | None = None) -> None:
        self.host = host
        # The host's set of open connections (to close them all on shutdown), if it keeps one.
        self.connections = connections
        self.identify = identify
        self.allowed_origins = allowed_origins
        self.session: ChatSession | None = None
        self.transport = WebSocketTransport(self)
        self.user: User | None = None

    def get_websocket_protocol(self) -> tornado.websocket.WebSocketProtocol | None:
        """tornado's protocol, but failing bad frames with a close code and reason."""
        protocol = super().get_websocket_protocol()
        if type(protocol) is tornado.websocket.WebSocketProtocol13:
            return FailingProtocol(self, False, protocol.params)
        return protocol

    def check_origin(self, origin: str) -> bool:
        """Same host as the page, or a configured origin; never a wildcard."""
        return urlparse(origin).netloc == self.request.host or origin in self.allowed_origins

    async def get(self, *args: Any, **kwargs: Any) -> None:
        user = self.identify(self)  # may raise HTTPError(401/403): no upgrade then
        self.user = await user if inspect.isawaitable(user) else user
        # Which process took the socket (as /health tells): where to look in its log.
        self.set_header(WORKER_HEADER, self.host.directory.worker)
        await super().get(*args, **kwargs)

    def open(self, *args: str, **kwargs: str) -> None:
        # Streamed frames are small and latency-bound: without TCP_NODELAY, Nagle holds a
        # frame while the previous one is unacknowledged, and with the client's delayed
        # ACK that is ~40 ms added to a reply's first token (benchmarks/serve_load.py).
        self.set_nodelay(True)
        self.transport.opened()
        if self.connections is not None:
            self.connections.add(self)

    def _reject(self, code: str, message: str) -> None:
        # Before a session exists there is no sequence to number this with.
        self.write_message(encode([outbound.error(code, message)]))

    async def on_message(self, message: str | bytes) -> None:
        limit = self.host.config.runtime.max_event_bytes
        buffers: list[bytes] = []
        frame: str | dict[str, Any] = message if isinstance(message, str) else {}
        if isinstance(message, bytes):
            try:
                frame, buffers = split_binary(message)
            except ProtocolError as exc:
                self._reject_or_error(exc.code, str(exc))
                return
            if len(message) > limit + 4 * 1024 * 1024:
                self._reject_or_error("too_large", "binary frame over the upload chunk limit")
                return
        if self.session is None and not await self._start(frame, limit):
            return
        assert self.session is not None
        await self.session.receive(frame, buffers)

    def _reject_or_error(self, code: str, message: str) -> None:
        if self.session is not None:
            self.session.error(code, message)
        else:
            self._reject(code, message)

    async def _start(self, frame: str | dict[str, Any], limit: int) -> bool:
        """Attach to the session the first event (a hello) names, or to a new one."""
        event: Any = frame
        if isinstance(frame, str):
            if len(frame) > limit:
                self._reject("too_large", f"event over the limit of {limit} bytes")
                return False
            try:
                event = client_json.parse(frame)
            except ProtocolError as exc:
                self._reject(exc.code, f"the first event (a hello): {exc}")
                return False
        if not isinstance(event, dict) or event.get("type") != "hello":
            self._reject("not_started", "the first event must be hello")
            return False
        session = None
        wanted = event.get("sessionId")
        if isinstance(wanted, str):
            session = self.host.find(wanted, self.user)
            if session is None:
                self._reject("unknown_session",
                             "that chat session is gone or not yours; a new one was started")
        if session is None:
            try:
                session = await self.host.open_session(self.user)
            except SessionLimitError as exc:
                self._reject("too_many_sessions", str(exc))
                return False
        self.host.connected(session)
        session.attach(self.transport)
        self.session = session
        return True

    def on_close(self) -> None:
        if self.connections is not None:
            self.connections.discard(self)
        # An old connection (a dead link, a second tab) closing after a reconnect took the
        # session over must neither detach the new one nor start the session's expiry.
        if self.session is not None and self.session.detach(self.transport):
            self.host.disconnected(self.session)
