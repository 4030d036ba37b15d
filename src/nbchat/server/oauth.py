"""OAuth 2.0 / OpenID Connect login for `nbchat serve` (authorization code flow, PKCE S256).

    GET {root}oauth/{provider}/login?next=…   → 302 to the provider's authorize URL
    GET {root}oauth/{provider}/callback       → checks, code exchange, user, session cookie

The login step draws a random `state`, a PKCE verifier and (OIDC) a `nonce`, and keeps them
with the `next` path and the redirect URI in the flow cookie `nbchat_oauth`: a tornado signed
value (the session secret, its own cookie name), HttpOnly, SameSite=Lax, Path
`{root}oauth/{provider}/`, ten minutes. The callback reads and clears it at once, compares
`state` in constant time, refuses a `state` this process has already seen (a replayed
callback), exchanges the code with the verifier (tornado's AsyncHTTPClient), and, for OIDC,
verifies the ID token with PyJWT against the provider's JWKS (asymmetric algorithms only;
`iss`, `aud`, `azp`, `exp`, `iat`, `nonce`), then merges the userinfo (same `sub`). The app's
`oauth_callback(provider_id, access_token, raw_user_data, default_user)` decides: a User
signs in (stored with the data layer's `create_user`, then `CookieIdentity.sign_in`) and goes
to `next` (a path under root only); None answers 401. Every failure answers a 4xx page (502
when the provider cannot be reached) and signs nobody in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import logging
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import jwt
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.web import HTTPError, RequestHandler, create_signed_value, decode_signed_value

from nbchat.app import call_user
from nbchat.data import BaseDataLayer
from nbchat.server.auth import Identity, public
from nbchat.server.cookies import AppSource, CookieIdentity, current
from nbchat.server.login import CSP, render_page, safe_next
from nbchat.server.oauth_providers import OAuthConfig, Provider, check_endpoint
from nbchat.server.routes import Spec, check_auth_declared
from nbchat.server.services import Services
from nbchat.types import User

log = logging.getLogger("nbchat.server")

FLOW_COOKIE = "nbchat_oauth"
FLOW_MAX_AGE = 600  # seconds from the login click to the callback
HTTP_TIMEOUT = 15.0
DISCOVERY_TTL = 3600.0
LEEWAY = 60  # seconds of clock skew allowed on exp/iat
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                       "ES256", "ES384", "ES512", "EdDSA")  # never HS*/none
_USED_STATES = 10_000


class OAuthError(Exception):
    """A failed sign-in: `status` and a message fit for the page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge) per RFC 7636."""
    verifier = secrets.token_urlsafe(48)  # 64 characters of [A-Za-z0-9_-]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Endpoints:
    authorize: str
    token: str
    userinfo: str | None = None
    jwks: str | None = None
    issuer: str | None = None
    basic_auth: bool = False  # client_secret_basic, else client_secret_post
    algorithms: tuple[str, ...] = ("RS256",)


class OAuthClient:
    """Talks to one provider: discovery, JWKS, code exchange, userinfo."""

    def __init__(self, provider: Provider, http: AsyncHTTPClient | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.provider = provider
        self.http = http or AsyncHTTPClient()
        self.clock = clock
        self._endpoints: tuple[Endpoints, float] | None = None
        self._keys: dict[str, jwt.PyJWK] | None = None

    async def _json(self, request: HTTPRequest, what: str) -> Any:
        try:
            response = await self.http.fetch(request, raise_error=False)
        except (OSError, HTTPClientError) as exc:
            log.warning("OAuth %s: %s unreachable: %s", self.provider.id, what, exc)
            raise OAuthError(502, f"The sign-in provider could not be reached ({what}).") from exc
        try:
            data = json.loads(response.body or b"null")
        except ValueError:
            data = None
        if response.code >= 500 or response.code == 599:
            raise OAuthError(502, f"The sign-in provider failed ({what}, {response.code}).")
        if response.code >= 400 or not isinstance(data, dict) or "error" in data:
            error = data.get("error") if isinstance(data, dict) else None
            log.warning("OAuth %s: %s answered %s %r", self.provider.id, what, response.code,
                        error)
            raise OAuthError(400, f"The sign-in provider refused the {what}"
                                  f"{f' ({error})' if isinstance(error, str) else ''}. "
                                  "Start the sign-in again.")
        return data

    def _get(self, url: str, headers: Mapping[str, str] | None = None) -> HTTPRequest:
        return HTTPRequest(url, headers={"Accept": "application/json", "User-Agent": "nbchat",
                                         **(headers or {})},
                           connect_timeout=HTTP_TIMEOUT, request_timeout=HTTP_TIMEOUT,
                           follow_redirects=False)

    async def endpoints(self) -> Endpoints:
        p = self.provider
        if not p.oidc:
            return Endpoints(p.authorize_url or "", p.token_url or "", p.userinfo_url)
        if self._endpoints is not None and self._endpoints[1] > self.clock():
            return self._endpoints[0]
        assert p.discovery_url is not None
        doc = await self._json(self._get(p.discovery_url), "discovery document")
        issuer = doc.get("issuer")
        if issuer != p.issuer and not (p.id == "azure-ad" and isinstance(issuer, str)
                                       and "{tenantid}" in issuer):
            raise OAuthError(502, "The sign-in provider's discovery document names another "
                                  "issuer.")
        try:
            urls = {key: check_endpoint(doc[key], key) if isinstance(doc.get(key), str)
                    else None for key in ("authorization_endpoint", "token_endpoint",
                                          "userinfo_endpoint", "jwks_uri")}
        except Exception as exc:
            raise OAuthError(502, "The sign-in provider's discovery document has an "
                                  "endpoint that is not https.") from exc
        if not (urls["authorization_endpoint"] and urls["token_endpoint"] and urls["jwks_uri"]):
            raise OAuthError(502, "The sign-in provider's discovery document is incomplete.")
        methods = doc.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        algs = tuple(a for a in doc.get("id_token_signing_alg_values_supported") or ["RS256"]
                     if a in ID_TOKEN_ALGORITHMS)
        found = Endpoints(
            p.authorize_url or urls["authorization_endpoint"] or "",
            p.token_url or urls["token_endpoint"] or "",
            p.userinfo_url or urls["userinfo_endpoint"], urls["jwks_uri"], issuer,
            basic_auth="client_secret_basic" in methods, algorithms=algs or ("RS256",))
        self._endpoints = (found, self.clock() + DISCOVERY_TTL)
        return found

    def authorize_url(self, ends: Endpoints, redirect_uri: str, state: str, challenge: str,
                      nonce: str | None) -> str:
        params = {"response_type": "code", "client_id": self.provider.client_id,
                  "redirect_uri": redirect_uri, "state": state,
                  "code_challenge": challenge, "code_challenge_method": "S256",
                  **dict(self.provider.extra_authorize_params)}
        if self.provider.scopes:
            params["scope"] = " ".join(self.provider.scopes)
        if nonce is not None:
            params["nonce"] = nonce
        return ends.authorize + ("&" if "?" in ends.authorize else "?") + urlencode(params)

    async def exchange(self, ends: Endpoints, code: str, redirect_uri: str,
                       verifier: str) -> dict[str, Any]:
        p = self.provider
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": redirect_uri, "code_verifier": verifier}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if ends.basic_auth:  # RFC 6749 2.3.1: form-encode, then base64
            pair = f"{quote_plus(p.client_id)}:{quote_plus(p.client_secret)}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form.update(client_id=p.client_id, client_secret=p.client_secret)
        request = self._get(ends.token, headers)
        request.method, request.body = "POST", urlencode(form).encode()
        token = await self._json(request, "code exchange")
        if not isinstance(token.get("access_token"), str) or not token["access_token"]:
            raise OAuthError(400, "The sign-in provider sent no access token.")
        if str(token.get("token_type", "bearer")).lower() != "bearer":
            raise OAuthError(400, "The sign-in provider sent an unsupported token type.")
        return dict(token)

    async def _key(self, ends: Endpoints, kid: str | None) -> jwt.PyJWK:
        for refresh in (False, True):
            if self._keys is None or refresh:
                assert ends.jwks is not None
                doc = await self._json(self._get(ends.jwks), "key set")
                keys: dict[str, jwt.PyJWK] = {}
                for entry in doc.get("keys") or []:
                    if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                        continue
                    try:
                        keys[str(entry.get("kid", ""))] = jwt.PyJWK(entry)
                    except jwt.PyJWTError:
                        continue  # a key type or algorithm this library does not know
                self._keys = keys
            if kid is None and len(self._keys) == 1:
                return next(iter(self._keys.values()))
            if kid is not None and kid in self._keys:
                return self._keys[kid]
        raise OAuthError(400, "The ID token is signed with a key the provider does not publish.")

    async def verify_id_token(self, ends: Endpoints, id_token: str, nonce: str) -> dict[str, Any]:
        p = self.provider
        try:
            header = jwt.get_unverified_header(id_token)
            alg = header.get("alg")
            if alg not in ends.algorithms:
                raise OAuthError(400, "The ID token's signature algorithm is not accepted.")
            key = await self._key(ends, header.get("kid"))
            issuer = ends.issuer or p.issuer or ""
            if "{tenantid}" in issuer:  # Azure AD multi-tenant
                unverified = jwt.decode(id_token, options={"verify_signature": False})
                issuer = issuer.replace("{tenantid}", str(unverified.get("tid", "")))
            claims: dict[str, Any] = jwt.decode(
                id_token, key.key, algorithms=[alg], audience=p.client_id, issuer=issuer,
                leeway=LEEWAY, options={"require": ["iss", "aud", "exp", "iat", "sub"]})
        except jwt.PyJWTError as exc:
            log.warning("OAuth %s: ID token refused: %s", p.id, exc)
            raise OAuthError(400, "The sign-in provider's ID token did not verify.") from exc
        aud = claims["aud"]
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != p.client_id:
            raise OAuthError(400, "The ID token was issued to another client.")
        if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
            raise OAuthError(400, "The ID token belongs to another sign-in (nonce).")
        return claims

    async def user_data(self, ends: Endpoints, token: Mapping[str, Any],
                        nonce: str | None) -> dict[str, Any]:
        """The ID token's verified claims merged with the userinfo (same `sub`)."""
        claims: dict[str, Any] = {}
        id_token = token.get("id_token")
        if self.provider.oidc and "openid" in self.provider.scopes:
            if not isinstance(id_token, str) or nonce is None:
                raise OAuthError(400, "The sign-in provider sent no ID token.")
            claims = await self.verify_id_token(ends, id_token, nonce)
        if ends.userinfo:
            bearer = {"Authorization": f"Bearer {token['access_token']}"}
            info = await self._json(self._get(ends.userinfo, bearer), "user information")
            if claims and str(info.get("sub")) != str(claims["sub"]):
                raise OAuthError(400, "The user information is about another user.")
            claims = {**claims, **info}
        if not claims:
            raise OAuthError(400, "The sign-in provider sent no user information.")
        return claims


