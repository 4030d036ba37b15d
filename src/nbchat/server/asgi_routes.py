"""The app's own HTTP routes (an ASGI app, `chainlit.server.app`) inside `nbchat serve`.

    rule = asgi_rule(root, lambda: host.app.asgi, identity)   # last in make_app's handlers

A request no nbchat route took, whose path one of the ASGI app's routes matches (Starlette's
router is asked; another ASGI app takes every path under the root), is handed to that app
in this process: tornado parses and limits the request as for any handler, the Host guard
and trusted proxies have already applied (GuardedApplication), the response gets the
security headers of every page (the app's own headers win), and the response body is
streamed (a StreamingResponse or server-sent events flush as they are sent). There is no
tornado XSRF check on these routes: they are the app's, and like on Chainlit the app
decides (nbchat's session cookie is SameSite=Lax). The request's nbchat user is in
`scope["state"]["nbchat_user"]`, which `chainlit.auth.get_current_user` reads, so the
app's `Depends(get_current_user)` sees the same user as the chat (session cookie,
header_auth_callback, or a bearer token from `create_jwt`).

WebSocket routes of the app are not served (nbchat's own `ws` is the chat's socket).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

import tornado.httputil
from tornado.routing import Matcher, Rule
from tornado.web import RequestHandler

from nbchat.server.auth import Identity, SingleUserIdentity, public
from nbchat.server.pages import security_headers

log = logging.getLogger("nbchat.server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
AsgiApp = Callable[[Scope, Callable[[], Awaitable[Message]],
                    Callable[[Message], Awaitable[None]]], Awaitable[None]]
AppSource = Callable[[], AsgiApp | None]
USER_KEY = "nbchat_user"  # scope["state"][USER_KEY]: the request's nbchat User or None
LOGIN_KEY = "nbchat_login"  # scope["state"][LOGIN_KEY]: whether the server has login


def http_scope(request: tornado.httputil.HTTPServerRequest, root: str) -> Scope:
    """The ASGI HTTP scope of a tornado request; `root_path` is the app's root (the
    route path is the request path below it, as under any ASGI server's root_path)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": request.version.removeprefix("HTTP/") or "1.1",
        "method": request.method or "GET",
        "scheme": request.protocol,
        "path": unquote(request.path),
        "raw_path": request.path.encode("latin-1", "replace"),
        "query_string": request.query.encode("latin-1", "replace"),
        "root_path": root.rstrip("/"),
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1", "replace"))
                    for k, v in request.headers.get_all()],
        "client": (request.remote_ip, 0) if request.remote_ip else None,
        "server": None,
        "state": {},
    }


def routes_match(asgi: AsgiApp, scope: Scope) -> bool:
    """Whether the ASGI app has a route for this request. A Starlette or FastAPI app is
    asked route by route (a path it lacks stays nbchat's 404); any other ASGI app is
    taken to answer every path."""
    router = getattr(asgi, "router", None)
    routes = getattr(router, "routes", None)
    if routes is None:
        return True
    from starlette.routing import Match

    return any(route.matches(scope)[0] is not Match.NONE for route in routes)


class AsgiMatcher(Matcher):
    def __init__(self, root: str, source: AppSource) -> None:
        self.root = root
        self.source = source

    def match(self, request: tornado.httputil.HTTPServerRequest) -> dict[str, Any] | None:
        asgi = self.source()
        if asgi is None or not request.path.startswith(self.root):
            return None
        return {} if routes_match(asgi, http_scope(request, self.root)) else None


class AsgiRouteHandler(RequestHandler):
    """Runs one request through the app's ASGI app (see the module docstring)."""

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "DELETE", "PATCH", "PUT", "OPTIONS")

    def initialize(self, source: AppSource, identity: Identity, root: str) -> None:
        self.source = source
        self.identity = identity
        self.root = root
        self.gone = asyncio.Event()
        self.started = False

    def set_default_headers(self) -> None:
        security_headers(self)

    def compute_etag(self) -> None:
        """The app sets its own validators (tornado's would answer 304 for it)."""

    def check_xsrf_cookie(self) -> None:
        """The app's routes decide for themselves (module docstring)."""

    def on_connection_close(self) -> None:
        self.gone.set()

    async def _call(self) -> None:
        asgi = self.source()
        if asgi is None:  # the app was reloaded without its routes
            self.send_error(404)
            return
        scope = http_scope(self.request, self.root)
        try:
            scope["state"][USER_KEY] = await self.identity.current_user(self)
        except Exception:
            log.exception("nbchat: could not tell the user of a request to the app's route")
            scope["state"][USER_KEY] = None
        scope["state"][LOGIN_KEY] = not isinstance(self.identity, SingleUserIdentity)
        body_sent = False

        async def receive() -> Message:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": self.request.body or b"",
                        "more_body": False}
            await self.gone.wait()
            return {"type": "http.disconnect"}

        try:
            await asgi(scope, receive, self._send)
        except Exception:
            log.exception("nbchat: the app's route %s %s failed", self.request.method,
                          self.request.path)
            if not self.started:
                self.send_error(500)
                return
        if not self._finished:
            self.finish()

    async def _send(self, message: Message) -> None:
        if self._finished or self.gone.is_set():
            return
        kind = message["type"]
        if kind == "http.response.start":
            self.started = True
            self.set_status(int(message["status"]), reason=None)
            self.clear_header("Content-Type")
            seen: set[str] = set()
            for raw_name, raw_value in message.get("headers", []):
                name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
                if name.lower() in seen:
                    self.add_header(name, value)
                else:
                    seen.add(name.lower())
                    self.set_header(name, value)
        elif kind == "http.response.body":
            self.write(message.get("body", b""))
            if message.get("more_body", False):
                await self.flush()
            else:
                self.finish()

    @public
    async def get(self, *args: str) -> None:
        await self._call()

    @public
    async def head(self, *args: str) -> None:
        await self._call()

    @public
    async def post(self, *args: str) -> None:
        await self._call()

    @public
    async def put(self, *args: str) -> None:
        await self._call()

    @public
    async def patch(self, *args: str) -> None:
        await self._call()

    @public
    async def delete(self, *args: str) -> None:
        await self._call()

    @public
    async def options(self, *args: str) -> None:
        await self._call()


def asgi_rule(root: str, source: AppSource, identity: Identity) -> Rule:
    """The rule that sends unclaimed requests to the app's ASGI routes (last in line)."""
    return Rule(AsgiMatcher(root, source), AsgiRouteHandler,
                {"source": source, "identity": identity, "root": root})
