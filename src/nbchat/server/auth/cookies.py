"""Signed session cookies for `nbchat serve`: the secret, the token, and `CookieIdentity`.

Authentication is on when the app registers `password_auth_callback`,
`header_auth_callback` or `oauth_callback`; then `NBCHAT_AUTH_SECRET` (32+ characters,
`nbchat create-secret` prints one) signs every session, and the server refuses to start
without it (`check_auth`).

The session cookie `nbchat_session` is a tornado signed value, version 2:

    2|1:0|10:<issued, unix s>|14:nbchat_session|<n>:<base64 JSON>|<HMAC-SHA256 hex>

whose JSON is `{"v": 2, "sub": identifier, "name": display name, "md": metadata digest,
"iat": issued, "sid": random session id}`. The signature covers the cookie name, the
issue time and the JSON, and is compared in constant time; a token older than `max_age`
is ignored (anonymous). The user's metadata is not in the cookie (it can be large and is
nobody's business in the browser); the digest pins the metadata the login callback
returned, which is looked up in the data layer (or the in-process cache filled at login).
A later login that changed the user's metadata signs the older sessions out: metadata
often carries roles, and a session must not keep a role the app has since taken away.

Logout revokes the session id, so a copy of the cookie (another tab, a stolen value) is
anonymous from then on, until it would have expired anyway, and the `signed_out`
listeners hear of it (`nbchat serve` closes the chat sockets opened with that session).
The revocations are `Revocations` of the shared state (nbchat.cluster): in the server
process, or with `server.redis_url` in Redis, where every worker of every host sees them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tornado.web import RequestHandler, create_signed_value, decode_signed_value

from nbchat.app import App, call_user
from nbchat.cluster import Revocations
from nbchat.cluster.memory import MemoryRevocations
from nbchat.data import NativeDataLayer, is_shared
from nbchat.errors import ConfigError
from nbchat.server.auth import Identity, owns
from nbchat.server.auth.tokens import bearer_of, decode_bearer
from nbchat.types import ThreadDict, User

log = logging.getLogger("nbchat.server")

SECRET_ENV = "NBCHAT_AUTH_SECRET"
# Chainlit's name for the same secret, accepted so a Chainlit deployment's environment
# works unchanged; NBCHAT_AUTH_SECRET wins when both are set.
CHAINLIT_SECRET_ENV = "CHAINLIT_AUTH_SECRET"
MIN_SECRET_LENGTH = 32
SESSION_COOKIE = "nbchat_session"
DEFAULT_MAX_AGE = 14 * 24 * 3600  # seconds
AUTH_HOOKS = ("password_auth_callback", "header_auth_callback", "oauth_callback")
TOKEN_VERSION = 2  # 2 added "sid"; older cookies are anonymous (sign in again)
_MAX_COOKIE = 4000  # bytes; browsers drop larger cookies
_CACHE_SIZE = 4096
_CACHE_TTL = 60.0  # seconds a looked-up user's metadata is trusted without the database


def create_secret() -> str:
    """A new random value for NBCHAT_AUTH_SECRET (64 URL-safe characters, 384 bits)."""
    return secrets.token_urlsafe(48)


def auth_enabled(app: App) -> bool:
    """Authentication is on when the app registers any login callback."""
    return any(app.get(hook) is not None for hook in AUTH_HOOKS)


def check_auth(app: App, environ: Mapping[str, str]) -> str | None:
    """The session secret when authentication is on, None when it is off.

    Raises ConfigError when auth is on and NBCHAT_AUTH_SECRET is missing or too short:
    the server must not start with sessions anyone could forge.
    """
    if not auth_enabled(app):
        return None
    hooks = ", ".join(h for h in AUTH_HOOKS if app.get(h) is not None)
    secret = environ.get(SECRET_ENV) or environ.get(CHAINLIT_SECRET_ENV, "")
    name = SECRET_ENV if environ.get(SECRET_ENV) else CHAINLIT_SECRET_ENV
    if not secret:
        raise ConfigError(
            f"the app registers {hooks}, so sessions must be signed, and {SECRET_ENV} is not "
            f"set (nor {CHAINLIT_SECRET_ENV}): run `nbchat create-secret` and set "
            f"{SECRET_ENV} to what it prints")
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"{name} is {len(secret)} characters long; it needs at least "
            f"{MIN_SECRET_LENGTH}: run `nbchat create-secret` for a strong one")
    return secret


def metadata_digest(metadata: Mapping[str, Any] | None) -> str:
    """A short, stable digest of a user's metadata (what the session token pins)."""
    canonical = json.dumps(metadata or {}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


EMPTY_DIGEST = metadata_digest({})
# An App, or a function returning the current one (a host that reloads the app on save).
AppSource = App | Callable[[], App]


def current(source: AppSource) -> App:
    return source if isinstance(source, App) else source()


@dataclass(frozen=True)
class SessionToken:
    identifier: str
    display_name: str | None
    digest: str
    issued_at: int
    session_id: str


def encode_session(secret: str, user: User, clock: Callable[[], float] = time.time) -> str:
    """The signed cookie value for `user`, issued now (by `clock`)."""
    issued = int(clock())
    payload = {"v": TOKEN_VERSION, "sub": user.identifier, "name": user.display_name,
               "md": metadata_digest(user.metadata), "iat": issued,
               "sid": secrets.token_urlsafe(12)}
    value = create_signed_value(secret, SESSION_COOKIE,
                                json.dumps(payload, separators=(",", ":")), clock=lambda: issued)
    return value.decode()


def decode_session(secret: str, value: str | None, max_age: float,
                   clock: Callable[[], float] = time.time) -> SessionToken | None:
    """The token in a cookie value; None when absent, forged, malformed or expired."""
    if not value or len(value) > _MAX_COOKIE:
        return None
    raw = decode_signed_value(secret, SESSION_COOKIE, value, max_age_days=max_age / 86400,
                              clock=clock, min_version=2)
    if raw is None:
        return None
    try:
        payload = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(payload, dict) or payload.get("v") != TOKEN_VERSION:
        return None
    sub, name, md, iat, sid = (payload.get(k) for k in ("sub", "name", "md", "iat", "sid"))
    if not (isinstance(sub, str) and sub and isinstance(md, str) and isinstance(iat, int)
            and (name is None or isinstance(name, str)) and isinstance(sid, str) and sid):
        return None
    if iat > clock() + 300:  # signed, so not forged; a clock far off is still refused
        return None
    return SessionToken(sub, name, md, iat, sid)


class CookieIdentity(Identity):
    """Users from the signed session cookie, or from `header_auth_callback` when the app
    registers it (its answer wins; without one the cookie decides); failing both, from a
    bearer token (`tokens.py`: Chainlit's JWT in `Authorization` or `access_token`).

    Reads: the owner, or anyone signed in when the owner shared the thread and the app's
    `on_shared_thread_view(thread, viewer)` (if registered) returns true. An unshared
    thread is never readable by another user, whatever the callback says. Writes: the
    owner only.
    """

    def __init__(self, app: AppSource, secret: str, data: NativeDataLayer | None = None, *,
                 root: str = "/", max_age: float = DEFAULT_MAX_AGE,
                 clock: Callable[[], float] = time.time) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(f"the session secret needs at least {MIN_SECRET_LENGTH} "
                              "characters: run `nbchat create-secret`")
        self.app_source = app
        self.secret = secret
        self.data = data
        self.root = root  # the cookie's Path: the app's root, so apps on one host never mix
        self.max_age = max_age
        self.clock = clock
        # identifier → (metadata digest, metadata, trusted until [monotonic s])
        self._known: OrderedDict[str, tuple[str, dict[str, Any], float]] = OrderedDict()
        # Session ids signed out, until their cookie would expire anyway; `make_app` puts
        # the server's shared state here (in Redis when several workers serve the app).
        self.revocations: Revocations = MemoryRevocations()

    # -- the session cookie ---------------------------------------------------------------

    @property
    def app(self) -> App:
        """The app whose callbacks decide (the current one, when the host reloads apps)."""
        return current(self.app_source)

    def bind(self, root: str, data: NativeDataLayer | None) -> None:
        """Called by `auth_handlers`: the root the routes live under, and the data layer
        (when the identity was built before it)."""
        self.root = root
        if self.data is None:
            self.data = data

    def sign_in(self, handler: RequestHandler, user: User) -> None:
        """Set the session cookie for `user` on the response (after a successful login)."""
        value = encode_session(self.secret, user, self.clock)
        if len(value) > _MAX_COOKIE:
            raise ValueError("the session cookie would exceed 4 kB; keep the user's "
                             "identifier and display_name short")
        self.remember(user)
        handler.set_cookie(SESSION_COOKIE, value, path=self.root,
                           max_age=int(self.max_age), httponly=True,
                           secure=handler.request.protocol == "https", samesite="Lax")

    @property
    def signed_out(self) -> list[Callable[[str], None]]:
        """Called with each session id signed out (on every worker, with Redis): the
        server closes that session's sockets."""
        return self.revocations.listeners

    async def sign_out(self, handler: RequestHandler) -> None:
        """Clear the cookie and revoke its session, so copies of it stop working too."""
        token = await self.token(handler)
        if token is not None:
            ttl = token.issued_at + self.max_age - self.clock()
            await self.revocations.revoke(token.session_id, max(ttl, 1.0))
        handler.clear_cookie(SESSION_COOKIE, path=self.root,
                             httponly=True, secure=handler.request.protocol == "https",
                             samesite="Lax")

    def cookie_token(self, handler: RequestHandler) -> SessionToken | None:
        """The request's cookie session, unless absent, forged or expired (signed out or
        not: see `token`)."""
        return decode_session(self.secret, handler.get_cookie(SESSION_COOKIE), self.max_age,
                              self.clock)

    async def token(self, handler: RequestHandler) -> SessionToken | None:
        """The request's session, unless absent, forged, expired or signed out."""
        token = self.cookie_token(handler)
        if token is None or await self.revoked(token.session_id):
            return None
        return token

    async def revoked(self, session_id: str) -> bool:
        """Whether that session was signed out (anywhere, with shared state)."""
        return await self.revocations.revoked(session_id)

    def remember(self, user: User) -> None:
        """Trust `user`'s metadata for sessions that carry its digest (filled at login)."""
        metadata = dict(user.metadata or {})
        self._known[user.identifier] = (metadata_digest(metadata), metadata,
                                        time.monotonic() + _CACHE_TTL)
        self._known.move_to_end(user.identifier)
        while len(self._known) > _CACHE_SIZE:
            self._known.popitem(last=False)

    async def _metadata(self, token: SessionToken) -> dict[str, Any] | None:
        if token.digest == EMPTY_DIGEST:
            return {}
        known = self._known.get(token.identifier)
        if known is not None and known[0] == token.digest and known[2] > time.monotonic():
            return dict(known[1])
        if self.data is None:
            return dict(known[1]) if known is not None and known[0] == token.digest else None
        stored = await self.data.get_user(token.identifier)
        if stored is None:
            return None
        self.remember(stored)
        if metadata_digest(stored.metadata) != token.digest:
            log.info("session of %r predates a login that changed its metadata; signed out",
                     token.identifier)
            return None
        return dict(stored.metadata or {})

    # -- Identity ---------------------------------------------------------------------------

    async def current_user(self, handler: RequestHandler) -> User | None:
        from_headers = self.app.get("header_auth_callback")
        if from_headers is not None:
            try:
                user = await call_user(from_headers, handler.request.headers)
            except Exception:
                log.exception("header_auth_callback failed; the request is anonymous")
                user = None
            if isinstance(user, User):
                return user
            if user is not None:
                log.error("header_auth_callback returned %s, not a User or None",
                          type(user).__name__)
        token = await self.token(handler)
        if token is None:  # an API client's (or the app's own) Chainlit JWT
            cookies = {name: morsel.value for name, morsel in handler.request.cookies.items()}
            return decode_bearer(self.secret, bearer_of(handler.request.headers, cookies))
        metadata = await self._metadata(token)
        if metadata is None:
            return None
        return User(identifier=token.identifier, display_name=token.display_name,
                    metadata=metadata)

    async def can_read(self, user: User, thread: ThreadDict) -> bool:
        if owns(user, thread):
            return True
        if not is_shared(thread):
            return False
        decide = self.app.get("on_shared_thread_view")
        if decide is None:
            return True
        try:
            return bool(await call_user(decide, thread, user))
        except Exception:
            log.exception("on_shared_thread_view failed; the shared thread is not shown")
            return False


def build_cookie_identity(app: AppSource, secret: str, data: NativeDataLayer | None = None, *,
                          root: str = "/", max_age: float = DEFAULT_MAX_AGE,
                          clock: Callable[[], float] = time.time) -> CookieIdentity:
    """The identity of a served app with login (see `identity_for`)."""
    return CookieIdentity(app, secret, data, root=root, max_age=max_age, clock=clock)


def identity_for(app: App, environ: Mapping[str, str], data: NativeDataLayer | None = None,
                 root: str = "/") -> Identity:
    """The identity `nbchat serve` uses: one local user without login callbacks, signed
    cookies with them (ConfigError when NBCHAT_AUTH_SECRET is missing or weak)."""
    from nbchat.server.auth import SingleUserIdentity

    secret = check_auth(app, environ)
    if secret is None:
        return SingleUserIdentity()
    return build_cookie_identity(app, secret, data, root=root)
