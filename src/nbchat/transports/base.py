"""The transport interface: send a batch of server events, close.

Inbound frames are handed by the host to `ChatSession.receive(frame, buffers)`; a transport
never parses or interprets them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class Transport(ABC):
    @abstractmethod
    def send(self, events: list[dict[str, Any]]) -> None:
        """Deliver one batch of numbered server events. Must not block."""

    def close(self) -> None:  # noqa: B027 - optional hook, most transports need nothing
        """Release the connection; the session may attach another transport later."""
