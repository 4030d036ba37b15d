"""A WebSocket chat client and small HTTP helpers for the `nbchat serve` tests.

Nothing here sleeps: reads wait on frames with a deadline.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import tornado.httpclient
import tornado.websocket

DEADLINE = 20.0
Event = dict[str, Any]


class WsClient:
    """Collects server events; `until(predicate)` waits for one."""

    def __init__(self, conn: tornado.websocket.WebSocketClientConnection) -> None:
        self.conn = conn
        self.events: list[Event] = []
        self.seen = 0

    @classmethod
    async def connect(cls, url: str, headers: dict[str, str] | None = None) -> WsClient:
        request = tornado.httpclient.HTTPRequest(url, headers=headers or {})
        return cls(await tornado.websocket.websocket_connect(request))

    async def send(self, event: Event) -> None:
        await self.conn.write_message(json.dumps(event))

    async def hello(self, **fields: Any) -> Event:
        await self.send({"type": "hello", "protocolVersion": 1, **fields})
        return await self.until(lambda e: e["type"] == "welcome")

    async def until(self, predicate: Callable[[Event], bool],
                    deadline: float = DEADLINE) -> Event:
        """The first event (not returned before) that matches, waiting for more frames."""
        while True:
            for i in range(self.seen, len(self.events)):
                if predicate(self.events[i]):
                    self.seen = i + 1
                    return self.events[i]
            frame = await asyncio.wait_for(self.conn.read_message(), deadline)
            assert frame is not None, "the server closed the connection"
            self.events.extend(json.loads(frame))

    async def reply(self, content: str) -> Event:
        """Send a message; return the final assistant message after it."""
        await self.send({"type": "user_message", "content": content})
        return await self.until(is_final_reply)

    async def close(self) -> None:
        self.conn.close()
        while await asyncio.wait_for(self.conn.read_message(), DEADLINE) is not None:
            pass


def is_final_reply(event: Event) -> bool:
    return (event["type"] == "step" and event["step"]["type"] == "assistant_message"
            and not event["step"]["streaming"])


async def fetch(url: str, **kwargs: Any) -> tornado.httpclient.HTTPResponse:
    """GET (or whatever `method=` says) without raising on 4xx/5xx."""
    client = tornado.httpclient.AsyncHTTPClient()
    return await client.fetch(url, raise_error=False, **kwargs)
