"""The tornado Application of `nbchat serve`, built by one factory with no globals.

    application = make_app(app, config, host=host, services=services, identity=identity,
                           root_path="/", headless=False)

Routes (`{root}` is the root path, "/" unless deployed under a sub-path):

    {root}                                   page (HTML shell booting static/page.js)
    {root}thread/{threadId}                  page, resuming a thread
    {root}share/{threadId}                   page, read-only share view
    {root}static/…                           the built bundle (hashed URLs, long cache)
    {root}public/elements/{Name}.js          a custom element's code (server.custom_elements)
    {root}ws                                 the protocol over a WebSocket
    {root}nbchat/api/…                       the history REST API (docs/rest-api.md)
    {root}nbchat/api/uploads/{ticket}        bytes of a live chat's upload (also without
                                             persistence; nbchat.uploads.tickets)
    {root}nbchat/blobs/{sessionId}/{key}     bytes of a live session's element or upload
    {root}health                             JSON for probes
    {root}…                                  the app's own routes, if it adds any
                                             (`chainlit.server.app`, asgi_routes.py)
    {root}chatkit, {root}chatkit/attachments/…  ChatKit's front end (server.chatkit: true;
                                             nbchat.integrations.chatkit_server)

`headless=True` leaves out the page and static routes. See docs/serving.md.
"""

from __future__ import annotations

import json
import os
import re
import weakref
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from tornado.web import HTTPError, RequestHandler

from nbchat.app import App
from nbchat.cluster import SharedState
from nbchat.cluster.memory import memory_state
from nbchat.config import Config
from nbchat.errors import ConfigError
from nbchat.runtime.hosting import ChatHost
from nbchat.server.asgi_routes import AsgiRouteHandler, asgi_rule
from nbchat.server.auth import Identity, SingleUserIdentity, public
from nbchat.server.auth.cookies import (
    CookieIdentity,
    identity_for,
)
from nbchat.server.auth.login import auth_handlers
from nbchat.server.auth.oauth import oauth_handlers
from nbchat.server.auth.oauth_providers import OAuthConfig, oauth_config
from nbchat.server.avatars import avatar_spec
from nbchat.server.blobs import BlobHandler
from nbchat.server.bodies import SETTINGS_KEY
from nbchat.server.channel_routes import channel_specs
from nbchat.server.custom_elements import custom_element_spec
from nbchat.server.network import GuardedApplication, HostGuard, TrustedProxies
from nbchat.server.pages import (
    PageContext,
    PageHandler,
    StaticHandler,
    embed_origins,
    security_headers,
)
from nbchat.server.public_files import brand_of, public_spec
from nbchat.server.routes import check_auth_declared, live_upload_spec, make_handlers
from nbchat.server.services import Services
from nbchat.transports.websocket import ChatSocketHandler
from nbchat.types import User

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
AUTH_HOOKS = ("password_auth_callback", "header_auth_callback", "oauth_callback")
LOCAL_USER = "local"
# The close code and reason of a chat socket whose cookie session was signed out.
SIGNED_OUT_CLOSE = (4401, "signed out")
# Room in a WebSocket message beyond `runtime.max_event_bytes`: an upload chunk's bytes.
UPLOAD_CHUNK_ROOM = 4 * 1024 * 1024 + 64 * 1024


def normalize_root(root_path: str) -> str:
    """`sub`, `/sub`, `/sub/` → `/sub/`; `` or `/` → `/`."""
    parts = [p for p in root_path.split("/") if p]
    return "/" + "".join(f"{p}/" for p in parts)


def wants_auth(app: App) -> list[str]:
    """The auth callbacks the app registers (empty: no login, one local user)."""
    return [hook for hook in AUTH_HOOKS if app.get(hook) is not None]


