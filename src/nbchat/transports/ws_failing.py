"""Failing a WebSocket the way RFC 6455 §7.1.7 asks: a close frame with a code, then close.

tornado drops the TCP connection without a close frame when a text frame is not UTF-8; for
a frame over `websocket_max_message_size` it writes the 1009 close frame but closes the
socket at once, with the frame's bytes still unread, so the kernel answers with a reset
and the client throws away the close frame it had received. Either way the browser sees
code 1006 and no reason, and cannot tell "you sent something wrong" from "the server died".

`FailingProtocol` sends 1007 (invalid UTF-8) and 1009 (too big) with a reason, shuts the
socket's write side (the client reads the close frame and the end of the stream), and
reads and discards what the client still sends for up to `LINGER` seconds before closing,
so no reset overtakes the close frame. The session is not closed: a reconnect with its
`sessionId` resumes it.

This overrides tornado internals (`_handle_message`, `_abort`, `_frame_compressed`,
`stream`) of tornado 6.x; tests/security/test_bad_input.py fails if they change.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

import tornado.iostream
from tornado.websocket import WebSocketProtocol13

LINGER = 5.0  # tornado's own wait for the client's close frame
INVALID_UTF8 = 1007
TOO_BIG = 1009


class FailingProtocol(WebSocketProtocol13):
    _failed_with: int | None = None
    _draining: asyncio.Task[None] | None = None

    def _handle_message(self, opcode: int, data: bytes) -> asyncio.Future[None] | None:
        # tornado decodes text frames itself and aborts on failure; check first (ASCII,
        # nearly every frame, costs one pass). Compressed frames are decoded later by
        # tornado, and compression is off for the chat socket.
        if (opcode == 0x1 and not self.client_terminated and not self._frame_compressed
                and not data.isascii()):
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.close(INVALID_UTF8, f"a text frame is not UTF-8 (byte {exc.start})")
                self._abort()
                return None
        return super()._handle_message(opcode, data)

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        if code in (INVALID_UTF8, TOO_BIG) and not self.server_terminated:
            self._failed_with = code
        super().close(code, reason)

    def _abort(self) -> None:
        stream = self.stream
        if self._failed_with is None or stream is None or stream.closed():
            super()._abort()
            return
        # Stop reading frames (the frame loop ends); the drain owns the stream now.
        self.client_terminated = self.server_terminated = True
        if self._draining is None:
            self._draining = asyncio.ensure_future(_linger(stream))


async def _linger(stream: tornado.iostream.IOStream) -> None:
    """Flush the close frame, send FIN, discard input until the client closes (or LINGER)."""
    try:
        async with asyncio.timeout(LINGER):
            await stream.write(b"")  # resolves when everything written before is sent
            with contextlib.suppress(OSError):
                stream.socket.shutdown(socket.SHUT_WR)
            while True:
                await stream.read_bytes(64 * 1024, partial=True)
    except (tornado.iostream.StreamClosedError, TimeoutError):
        pass
    finally:
        stream.close()
