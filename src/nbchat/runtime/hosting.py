"""ChatHost: the live chat sessions of one server process.

It creates sessions (with persistence when it has a data layer), finds a session again
for a reconnecting client of the *same* user (never another user's: Chainlit shipped that
hijack), and closes sessions whose client stayed away longer than
`project.session_timeout`, so per-session memory is freed deterministically.

One user holds at most `server.max_sessions_per_user` live sessions (0: no cap; sessions
without a user, of hosts that identify nobody, are not counted): a new one
past the cap closes that user's oldest session without a connected client (it only waited
for a reconnect); when every one of them has a client, the new one is refused
(`SessionLimitError`, sent to the client as a `too_many_sessions` error).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from nbchat.app import App
from nbchat.config import Config
from nbchat.data import NativeDataLayer
from nbchat.errors import NbchatError, ProtocolError
from nbchat.protocol import decode_hello, outbound
from nbchat.protocol.client_events import Hello
from nbchat.protocol.server_events import ErrorEvent
from nbchat.runtime.builder import SessionBuilder
from nbchat.runtime.session import ChatSession, SessionRegistry
from nbchat.transports.base import Transport
from nbchat.types import User
from nbchat.uploads.tickets import HostTickets


def same_user(a: User | None, b: User | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.identifier == b.identifier


class SessionLimitError(NbchatError):
    """The user already has as many connected sessions as `server.max_sessions_per_user`."""


class ChatHost:
    def __init__(self, app: App, config: Config, data_layer: NativeDataLayer | None = None) -> None:
        self.config = config
        self.data_layer = data_layer
        self.sessions = SessionRegistry()
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

    def new_session(self, user: User | None) -> ChatSession:
        self._make_room(user)
        return self.sessions.add(self.builder.build(user))

    def connect(self, frame: str | bytes | dict[str, Any], user: User | None,
                transport: Transport, refuse: Callable[[ErrorEvent], None],
                ) -> tuple[ChatSession, Hello] | None:
        """A connection's first frame, decoded by the protocol (it must be a `hello`): the
        session it names, if it is `user`'s own, or a new one, attached to `transport`;
        the caller then dispatches the hello there (`ChatSession.receive_event`). `refuse`
        gets what the client is told before a session numbers its events; None when no
        session takes the connection."""
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
            if session is None:
                refuse(outbound.error(
                    "unknown_session", "that chat session is gone or not yours; a new one "
                    "was started"))
        if session is None:
            try:
                session = self.new_session(user)
            except SessionLimitError as exc:
                refuse(outbound.error("too_many_sessions", str(exc)))
                return None
        self.connected(session)
        session.attach(transport)
        return session, hello

    def _make_room(self, user: User | None) -> None:
        cap = self.config.server.max_sessions_per_user
        if cap <= 0 or user is None:  # None: a host without identities (embedding, tests)
            return
        mine = [s for s in self.sessions.sessions.values()
                if not s.closed and same_user(s.user, user)]
        if len(mine) < cap:
            return
        idle = [s for s in mine if s.emitter.transport is None]  # oldest first (dict order)
        if not idle:
            raise SessionLimitError(
                f"you have {len(mine)} chats open, the most this server allows one user "
                "(server.max_sessions_per_user); close one and reload")
        oldest = idle[0]
        self.connected(oldest)  # cancels its expiry timer
        self.sessions.sessions.pop(oldest.id, None)  # gone now: not counted again
        self._closing_soon(oldest.close())

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
            await self.sessions.close(session.id)
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
        self._closing_soon(self.sessions.close(session_id))

    def _closing_soon(self, closing: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(closing)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        for timer in self._expiry.values():
            timer.cancel()
        self._expiry.clear()
        await self.sessions.close_all()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        if self.data_layer is not None:
            await self.data_layer.close()