def build_identity(app: App, config: Config,
                   environ: Mapping[str, str] | None = None) -> Identity:
    """Who a request is from: without auth callbacks every request is the one local user;
    with them, signed-cookie sessions (docs/auth.md; ConfigError without a strong
    NBCHAT_AUTH_SECRET in `environ`, default os.environ)."""
    if not wants_auth(app):
        return SingleUserIdentity(LOCAL_USER)
    return identity_for(app, os.environ if environ is None else environ)


def auth_enabled(identity: Identity) -> bool:
    return not isinstance(identity, SingleUserIdentity)


class HealthHandler(RequestHandler):
    """`{"status": "ok", "app": name, "store": "ok", "worker": id}` for load balancers and start-up
    probes; `"status": "degraded", "store": "down"` while the database is unavailable
    (still 200: the process serves, and restarting it would not bring the store back)."""

    def initialize(self, host: ChatHost) -> None:
        self.host = host

    def set_default_headers(self) -> None:
        security_headers(self)
        self.set_header("Cache-Control", "no-store")

    @public
    def get(self) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        data = self.host.data_layer
        store = "off" if data is None else "ok" if data.available else "down"
        self.finish(json.dumps({"status": "degraded" if store == "down" else "ok",
                                "app": self.host.app.name, "store": store,
                                "worker": self.host.directory.worker}))


class SessionSockets:
    """The chat WebSockets opened with each cookie session, so that logout ends them: a
    socket outlives the request that opened it and would otherwise keep chatting as the
    signed-out user. `identity.signed_out` calls `close_session`."""

    def __init__(self, identity: CookieIdentity) -> None:
        self.identity = identity
        self._session_of: weakref.WeakKeyDictionary[RequestHandler, str] = (
            weakref.WeakKeyDictionary())
        identity.signed_out.append(self.close_session)

    async def bind(self, handler: RequestHandler, user: User) -> bool:
        """Bind a socket of `user` to its cookie session; False when that session was
        signed out meanwhile (logout while `current_user` looked the user up)."""
        identity = self.identity
        token = identity.cookie_token(handler)
        if token is None or token.identifier != user.identifier:
            return True  # not a cookie session (header_auth_callback): nothing to end
        if await identity.revoked(token.session_id):
            return False
        self._session_of[handler] = token.session_id
        return True

    def close_session(self, session_id: str) -> None:
        for handler, bound in list(self._session_of.items()):
            if bound == session_id and isinstance(handler, ChatSocketHandler):
                handler.close(*SIGNED_OUT_CLOSE)


def socket_identify(identity: Identity, sockets: SessionSockets | None = None) -> Any:
    """The WebSocket handler's `identify`: the Identity's user, or 401 before the upgrade;
    with `sockets`, the socket is bound to its cookie session (closed at logout)."""

    async def identify(handler: RequestHandler) -> User:
        user = await identity.current_user(handler)
        if user is None:
            raise HTTPError(401, "sign in first")
        if sockets is not None and not await sockets.bind(handler, user):
            raise HTTPError(401, "signed out; sign in again")
        return user

    return identify


def chatkit_routes(host: ChatHost, identity: Identity, root: str) -> list[Any]:
    """The ChatKit bridge's routes, behind the same identity as the chats and the API."""
    try:
        from nbchat.integrations.chatkit_server import served_routes
    except ImportError as exc:  # openai-chatkit is an optional dependency
        raise ConfigError(f"server.chatkit needs the openai-chatkit package ({exc}); "
                          "pip install 'nbchat[chatkit]'") from None
    return served_routes(host, identity, root)


