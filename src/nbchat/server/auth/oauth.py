"""OAuth 2.0 / OpenID Connect login for `nbchat serve` (authorization code flow, PKCE S256).

    GET {root}oauth/{provider}/login?next=…   → 302 to the provider's authorize URL
    GET {root}oauth/{provider}/callback       → checks, code exchange, user, session cookie

The login step draws a random `state`, a PKCE verifier and (OIDC) a `nonce`, and keeps them
with the `next` path and the redirect URI in the flow cookie `nbchat_oauth`: a tornado signed
value (the session secret, its own cookie name), HttpOnly, SameSite=Lax, Path
`{root}oauth/{provider}/`, ten minutes. The callback reads and clears it at once, compares
`state` in constant time, refuses a `state` this process has already seen (a replayed
callback) or an `iss` naming another issuer (RFC 9207), exchanges the code with the verifier,
and, for OIDC, verifies the ID token and merges the userinfo (oauth_client.py). The app's
`oauth_callback(provider_id, access_token, raw_user_data, default_user)` decides: a User
signs in (stored with the data layer's `create_user`, then `CookieIdentity.sign_in`) and goes
to `next` (a path under root only); None answers 401. Every failure answers a 4xx page (502
when the provider cannot be reached) and signs nobody in.
"""

from __future__ import annotations

import hmac
import html
import json
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from tornado.web import HTTPError, RequestHandler, create_signed_value, decode_signed_value

from nbchat.app import call_user
from nbchat.cluster import OneTimeValues
from nbchat.cluster.memory import MemoryOneTimeValues
from nbchat.data import NativeDataLayer
from nbchat.server.auth import Identity, public
from nbchat.server.auth.cookies import AppSource, CookieIdentity, current
from nbchat.server.auth.login import CSP, render_page, safe_next
from nbchat.server.auth.oauth_client import LEEWAY, OAuthClient, OAuthError, pkce_pair
from nbchat.server.auth.oauth_providers import OAuthConfig
from nbchat.server.routes import Spec, check_auth_declared
from nbchat.server.services import Services
from nbchat.types import User

log = logging.getLogger("nbchat.server")

FLOW_COOKIE = "nbchat_oauth"
FLOW_MAX_AGE = 600  # seconds from the login click to the callback


@dataclass(frozen=True)
class Flow:
    provider: str
    state: str
    verifier: str
    nonce: str | None
    next_path: str
    redirect_uri: str


class OAuthFlows:
    """What the handlers share: the config, one client per provider, states seen (in
    the shared state: a callback replayed to another worker is refused there too)."""

    def __init__(self, config: OAuthConfig, identity: CookieIdentity,
                 states: OneTimeValues | None = None) -> None:
        self.config = config
        self.identity = identity
        self.clients = {p.id: OAuthClient(p) for p in config.providers}
        self.states = states if states is not None else MemoryOneTimeValues()

    async def seen(self, state: str) -> bool:
        """True when `state` came back before (then it is a replay); records it."""
        return not await self.states.first_use(state, FLOW_MAX_AGE + LEEWAY)

    def encode(self, flow: Flow) -> str:
        payload = json.dumps([flow.provider, flow.state, flow.verifier, flow.nonce,
                              flow.next_path, flow.redirect_uri], separators=(",", ":"))
        return create_signed_value(self.identity.secret, FLOW_COOKIE, payload).decode()

    def decode(self, value: str | None) -> Flow | None:
        if not value or len(value) > 4000:
            return None
        raw = decode_signed_value(self.identity.secret, FLOW_COOKIE, value,
                                  max_age_days=FLOW_MAX_AGE / 86400, min_version=2)
        try:
            fields = json.loads(raw) if raw is not None else None
            return Flow(*fields) if isinstance(fields, list) and len(fields) == 6 else None
        except (TypeError, ValueError):
            return None


