"""One live chat session per platform thread.

A platform thread (a Slack thread, a DM) is an ordinary nbchat thread: persisted, listed
and resumed like one from the page. Its nbchat id is derived from the platform's
(uuid5 of the client type and the platform's thread key), so a restarted server finds it
in the data layer and resumes it (`on_chat_resume`) instead of starting over. The thread
belongs to the platform user who started it; the others who write in it speak in that
chat. A session idle for `project.session_timeout` seconds is closed (`on_chat_end`);
its next message resumes it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nbchat.channels.relay import ChannelRelay, PlatformOutput
from nbchat.protocol import PROTOCOL_VERSION
from nbchat.runtime.hosting import ChatHost
from nbchat.runtime.session import ChatSession
from nbchat.types import User

NAMESPACE = uuid.UUID("6b1f9a44-5d0e-4c1e-9f4e-6e62636861ff")  # nbchat's channel threads


def thread_id_for(client_type: str, key: str) -> str:
    """The nbchat thread id of a platform thread (the same on every server)."""
    return str(uuid.uuid5(NAMESPACE, f"{client_type}:{key}"))


@dataclass
class LiveThread:
    session: ChatSession
    relay: ChannelRelay
    idle: asyncio.TimerHandle | None = None


class ChannelThreads:
    def __init__(self, host: ChatHost, client_type: str) -> None:
        self.host = host
        self.client_type = client_type
        self.live: dict[str, LiveThread] = {}
        self._opening: dict[str, asyncio.Lock] = {}

    async def open(self, key: str, user: User, output: Callable[[], PlatformOutput],
                   user_data: dict[str, Any] | None = None) -> LiveThread:
        """The live chat of platform thread `key`: started (or resumed from the data
        layer) on its first message; `user_data` is set in its user session each time."""
        lock = self._opening.setdefault(key, asyncio.Lock())
        async with lock:  # a burst of messages in a new thread starts one chat
            live = self.live.get(key)
            if live is None or live.session.closed:
                live = await self._start(key, user, output())
                self.live[key] = live
        live.session.user_data.update(user_data or {})
        self._keep_alive(key, live)
        return live

    async def known(self, key: str) -> bool:
        """True when platform thread `key` is a chat of this app (live, or stored)."""
        if key in self.live:
            return True
        layer = self.host.data_layer
        return layer is not None and await layer.get_thread(
            thread_id_for(self.client_type, key)) is not None

    async def _start(self, key: str, user: User, output: PlatformOutput) -> LiveThread:
        host = self.host
        thread_id = thread_id_for(self.client_type, key)
        stored = await host.data_layer.get_thread(thread_id) if host.data_layer else None
        owner = user
        if stored is not None and stored.get("userIdentifier"):
            owner = User(identifier=str(stored["userIdentifier"]))
        relay = ChannelRelay(output, feedback=host.data_layer is not None)
        relay.resuming = stored is not None
        builder = dataclasses.replace(host.builder, client_type=self.client_type)
        session = host.sessions.add(builder.build(
            owner, thread_id=None if stored else thread_id, transport=relay))
        hello: dict[str, Any] = {"type": "hello", "protocolVersion": PROTOCOL_VERSION}
        if stored is not None:
            hello["resumeThreadId"] = thread_id
        await session.receive(hello)
        return LiveThread(session, relay)

    def _keep_alive(self, key: str, live: LiveThread) -> None:
        if live.idle is not None:
            live.idle.cancel()
        timeout = self.host.config.project.session_timeout
        live.idle = asyncio.get_running_loop().call_later(
            timeout, lambda: asyncio.ensure_future(self.close(key)))

    async def close(self, key: str) -> None:
        """End a thread's live chat (it resumes on its next message)."""
        live = self.live.pop(key, None)
        self._opening.pop(key, None)
        if live is not None:
            if live.idle is not None:
                live.idle.cancel()
            await self.host.sessions.close(live.session.id)

    async def close_all(self) -> None:
        for key in list(self.live):
            await self.close(key)
