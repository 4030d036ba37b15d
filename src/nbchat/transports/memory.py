"""An in-process transport: batches go through JSON, as on a real wire, to a callback.

Used by nbchat.testing, the terminal chat and the benchmarks. Encoding each batch keeps the
receiver from sharing dicts with the server and counts the bytes a real wire would carry.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from nbchat.protocol import encode_utf8
from nbchat.transports.base import Transport


class MemoryTransport(Transport):
    def __init__(self, receiver: Callable[[list[dict[str, Any]]], None]) -> None:
        self.receiver = receiver
        self.frames = 0
        self.bytes = 0
        self.closed = False

    def send(self, events: list[dict[str, Any]]) -> None:
        if self.closed:
            return
        frame = encode_utf8(events)
        self.frames += 1
        self.bytes += len(frame)
        self.receiver(json.loads(frame))

    def close(self) -> None:
        self.closed = True
