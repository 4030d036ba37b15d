"""What a widget would send over its comm, for tests that drive a ChatWidget without a
browser (`widget.send = SentLog()`), awaited by predicate."""

from __future__ import annotations

import asyncio
from typing import Any


class SentLog:
    def __init__(self, timeout: float = 10) -> None:
        self.events: list[dict[str, Any]] = []
        self.changed = asyncio.Event()
        self.timeout = timeout

    def __call__(self, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        self.events.extend(content.get("events", [content]))
        self.changed.set()

    async def until(self, predicate: Any) -> dict[str, Any]:
        """The first event sent so far or later that `predicate` accepts."""
        while True:
            for event in self.events:
                if predicate(event):
                    return event
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), self.timeout)
