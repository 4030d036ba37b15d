"""A real tornado server with login on a free loopback port, and a browser-like client.

The Application is assembled here from the pieces `nbchat serve` mounts (auth_handlers,
the REST make_handlers, ChatSocketHandler over a ChatHost with the
standalone server's `socket_identify`), under the odd root
`/a%40b/` so nothing can assume `/`. The client keeps cookies like a browser and sends
the XSRF token the way the page does (the `_xsrf` form field, the X-XSRFToken header).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import tornado.httpclient
import tornado.websocket
from tornado.httpclient import AsyncHTTPClient, HTTPResponse
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port
from tornado.web import Application

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.config import Config, ProjectConfig
from nbchat.data import LocalStorage, NativeDataLayer, SQLiteDataLayer
from nbchat.runtime.hosting import ChatHost
from nbchat.server import Services, make_handlers
from nbchat.server.auth.cookies import build_cookie_identity
from nbchat.server.auth.login import auth_handlers
from nbchat.server.limiter import AttemptLimiter
from nbchat.server.standalone import socket_identify
from nbchat.transports.websocket import ChatSocketHandler
from nbchat.types import User
from wsclient import WsClient

ROOT = "/a%40b/"
API = ROOT + "nbchat/api"
SECRET = "s" * 16 + "e" * 16 + "c" * 16  # 48 characters
PASSWORDS = {"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw"}


@dataclass
class Probe:
    """What the app's callbacks saw; tests await its events instead of sleeping."""

    logouts: list[tuple[Any, Any]] = field(default_factory=list)
    share_views: list[tuple[str, str]] = field(default_factory=list)
    share_policy: Callable[[dict[str, Any], User], bool] | None = None
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    received: asyncio.Queue[str] = field(default_factory=asyncio.Queue)


def login_app(probe: Probe, *, header: bool = False, password: bool = True) -> App:
    app = App("auth")
    with registering_on(app):
        if password:

            @cl.password_auth_callback
            def check(username: str, password: str) -> cl.User | None:
                if PASSWORDS.get(username) != password:
                    return None
                return cl.User(identifier=username, display_name=username.title() + " A.",
                               metadata=probe.metadata.get(username, {"role": "user"}))

        if header:

            @cl.header_auth_callback
            async def from_proxy(headers: Any) -> cl.User | None:
                name = headers.get("X-Forwarded-User")
                return cl.User(identifier=name, display_name=f"{name} (proxy)") if name else None

        @cl.on_logout
        def bye(request: Any, response: Any) -> None:
            probe.logouts.append((request, response))

        @cl.on_shared_thread_view
        async def may_view(thread: dict[str, Any], viewer: cl.User) -> bool:
            probe.share_views.append((thread["id"], viewer.identifier))
            return True if probe.share_policy is None else probe.share_policy(thread, viewer)

        @cl.on_message
        async def echo(message: cl.Message) -> None:
            await probe.received.put(message.content)
            await cl.Message(content=f"echo {message.content}").send()

    return app


@dataclass
class Served:
    port: int
    app: App
    probe: Probe
    data: NativeDataLayer
    services: Services
    limiter: AttemptLimiter
    clock: list[float]  # the limiter's clock; tests move it on

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def browser(self) -> Browser:
        return Browser(self)


@contextlib.asynccontextmanager
async def serve(tmp_path: Path, app: App, probe: Probe) -> AsyncIterator[Served]:
    files = tmp_path / "files"
    layer = SQLiteDataLayer(tmp_path / "db" / "nbchat.db", LocalStorage(files))
    assert layer.storage is not None
    identity = build_cookie_identity(app, SECRET)
    host = ChatHost(app, Config(project=ProjectConfig(session_timeout=3600)), layer)
    services = Services(layer, layer.storage, identity, live_uploads=host.upload_tickets)
    clock = [1000.0]
    limiter = AttemptLimiter(max_failures=5, per_ip=8, window=300, clock=lambda: clock[0])
    specs = [*auth_handlers(ROOT, app, services, limiter=limiter),
             *make_handlers(ROOT, services),
             (re.escape(ROOT) + "ws", ChatSocketHandler,
              {"host": host, "identify": socket_identify(identity)})]
    application = Application(specs, xsrf_cookies=True)
    sock, port = bind_unused_port()
    server = HTTPServer(application, xheaders=True)
    server.add_sockets([sock])
    try:
        yield Served(port, app, probe, layer, services, limiter, clock)
    finally:
        server.stop()
        await server.close_all_connections()
        await host.close()