@dataclass(frozen=True)
class Flow:
    provider: str
    state: str
    verifier: str
    nonce: str | None
    next_path: str
    redirect_uri: str


class OAuthFlows:
    """What the handlers share: the config, one client per provider, states seen."""

    def __init__(self, config: OAuthConfig, identity: CookieIdentity) -> None:
        self.config = config
        self.identity = identity
        self.clients = {p.id: OAuthClient(p) for p in config.providers}
        self._seen: OrderedDict[str, float] = OrderedDict()  # state → forget after

    def seen(self, state: str) -> bool:
        """True when `state` came back before (then it is a replay); records it."""
        now = time.monotonic()
        while self._seen and next(iter(self._seen.values())) < now:
            self._seen.popitem(last=False)
        if state in self._seen:
            return True
        self._seen[state] = now + FLOW_MAX_AGE + LEEWAY
        while len(self._seen) > _USED_STATES:
            self._seen.popitem(last=False)
        return False

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
    def initialize(self, app: AppSource, flows: OAuthFlows, data: BaseDataLayer | None,
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
        if self.flows.seen(flow.state):
            raise OAuthError(400, "This sign-in was already used. Start it again.")
        error = self.get_query_argument("error", None)
        if error is not None:
            shown = error if error.replace("_", "").isalnum() and len(error) < 64 else "error"
            raise OAuthError(401, f"The sign-in provider did not sign you in ({shown}).")
        code = self.get_query_argument("code", None)
        if not code:
            raise OAuthError(400, "The sign-in provider sent no authorization code.")
        ends = await client.endpoints()
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
                   identity: Identity | None = None, config: OAuthConfig) -> list[Spec]:
    """URL specs of `{root}oauth/{provider}/login` and `/callback` for the providers in
    `config` (none when it has none). They answer 404 while the app registers no
    `oauth_callback`."""
    if identity is None and services is not None:
        identity = services.identity
    if not isinstance(identity, CookieIdentity):
        raise TypeError("oauth_handlers needs a CookieIdentity (build_cookie_identity)")
    if not config.providers:
        return []
    kwargs = {"app": app, "flows": OAuthFlows(config, identity), "root": root,
              "data": services.data if services is not None else None}
    specs: list[Spec] = []
    ids = "|".join(re.escape(p.id) for p in config.providers)
    for step, handler in (("login", OAuthLoginHandler), ("callback", OAuthCallbackHandler)):
        check_auth_declared(handler)
        specs.append((rf"{re.escape(root)}oauth/({ids})/{step}", handler, kwargs))
    return specs
