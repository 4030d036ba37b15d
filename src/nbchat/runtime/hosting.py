"""ChatHost: the live chat sessions of one server process.

It creates sessions (with persistence when it has a data layer), finds a session again
for a reconnecting client of the *same* user (never another user's: Chainlit shipped that
hijack), and closes sessions whose client stayed away longer than
`project.session_timeout`, so per-session memory is freed deterministically.

One user holds at most `server.max_sessions_per_user` live sessions (0: no cap; sessions
without a user, of hosts that identify nobody, are not counted): a new one
past the cap closes that user's oldest session without a connected client (it only waited
for a reconnect); when every one of them has a client, the new one is refused
(`SessionLimitError`, sent to the client as a `too_many_sessions` error). The count is the
`SessionDirectory`'s (nbchat.cluster): this process's sessions, or with Redis every
worker's; only this process's idle sessions can be closed to make room.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbchat.app import App
from nbchat.cluster import SessionDirectory
from nbchat.cluster.memory import MemoryDirectory
from nbchat.config import Config
from nbchat.data import NativeDataLayer
from nbchat.errors import NbchatError, ProtocolError
from nbchat.protocol import PROTOCOL_VERSION, decode_hello, outbound
from nbchat.protocol.client_events import Hello
from nbchat.protocol.server_events import ErrorEvent
from nbchat.runtime.builder import SessionBuilder
from nbchat.runtime.session import ChatSession, SessionRegistry
from nbchat.transports.base import Transport
from nbchat.types import User
from nbchat.uploads.tickets import HostTickets

if TYPE_CHECKING:
    from nbchat.cluster.bus import SessionBus


def same_user(a: User | None, b: User | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.identifier == b.identifier


class SessionLimitError(NbchatError):
    """The user already has as many connected sessions as `server.max_sessions_per_user`."""


# What a client is told when the worker running its chat died (cluster.bus notices).
LOST = ("the server process running this chat stopped; the chat continues here from what "
        "was saved (a reply it was writing may be cut short)")


@dataclass(frozen=True)
class Connected:
    """The connection's session runs here: dispatch `hello` to it."""

    session: ChatSession
    hello: Hello


@dataclass(frozen=True)
class Elsewhere:
    """The connection's session runs on worker `owner`: relay the connection there."""

    owner: str
    session_id: str
    thread_id: str
    hello: Hello