class Browser:
    """Cookies in, cookies out, redirects not followed (tests look at them)."""

    def __init__(self, served: Served) -> None:
        self.served = served
        self.cookies: dict[str, str] = {}
        self.set_cookies: list[SimpleCookie] = []
        self.client = AsyncHTTPClient(force_instance=True)
        self.sockets: list[tornado.websocket.WebSocketClientConnection] = []

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def _take_cookies(self, response: HTTPResponse) -> None:
        for line in response.headers.get_list("Set-Cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(line)
            self.set_cookies.append(jar)
            for name, morsel in jar.items():
                expires = morsel["expires"]
                if morsel["max-age"] == "0" or (expires and parsedate_to_datetime(expires)
                                                < datetime.now(UTC)):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    async def fetch(self, method: str, path: str, *, form: dict[str, str] | None = None,
                    body: Any = None, raw: bytes | None = None, xsrf: bool = True,
                    headers: dict[str, str] | None = None) -> HTTPResponse:
        hdrs = dict(headers or {})
        payload = raw
        if form is not None:
            payload = urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            payload = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        if payload is None and method in ("POST", "PUT", "PATCH"):
            payload = b""
        if xsrf and method not in ("GET", "HEAD") and "_xsrf" in self.cookies:
            hdrs.setdefault("X-XSRFToken", self.cookies["_xsrf"])
        if self.cookies:
            hdrs["Cookie"] = self.cookie_header()
        response = await self.client.fetch(
            self.served.origin + path, method=method, headers=hdrs, body=payload,
            raise_error=False, follow_redirects=False, allow_nonstandard_methods=True)
        self._take_cookies(response)
        return response

    async def login_page(self, query: str = "") -> tuple[HTTPResponse, str]:
        page = await self.fetch("GET", ROOT + "login" + query)
        found = re.search(r'name="_xsrf" value="([^"]+)"', page.body.decode())
        return page, found.group(1) if found else ""

    async def login(self, username: str, password: str | None = None, *,
                    next_path: str | None = None, xsrf: bool = True,
                    headers: dict[str, str] | None = None) -> HTTPResponse:
        _, token = await self.login_page()
        form = {"username": username, "password": PASSWORDS.get(username, "?")
                if password is None else password}
        if xsrf:
            form["_xsrf"] = token
        if next_path is not None:
            form["next"] = next_path
        return await self.fetch("POST", ROOT + "login", form=form, xsrf=False,
                                headers=headers)

    async def ws(self, origin: str | None = None,
                 headers: dict[str, str] | None = None) -> WsClient:
        hdrs = {"Origin": origin or self.served.origin, **(headers or {})}
        if self.cookies:
            hdrs["Cookie"] = self.cookie_header()
        request = tornado.httpclient.HTTPRequest(
            f"ws://127.0.0.1:{self.served.port}{ROOT}ws", headers=hdrs)
        conn = await tornado.websocket.websocket_connect(request)
        self.sockets.append(conn)
        return WsClient(conn)

    async def close(self) -> None:
        for conn in self.sockets:
            conn.close()
            while await asyncio.wait_for(conn.read_message(), 10) is not None:
                pass
        self.client.close()


def is_final_reply(event: dict[str, Any]) -> bool:
    return (event["type"] == "step" and event["step"]["type"] == "assistant_message"
            and not event["step"]["streaming"])


def body(response: HTTPResponse) -> Any:
    return json.loads(response.body)