def make_app(app: App, config: Config, *, host: ChatHost, services: Services | None,
             identity: Identity, root_path: str = "/", headless: bool = False,
             static_dir: Path = STATIC_DIR,
             connections: set[ChatSocketHandler] | None = None,
             oauth: OAuthConfig | None = None,
             bind_host: str = "127.0.0.1",
             shared: SharedState | None = None) -> GuardedApplication:
    """The standalone server's Application (see the module docstring for the routes).

    `app` is the loaded App (the host serves `host.app`, which a reload may replace);
    `services` None (persistence off) leaves out the REST API;
    `connections`, when given, collects the open WebSocket handlers (for shutdown and
    reload notices); `oauth`, the OAuth providers (default: read from os.environ once, here;
    ConfigError when half configured); `bind_host`, the address the server listens on
    (its name is answered by the Host guard, nbchat.server.network); `shared`, the state
    several workers share (nbchat.cluster; default: this process's memory)."""
    root = normalize_root(root_path)
    r = re.escape(root)
    if services is not None:  # deleting a thread ends this host's live chats of it
        services = replace(services, end_live_thread=host.end_thread)
    shared = shared or memory_state()
    if isinstance(identity, CookieIdentity):
        identity.revocations = shared.revocations
    sockets = SessionSockets(identity) if isinstance(identity, CookieIdentity) else None
    socket_args = {"host": host, "identify": socket_identify(identity, sockets),
                   "connections": connections}
    handlers: list[Any] = [
        (rf"{r}health", HealthHandler, {"host": host}),
        (rf"{r}ws", ChatSocketHandler, socket_args),
        (rf"{r}nbchat/blobs/([^/]+)/([^/]+)", BlobHandler,
         {"host": host, "identity": identity}),
        *(make_handlers(root, services) if services is not None else
          [live_upload_spec(root, host.upload_tickets, identity)]),
    ]
    if config.server.chatkit:
        handlers += chatkit_routes(host, identity, root)
    brand = brand_of(config.ui, config.app_dir, root)
    if isinstance(identity, CookieIdentity):  # login and logout, also when headless
        identity.app_source = lambda: host.app  # a reload's callbacks apply at once
        oauth = oauth_config(os.environ) if oauth is None else oauth
        buttons = [(p.id, p.name) for p in oauth.providers] if app.get("oauth_callback") else []
        handlers += auth_handlers(root, identity.app_source, services, identity=identity,
                                  providers=buttons, brand=brand, limiter=shared.attempts)
        handlers += oauth_handlers(root, identity.app_source, services, identity=identity,
                                   config=oauth, states=shared.oauth_states)
    handlers += channel_specs(r, host, os.environ)  # Slack, when its variables are set
    settings: dict[str, Any] = {
        "xsrf_cookies": True,
        "xsrf_cookie_kwargs": {"samesite": "Strict", "path": root},
        "compress_response": True,
        "websocket_max_message_size": config.runtime.max_event_bytes + UPLOAD_CHUNK_ROOM,
        "websocket_ping_interval": 30,
        SETTINGS_KEY: config.server,  # the upload routes' stall timeout (server.bodies)
    }
    if not headless:
        context = PageContext(root, config, identity, auth_enabled(identity),
                              embed_origins(config), brand)
        handlers += [
            (rf"{r}", PageHandler, {"context": context}),
            (rf"{r}thread/([^/]+)", PageHandler, {"context": context}),
            (rf"{r}share/([^/]+)", PageHandler, {"context": context, "mode": "share"}),
            avatar_spec(r, config.app_dir, config.ui.name),
            custom_element_spec(r, config.app_dir),
            public_spec(r, config.app_dir),
        ]
        settings.update(static_path=str(static_dir), static_url_prefix=f"{root}static/",
                        static_handler_class=StaticHandler)
    # Like the API's handlers, every page-level handler declares its auth (the WebSocket
    # authenticates through `identify`; static files are public by nature).
    for spec in handlers:
        if spec[1] is not ChatSocketHandler:
            check_auth_declared(spec[1])
    # Last: what no nbchat route took may be one of the app's own routes (asgi_routes.py).
    check_auth_declared(AsgiRouteHandler)
    routes: list[Any] = [*handlers, asgi_rule(root, lambda: host.app.asgi, identity)]
    login = auth_enabled(identity)
    return GuardedApplication(
        routes, hosts=HostGuard.for_server(config, bind_host, login=login),
        proxies=TrustedProxies.parse(config.server.trusted_proxies), login=login, **settings)
