"""The served transport: a tornado WebSocket handler that checks, then delegates.

Frames: client → server, a text frame is one JSON event; an event with binary buffers
(upload_chunk) is one binary frame `[u32 big-endian JSON length][JSON][bytes]`. Server →
client, a text frame is one batch (JSON array of events).

The handler knows nothing of messages: it checks the Origin, authenticates through the
`identify` callable it is given, finds or creates the session through the ChatHost, and
hands frames to `ChatSession.receive`.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

import tornado.web
import tornado.websocket

from nbchat.hosting import ChatHost
from nbchat.protocol import encode
from nbchat.session import ChatSession
from nbchat.transports.base import Transport
from nbchat.types import User

log = logging.getLogger("nbchat")
# Who is connecting: a user, None (anonymous), or HTTPError(401/403) to refuse the upgrade.
# May be async (served mode asks the host's Identity).
Identify = Callable[[tornado.web.RequestHandler], User | Awaitable[User | None] | None]


class WebSocketTransport(Transport):
    def __init__(self, handler: tornado.websocket.WebSocketHandler) -> None:
        self.handler = handler
        self.frames = 0

    def send(self, events: list[dict[str, Any]]) -> None:
        try:
            self.handler.write_message(encode(events))
            self.frames += 1
        except tornado.websocket.WebSocketClosedError:
            pass  # the close callback detaches us; the replay buffer keeps the events

    def close(self) -> None:
        self.handler.close()


def split_binary(frame: bytes) -> tuple[dict[str, Any], list[bytes]]:
    if len(frame) < 4:
        raise ValueError("binary frame shorter than its 4-byte header")
    size = int.from_bytes(frame[:4], "big")
    if size > len(frame) - 4:
        raise ValueError("binary frame header announces more JSON than the frame holds")
    event = json.loads(frame[4:4 + size])
    if not isinstance(event, dict):
        raise ValueError("binary frame JSON must be an object")
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

    def check_origin(self, origin: str) -> bool:
        """Same host as the page, or a configured origin; never a wildcard."""
        return urlparse(origin).netloc == self.request.host or origin in self.allowed_origins

    async def get(self, *args: Any, **kwargs: Any) -> None:
        user = self.identify(self)  # may raise HTTPError(401/403): no upgrade then
        self.user = await user if inspect.isawaitable(user) else user
        await super().get(*args, **kwargs)

    def open(self, *args: str, **kwargs: str) -> None:
        # Streamed frames are small and latency-bound: without TCP_NODELAY, Nagle holds a
        # frame while the previous one is unacknowledged, and with the client's delayed
        # ACK that is ~40 ms added to a reply's first token (benchmarks/serve_load.py).
        self.set_nodelay(True)
        if self.connections is not None:
            self.connections.add(self)

    def _reject(self, code: str, message: str) -> None:
        # Before a session exists there is no sequence to number this with.
        self.write_message(encode([{"type": "error", "seq": 0, "code": code,
                                    "message": message}]))

    async def on_message(self, message: str | bytes) -> None:
        limit = self.host.config.runtime.max_event_bytes
        buffers: list[bytes] = []
        frame: str | dict[str, Any] = message if isinstance(message, str) else {}
        if isinstance(message, bytes):
            try:
                frame, buffers = split_binary(message)
            except ValueError as exc:
                self._reject_or_error("bad_event", str(exc))
                return
            if len(message) > limit + 4 * 1024 * 1024:
                self._reject_or_error("too_large", "binary frame over the upload chunk limit")
                return
        if self.session is None and not self._start(frame, limit):
            return
        assert self.session is not None
        await self.session.receive(frame, buffers)

    def _reject_or_error(self, code: str, message: str) -> None:
        if self.session is not None:
            self.session.error(code, message)
        else:
            self._reject(code, message)

    def _start(self, frame: str | dict[str, Any], limit: int) -> bool:
        """Attach to the session the first event (a hello) names, or to a new one."""
        event: Any = frame
        if isinstance(frame, str):
            if len(frame) > limit:
                self._reject("too_large", f"event over the limit of {limit} bytes")
                return False
            try:
                event = json.loads(frame)
            except ValueError:
                event = None
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
            session = self.host.new_session(self.user)
        self.host.connected(session)
        session.attach(self.transport)
        self.session = session
        return True

    def on_close(self) -> None:
        if self.connections is not None:
            self.connections.discard(self)
        if self.session is not None:
            self.session.detach(self.transport)
            self.host.disconnected(self.session)
