"""The served transport: a tornado WebSocket handler that checks, then delegates.

Frames: client → server, a text frame is one JSON event; an event with binary buffers
(upload_chunk) is one binary frame `[u32 big-endian JSON length][JSON][bytes]`. Server →
client, a text frame is one batch (JSON array of events).

The handler knows nothing of messages: it checks the Origin, authenticates through the
`identify` callable it is given, and moves frames. The first one goes to
`ChatHost.connect` (the protocol decodes the hello, the runtime finds or makes its
session), every later one to `ChatSession.receive`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import struct
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import tornado.iostream
import tornado.web
import tornado.websocket

from nbchat.errors import ProtocolError
from nbchat.protocol import encode, encode_utf8, outbound
from nbchat.protocol.client_json import split_binary
from nbchat.protocol.server_events import ErrorEvent
from nbchat.runtime.hosting import ChatHost, Connected
from nbchat.runtime.session import ChatSession
from nbchat.transports.base import Transport
from nbchat.transports.ws_failing import FailingProtocol
from nbchat.types import User

if TYPE_CHECKING:
    from nbchat.cluster.bus import Relay

log = logging.getLogger("nbchat")
WORKER_HEADER = "X-Nbchat-Worker"
# What the shared state raises when Redis is unreachable (OSError: a refused connection).
SHARED_STATE_ERRORS: tuple[type[Exception], ...] = (OSError,)
with contextlib.suppress(ImportError):
    from redis.exceptions import RedisError

    SHARED_STATE_ERRORS = (OSError, RedisError)
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
        self.send_encoded(encode_utf8(events))

    def send_encoded(self, data: bytes) -> None:
        """Send one batch already encoded as UTF-8 JSON (also a relayed one)."""
        stream, conn = self._stream, self._conn
        if stream is None or conn is None:
            try:
                self.handler.write_message(data)  # bytes: a text frame
                self.frames += 1
            except tornado.websocket.WebSocketClosedError:
                pass  # the close callback detaches us; the replay buffer keeps the events
            return
        if conn.is_closing():
            return  # as above
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
        # Set instead of `session` when the session runs on another worker (cluster.bus).
        self.relay: Relay | None = None
        self._resuming: asyncio.Task[None] | None = None  # see _owner_lost
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

    def _refuse(self, error: ErrorEvent) -> None:
        # Before a session exists there is no sequence to number this with.
        self.write_message(encode([error]))

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
        if self.relay is not None:
            self.relay.forward(message)
            return
        if self.session is not None:
            await self.session.receive(frame, buffers)
            return
        # The first frame: the runtime finds its session (the protocol decodes the hello),
        # here or, through the session bus, on another worker.
        try:
            started = await self.host.connect(frame, self.user, self.transport, self._refuse)
        except SHARED_STATE_ERRORS:
            log.exception("nbchat: the shared state (Redis) failed; a chat did not start")
            self._refuse(outbound.error("internal_error", "the server cannot reach its "
                                        "shared state right now; reload to try again"))
            return
        if isinstance(started, Connected):
            self.session = started.session
            await self.session.receive_event(started.hello, buffers)
        elif started is not None:
            self._relay_to(started.owner, started.session_id, started.thread_id,
                           dict(started.hello))

    def _reject_or_error(self, code: str, message: str) -> None:
        if self.session is not None:
            self.session.error(code, message)
        else:
            self._refuse(outbound.error(code, message))

    def _relay_to(self, owner: str, session_id: str, thread_id: str,
                  hello: dict[str, Any]) -> None:
        """The session runs on worker `owner`: relay this socket to it (cluster.bus)."""
        assert self.host.bus is not None
        self.relay = self.host.bus.relay(
            owner, session_id, thread_id, self.user, deliver=self.transport.send_encoded,
            closed=self._relay_closed, lost=self._owner_lost)
        self.relay.forward(json.dumps(hello))

    def _relay_closed(self, code: int | None, reason: str | None) -> None:
        self.relay = None
        self.close(code, reason)

    def _owner_lost(self, relay: Relay) -> None:
        """The worker running this socket's session died: tell the client, and resume
        the chat's stored thread in a new session here."""
        self.relay = None
        task = asyncio.get_running_loop().create_task(self._resume_here(relay.thread_id))
        self._resuming = task  # kept: a task nobody holds may be collected

    async def _resume_here(self, thread_id: str) -> None:
        started = await self.host.take_over(thread_id, self.user, self.transport, self._refuse)
        if started is None:
            self.close()
            return
        self.session = started.session
        await self.session.receive_event(started.hello)

    def on_close(self) -> None:
        if self.relay is not None:
            self.relay.detach()
            self.relay = None
        if self.connections is not None:
            self.connections.discard(self)
        # An old connection (a dead link, a second tab) closing after a reconnect took the
        # session over must neither detach the new one nor start the session's expiry.
        if self.session is not None and self.session.detach(self.transport):
            self.host.disconnected(self.session)
