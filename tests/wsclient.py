"""A WebSocket chat client for tests that talk the protocol to a real tornado server.

`until(predicate)` returns the first event so far, or in frames still to come, that matches
(the same event again if asked twice); every read has a deadline, nothing sleeps.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import tornado.websocket

Event = dict[str, Any]
DEADLINE = 10.0


class WsClient:
    def __init__(self, conn: tornado.websocket.WebSocketClientConnection) -> None:
        self.conn = conn
        self.events: list[Event] = []
        self.frames = 0  # frames received

    async def send(self, event: Event) -> None:
        await self.conn.write_message(json.dumps(event))

    async def until(self, predicate: Callable[[Event], bool]) -> Event:
        for event in self.events:
            if predicate(event):
                return event
        while True:
            frame = await asyncio.wait_for(self.conn.read_message(), DEADLINE)
            assert frame is not None, "the server closed the connection"
            self.frames += 1
            batch: list[dict[str, Any]] = json.loads(frame)
            self.events.extend(batch)
            for event in batch:
                if predicate(event):
                    return event

    async def hello(self, **extra: Any) -> Event:
        await self.send({"type": "hello", "protocolVersion": 1, **extra})
        return await self.until(lambda e: e["type"] == "welcome")

    def text(self, step_id: str) -> str:
        """A step's output as the events so far built it (steps and token deltas)."""
        out = ""
        for e in self.events:
            if e["type"] == "step" and e["step"]["id"] == step_id:
                out = e["step"]["output"]
            elif e["type"] == "token" and e["id"] == step_id:
                out = e["delta"] if e.get("replace") else out + e["delta"]
        return out