class ChatHost:
    def __init__(self, app: App, config: Config, data_layer: NativeDataLayer | None = None,
                 *, directory: SessionDirectory | None = None) -> None:
        self.config = config
        self.data_layer = data_layer
        self.sessions = SessionRegistry()
        # Which worker runs which session (in memory: this one; nbchat.cluster).
        self.directory: SessionDirectory = directory or MemoryDirectory()
        # With Redis: sockets here relayed to sessions on other workers, and back.
        self.bus: SessionBus | None = None
        self._expiry: dict[str, asyncio.TimerHandle] = {}
        self._closing: set[asyncio.Task[None]] = set()
        # Upload bodies sent over HTTP to this process's sessions (server/live_uploads.py).
        self.upload_tickets = HostTickets()
        self.builder = SessionBuilder(app, config, data_layer, self.upload_tickets)

    @property
    def app(self) -> App:
        """The app new sessions run (`switch_app` replaces it on a reload)."""
        return self.builder.app

    def switch_app(self, app: App) -> None:
        """Run `app` from now on, in new sessions and in the live ones (a reload)."""
        self.builder = self.builder.with_app(app)
        for session in self.sessions.sessions.values():
            session.app = app

    async def open_session(self, user: User | None) -> ChatSession:
        """A new session for `user`, within the cap counted over every worker, and
        entered in the session directory."""
        cap = self.config.server.max_sessions_per_user
        total = 0
        if cap > 0 and user is not None:
            total = await self.directory.count(user.identifier)
        session = self.new_session(user, total)
        await self.directory.claim(session.id, user.identifier if user else None,
                                   session.thread_id)
        return session

    def new_session(self, user: User | None, total: int = 0) -> ChatSession:
        """A new session (`total`: the user's sessions counted elsewhere, see
        `open_session`), not entered in the directory."""
        self._make_room(user, total)
        return self.sessions.add(self.builder.build(user))

    async def connect(self, frame: str | bytes | dict[str, Any], user: User | None,
                      transport: Transport, refuse: Callable[[ErrorEvent], None],
                      ) -> Connected | Elsewhere | None:
        """A connection's first frame, decoded by the protocol (it must be a `hello`).

        `Connected`: the session it names, if it is `user`'s own and runs here, or a new
        one, attached to `transport`; the caller dispatches `hello` there. When the named
        session's worker died, the new session resumes its stored thread (the client is
        told). `Elsewhere`: the session runs on another worker (the session bus relays the
        connection). `refuse` gets what the client is told before a session numbers its
        events; None when no session takes the connection."""
        try:
            hello = decode_hello(frame, self.config.runtime.max_event_bytes)
        except ProtocolError as exc:
            why = str(exc) if exc.code == "not_started" else f"the first event (a hello): {exc}"
            refuse(outbound.error(exc.code, why))
            return None
        session = None
        wanted = hello.get("sessionId")
        if wanted is not None:
            session = self.find(wanted, user)
            found = None
            if session is None and self.bus is not None:
                found = await self.bus.locate(wanted, user)
            if found is not None and found[2]:
                return Elsewhere(found[0], wanted, found[1], hello)
            if found is not None:  # its worker died: the stored thread goes on here
                return await self.take_over(found[1], user, transport, refuse)
            if session is None:
                refuse(outbound.error(
                    "unknown_session", "that chat session is gone or not yours; a new one "
                    "was started"))
        if session is None:
            return await self._open_attached(user, transport, refuse, hello)
        self.connected(session)
        session.attach(transport)
        return Connected(session, hello)

    async def take_over(self, thread_id: str, user: User | None, transport: Transport,
                        refuse: Callable[[ErrorEvent], None]) -> Connected | None:
        """The worker running a connection's session died: a new session here resumes the
        chat's stored thread (the client is told); None when the user may open no more."""
        refuse(outbound.error("worker_lost", LOST))
        return await self._open_attached(user, transport, refuse, {
            "type": "hello", "protocolVersion": PROTOCOL_VERSION, "resumeThreadId": thread_id})

    async def _open_attached(self, user: User | None, transport: Transport,
                             refuse: Callable[[ErrorEvent], None],
                             hello: Hello) -> Connected | None:
        """A new session of `user` attached to `transport`, to be greeted with `hello`;
        None (and `too_many_sessions` refused) past the user's cap."""
        try:
            session = await self.open_session(user)
        except SessionLimitError as exc:
            refuse(outbound.error("too_many_sessions", str(exc)))
            return None
        self.connected(session)
        session.attach(transport)
        return Connected(session, hello)

    def _make_room(self, user: User | None, total: int = 0) -> None:
        cap = self.config.server.max_sessions_per_user
        if cap <= 0 or user is None:  # None: a host without identities (embedding, tests)
            return
        mine = [s for s in self.sessions.sessions.values()
                if not s.closed and same_user(s.user, user)]
        count = max(len(mine), total)
        if count < cap:
            return
        idle = [s for s in mine if s.emitter.transport is None]  # oldest first (dict order)
        if not idle:
            raise SessionLimitError(
                f"you have {count} chats open, the most this server allows one user "
                "(server.max_sessions_per_user); close one and reload")
        oldest = idle[0]
        self.connected(oldest)  # cancels its expiry timer
        self.sessions.sessions.pop(oldest.id, None)  # gone now: not counted again
        self._closing_soon(self._closed(oldest))

    async def _closed(self, session: ChatSession) -> None:
        """Close a session taken out of the registry, and out of the directory."""
        try:
            await session.close()
        finally:
            await self.directory.release(session.id, session.user.identifier
                                         if session.user else None)

    async def close_session(self, session_id: str) -> None:
        session = self.sessions.sessions.pop(session_id, None)
        if session is not None:
            await self._closed(session)

    def find(self, session_id: str, user: User | None) -> ChatSession | None:
        """The live session `session_id` if it belongs to `user`; None otherwise."""
        session = self.sessions.get(session_id)
        if session is None or session.closed or not same_user(session.user, user):
            return None
        return session

    async def end_thread(self, thread_id: str) -> None:
        """End the live chats of a thread being deleted: each client is told (an error
        `thread_deleted`), its connection closed, the session closed (a reconnect gets a
        new chat), so none of them writes into that thread again."""
        for session in [s for s in self.sessions.sessions.values() if s.thread_id == thread_id]:
            session.error("thread_deleted", "this chat was deleted (maybe from another tab); "
                          "it is closed and a new chat starts when you reconnect")
            session.emitter.flush()
            transport = session.emitter.transport
            self.connected(session)  # no expiry timer left for it
            await self.close_session(session.id)
            if transport is not None:
                transport.close()

    def connected(self, session: ChatSession) -> None:
        timer = self._expiry.pop(session.id, None)
        if timer is not None:
            timer.cancel()

    def disconnected(self, session: ChatSession) -> None:
        """Keep the session for a reconnect, then close it."""
        self.connected(session)  # restart the clock
        loop = asyncio.get_running_loop()
        self._expiry[session.id] = loop.call_later(
            self.config.project.session_timeout, self._expire, session.id)

    def _expire(self, session_id: str) -> None:
        self._expiry.pop(session_id, None)
        self._closing_soon(self.close_session(session_id))

    def _closing_soon(self, closing: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(closing)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        for timer in self._expiry.values():
            timer.cancel()
        self._expiry.clear()
        for session_id in list(self.sessions.sessions):
            await self.close_session(session_id)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        if self.data_layer is not None:
            await self.data_layer.close()
