"""How much a request may send, and how slowly: the HTTP server's limits and timeouts.

`http_server_options(config)` are the keyword arguments of `nbchat serve`'s HTTPServer:

- `max_body_size` = `server.max_body_bytes` (2 MiB): every route's body, sign-in included,
  is refused past it before it is buffered; only the upload routes raise it, per request,
  to their own limit (`StreamedBody.expect_body`), and they stream instead of buffering.
- `idle_connection_timeout` = `server.idle_timeout_ms`: a connection that has not sent a
  whole request head by then (or sits idle between keep-alive requests) is closed.
- `body_timeout` = `server.body_timeout_ms`: the whole body of an ordinary request.

An upload may take longer than that (hundreds of MB over a slow line), so an upload route
lifts tornado's whole-body deadline and instead closes the connection when no byte came
for `server.body_timeout_ms` (`StreamedBody`): a stalled upload is dropped, and the
handler's `on_connection_close` releases what it held (a live chat's upload ticket, a
half-stored file).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from tornado.web import RequestHandler

from nbchat.config import Config, ServerConfig

log = logging.getLogger("nbchat.server")

# The Application setting under which make_app hands the server section to handlers.
SETTINGS_KEY = "nbchat_server"


def http_server_options(config: Config) -> dict[str, Any]:
    server = config.server
    return {"max_body_size": server.max_body_bytes,
            "idle_connection_timeout": server.idle_timeout_ms / 1000,
            "body_timeout": server.body_timeout_ms / 1000}


class StreamedBody(RequestHandler):
    """Mixin of the `@stream_request_body` upload handlers (before their base class):
    `expect_body(limit)` in `prepare`, `body_arrived()` in `data_received`,
    `body_done()` once the method runs. Without `nbchat serve`'s settings (the Jupyter
    extension: Jupyter's server decides its own timeouts) only the size limit is set."""

    _stall: asyncio.TimerHandle | None = None
    _stall_after: float = 0.0

    def expect_body(self, max_size: int) -> None:
        connection = self.request.connection
        set_max = getattr(connection, "set_max_body_size", None)
        if set_max is not None:
            set_max(max_size)
        server = self.settings.get(SETTINGS_KEY)
        set_timeout = getattr(connection, "set_body_timeout", None)
        if isinstance(server, ServerConfig) and set_timeout is not None:
            # None: no whole-body deadline (HTTP1Connection reads the body without
            # gen.with_timeout then); the stall timer below takes its place.
            set_timeout(None)
            self._stall_after = server.body_timeout_ms / 1000
            self.body_arrived()

    def body_arrived(self) -> None:
        """Bytes came: the stall clock starts again."""
        if self._stall_after <= 0:
            return
        if self._stall is not None:
            self._stall.cancel()
        self._stall = asyncio.get_running_loop().call_later(self._stall_after, self._stalled)

    def body_done(self) -> None:
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None

    def _stalled(self) -> None:
        self._stall = None
        log.info("nbchat: closing an upload from %s that sent nothing for %.0f s",
                 self.request.remote_ip, self._stall_after)
        # HTTP1Connection tells the handler (on_connection_close) as the body read fails.
        close = getattr(self.request.connection, "close", None)
        if close is not None:
            close()

    def on_connection_close(self) -> None:
        self.body_done()
        super().on_connection_close()

    def on_finish(self) -> None:  # answered (perhaps refused before the body was read)
        self.body_done()
        super().on_finish()