class OAuthHandler(RequestHandler):
    def initialize(self, app: AppSource, flows: OAuthFlows, data: NativeDataLayer | None,
                   root: str) -> None:
        self.app = current(app)
        self.flows = flows
        self.data = data
        self.root = root

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("Referrer-Policy", "no-referrer")  # the callback URL carries the code
        self.set_header("Content-Security-Policy", CSP)

    def client(self, provider_id: str) -> OAuthClient:
        client = self.flows.clients.get(provider_id)
        if client is None or self.app.get("oauth_callback") is None:
            raise HTTPError(404)
        return client

    def cookie_path(self, provider_id: str) -> str:
        return f"{self.root}oauth/{quote(provider_id, safe='')}/"

    def fail(self, status: int, message: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        esc = html.escape
        self.finish(render_page("Sign-in failed", f"<h1>Sign-in failed</h1><p>{esc(message)}</p>"
                                f"<p><a href=\"{esc(self.root)}login\">Sign in again</a></p>"))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.fail(status_code, "Not found." if status_code == 404 else
                  "The server failed on this request.")


class OAuthLoginHandler(OAuthHandler):
    @public
    async def get(self, provider_id: str) -> None:
        client = self.client(provider_id)
        try:
            ends = await client.endpoints()
        except OAuthError as exc:
            self.fail(exc.status, exc.message)
            return
        verifier, challenge = pkce_pair()
        nonce = secrets.token_urlsafe(24) if client.provider.oidc else None
        base = self.flows.config.public_url or f"{self.request.protocol}://{self.request.host}"
        flow = Flow(provider_id, secrets.token_urlsafe(32), verifier, nonce,
                    safe_next(self.get_query_argument("next", None), self.root),
                    f"{base}{self.cookie_path(provider_id)}callback")
        self.set_cookie(FLOW_COOKIE, self.flows.encode(flow), path=self.cookie_path(provider_id),
                        max_age=FLOW_MAX_AGE, httponly=True, samesite="Lax",
                        secure=self.request.protocol == "https")
        self.redirect(client.authorize_url(ends, flow.redirect_uri, flow.state, challenge, nonce))


class OAuthCallbackHandler(OAuthHandler):
    @public
    async def get(self, provider_id: str) -> None:
        client = self.client(provider_id)
        flow = self.flows.decode(self.get_cookie(FLOW_COOKIE))
        self.clear_cookie(FLOW_COOKIE, path=self.cookie_path(provider_id))  # one use only
        try:
            user = await self.finish_flow(client, flow)
        except OAuthError as exc:
            self.fail(exc.status, exc.message)
            return
        if self.data is not None:
            await self.data.create_user(user)
        self.flows.identity.sign_in(self, user)
        assert flow is not None
        self.redirect(flow.next_path, status=303)

    async def finish_flow(self, client: OAuthClient, flow: Flow | None) -> User:
        state = self.get_query_argument("state", "") or ""
        if flow is None or flow.provider != client.provider.id:
            raise OAuthError(400, "This sign-in expired or was started in another browser. "
                                  "Start it again.")
        if not hmac.compare_digest(state.encode(), flow.state.encode()):
            raise OAuthError(400, "The sign-in's state does not match. Start it again.")
        if await self.flows.seen(flow.state):
            raise OAuthError(400, "This sign-in was already used. Start it again.")
        error = self.get_query_argument("error", None)
        if error is not None:
            shown = error if error.replace("_", "").isalnum() and len(error) < 64 else "error"
            raise OAuthError(401, f"The sign-in provider did not sign you in ({shown}).")
        code = self.get_query_argument("code", None)
        if not code:
            raise OAuthError(400, "The sign-in provider sent no authorization code.")
        ends = await client.endpoints()
        iss = self.get_query_argument("iss", None)  # RFC 9207: a mix-up attack's tell
        if iss is not None and ends.issuer and "{tenantid}" not in ends.issuer \
                and iss != ends.issuer:
            raise OAuthError(400, "The sign-in answer came from another provider.")
        token = await client.exchange(ends, code, flow.redirect_uri, flow.verifier)
        raw = await client.user_data(ends, token, flow.nonce)
        provider = client.provider
        try:
            identifier, name = provider.map_user(provider.id, raw)
        except ValueError as exc:
            raise OAuthError(400, "The sign-in provider's user data has no user id.") from exc
        default = User(identifier=identifier, display_name=name,
                       metadata={"provider": provider.id})
        hook = self.app.get("oauth_callback")
        if hook is None:
            raise OAuthError(404, "Not found.")
        try:
            user = await call_user(hook, provider.id, token["access_token"], raw, default)
        except Exception as exc:
            log.exception("oauth_callback failed; nobody is signed in")
            raise OAuthError(500, "The app failed to sign you in.") from exc
        if not isinstance(user, User):
            if user is not None:
                log.error("oauth_callback returned %s, not a User or None", type(user).__name__)
            raise OAuthError(401, "This app does not let you sign in with that account.")
        return user


def oauth_handlers(root: str, app: AppSource, services: Services | None, *,
                   identity: Identity | None = None, config: OAuthConfig,
                   states: OneTimeValues | None = None) -> list[Spec]:
    """URL specs of `{root}oauth/{provider}/login` and `/callback` for the providers in
    `config` (none when it has none). They answer 404 while the app registers no
    `oauth_callback`. `states`: where used `state` values are kept (default: memory)."""
    if identity is None and services is not None:
        identity = services.identity
    if not isinstance(identity, CookieIdentity):
        raise TypeError("oauth_handlers needs a CookieIdentity (build_cookie_identity)")
    if not config.providers:
        return []
    kwargs = {"app": app, "flows": OAuthFlows(config, identity, states), "root": root,
              "data": services.data if services is not None else None}
    specs: list[Spec] = []
    ids = "|".join(re.escape(p.id) for p in config.providers)
    for step, handler in (("login", OAuthLoginHandler), ("callback", OAuthCallbackHandler)):
        check_auth_declared(handler)
        specs.append((rf"{re.escape(root)}oauth/({ids})/{step}", handler, kwargs))
    return specs
