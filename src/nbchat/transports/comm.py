"""The notebook transport: anywidget custom messages over the kernel comm.

Python → JS: `{"events": [...]}`, one batch per message (the emitter already coalesced it,
so a 50,000-token reply is a few dozen messages, far under the kernel's iopub rate limit).
JS → Python: one protocol event per message; `upload_chunk` bytes come as buffers.
"""

from __future__ import annotations

from typing import Any, Protocol

from nbchat.transports.base import Transport


class CommSender(Protocol):
    def send(self, content: dict[str, Any], buffers: list[bytes] | None = None) -> None: ...


class CommTransport(Transport):
    def __init__(self, widget: CommSender) -> None:
        self.widget = widget
        self.frames = 0

    def send(self, events: list[dict[str, Any]]) -> None:
        self.frames += 1
        self.widget.send({"events": events})
