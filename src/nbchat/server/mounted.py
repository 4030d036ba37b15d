"""nbchat inside another ASGI app: `chainlit.utils.mount_chainlit(app, target, path)`.

    chat = MountedChat(Path("chat.py"), "/chat")
    fastapi_app.mount("/chat", chat)

The chat is the same `nbchat serve` server (nbchat.server.serve.start_server: its routes,
login, Host guard, security headers, WebSocket), run in the ASGI server's own event loop
on a Unix socket in a private folder (0700, the socket 0600), and this ASGI app forwards
each request to it: HTTP with httpx (streamed both ways), the chat's WebSocket with the
`websockets` client. Why a forwarding hop and not tornado's handlers called in place:
tornado's handlers (above all its WebSocket) need tornado's own connection and stream
objects, while a socket pair between two well-kept HTTP stacks keeps every handler as it
is served by `nbchat serve` (docs/architecture.md). The hop tells the private server who
the client is (X-Forwarded-For, -Proto), which it believes only from its Unix socket peer
(TrustedProxies.unix_peer); the Host header is passed as it came, so the Host guard still
judges the client's name.

The server starts with the outer app's lifespan (`mount_chainlit` wraps it) or, failing
that, on the first request; it stops (on_app_shutdown, sessions closed, data flushed)
with the lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

log = logging.getLogger("nbchat.server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
# Per-hop headers (RFC 9110 §7.6.1) and the ones the hop sets itself.
_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                  "te", "trailer", "transfer-encoding", "upgrade", "x-forwarded-for",
                  "x-forwarded-proto", "x-real-ip", "forwarded"})
# Set by the ASGI server in front of the hop: not passed back twice.
_SERVER_OWN = frozenset({"date", "server"})
_WS_OWN = frozenset({"host", "origin", "sec-websocket-key", "sec-websocket-version",
                     "sec-websocket-extensions", "sec-websocket-protocol", "content-length"})


def _headers(scope: Scope) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]


def _forwarded(scope: Scope, secure: bool) -> list[tuple[str, str]]:
    client = scope.get("client")
    out = [("X-Forwarded-Proto", "https" if secure else "http")]
    if client:
        out.append(("X-Forwarded-For", str(client[0])))
    return out


def _target(scope: Scope) -> str:
    """The path and query as the client sent them (a mount keeps the full path)."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else quote(scope["path"])
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


class MountedChat:
    """An ASGI app that is an `nbchat serve` server for the app at `target`."""

    def __init__(self, target: Path, root_path: str = "/") -> None:
        self.target = target
        self.root_path = root_path
        self.folder: Path | None = None
        self.server: Any = None
        self._http: Any = None
        self._lock = asyncio.Lock()

    @property
    def socket_path(self) -> Path:
        assert self.folder is not None
        return self.folder / "nbchat.sock"

    async def start(self) -> None:
        async with self._lock:
            if self.server is not None:
                return
            import httpx

            from nbchat.server.serve import ServeOptions, start_server

            self.folder = Path(tempfile.mkdtemp(prefix="nbchat-mount-"))  # mode 0700
            options = ServeOptions(self.target, root_path=self.root_path,
                                   unix_socket=self.socket_path)
            self.server = await start_server(options, out=sys.stderr)
            self._http = httpx.AsyncClient(
                transport=httpx.AsyncHTTPTransport(uds=str(self.socket_path)),
                timeout=httpx.Timeout(None), follow_redirects=False)
            self._http.headers.clear()  # only the client's headers go through

    async def stop(self) -> None:
        async with self._lock:
            if self.server is None:
                return
            server, self.server = self.server, None
            await self._http.aclose()
            await server.stop()
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # served on its own, not mounted
            await self._lifespan(receive, send)
            return
        await self.start()
        if scope["type"] == "http":
            await self._forward_http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._forward_websocket(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _forward_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def body() -> AsyncIterator[bytes]:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                yield message.get("body", b"")
                if not message.get("more_body", False):
                    return

        headers = [(k, v) for k, v in _headers(scope) if k.lower() not in _HOP]
        headers += _forwarded(scope, scope.get("scheme") == "https")
        request = self._http.build_request(scope["method"], f"http://nbchat{_target(scope)}",
                                           headers=headers, content=body())
        response = await self._http.send(request, stream=True)
        try:
            out = [(k.encode("latin-1"), v.encode("latin-1"))
                   for k, v in response.headers.multi_items()
                   if k.lower() not in _HOP and k.lower() not in _SERVER_OWN]
            await send({"type": "http.response.start", "status": response.status_code,
                        "headers": out})
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await response.aclose()

    async def _forward_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        from websockets.asyncio.client import unix_connect
        from websockets.exceptions import ConnectionClosed, InvalidStatus

        first = await receive()
        if first["type"] != "websocket.connect":
            return
        headers = dict(_headers(scope))
        lower = {k.lower(): v for k, v in headers.items()}
        extra = [(k, v) for k, v in headers.items()
                 if k.lower() not in _HOP and k.lower() not in _WS_OWN]
        extra += _forwarded(scope, scope.get("scheme") in ("wss", "https"))
        host = lower.get("host", "localhost")
        protocols = [p.strip() for p in lower.get("sec-websocket-protocol", "").split(",")
                     if p.strip()]
        try:
            upstream = await unix_connect(
                str(self.socket_path), f"ws://{host}{_target(scope)}",
                origin=lower.get("origin"),
                subprotocols=protocols or None,
                additional_headers=extra, compression=None, max_size=None,
                ping_interval=None, user_agent_header=None, proxy=None)
        except InvalidStatus as refused:  # 401, 403 (Host guard): no upgrade, as direct
            log.info("nbchat: mounted chat refused a WebSocket: %s",
                     refused.response.status_code)
            await send({"type": "websocket.close", "code": 1008})
            return
        await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol})

        async def down() -> None:  # server → client
            try:
                async for frame in upstream:
                    key = "text" if isinstance(frame, str) else "bytes"
                    await send({"type": "websocket.send", key: frame})
            except ConnectionClosed:
                pass
            code = upstream.close_code or 1000
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": code,
                            "reason": upstream.close_reason or ""})

        async def up() -> None:  # client → server
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    await upstream.close(message.get("code", 1000))
                    return
                frame = message.get("text")
                await upstream.send(frame if frame is not None else message.get("bytes", b""))

        tasks = [asyncio.ensure_future(down()), asyncio.ensure_future(up())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await upstream.close()
