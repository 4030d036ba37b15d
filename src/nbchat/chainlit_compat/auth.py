"""`chainlit.auth`: tokens for API clients and the current user of the app's own routes.

    from chainlit.auth import create_jwt, get_current_user

    token = create_jwt(cl.User(identifier="bot"))     # Authorization: Bearer <token>

    @app.get("/me")
    async def me(user: cl.User | None = Depends(get_current_user)): ...

`create_jwt` signs with the server's secret (NBCHAT_AUTH_SECRET or CHAINLIT_AUTH_SECRET)
the token nbchat's server accepts on every route and on the chat's WebSocket, in the
`Authorization: Bearer` header or the `access_token` cookie, as Chainlit does
(nbchat.server.auth.tokens). `get_current_user` answers None when the app has no login
(as Chainlit does) and 401 when it has one and the request carries no valid user.
"""

from __future__ import annotations

import os
from typing import Any

from nbchat.app import current_app
from nbchat.chainlit_compat.modules import not_offered_name
from nbchat.errors import ConfigError
from nbchat.server.asgi_routes import LOGIN_KEY, USER_KEY
from nbchat.server.auth.cookies import AUTH_HOOKS, CHAINLIT_SECRET_ENV, SECRET_ENV
from nbchat.server.auth.tokens import bearer_of, decode_bearer, encode_bearer
from nbchat.types import User

try:  # FastAPI reads this annotation to hand get_current_user the request
    from starlette.requests import Request
except ImportError:  # without nbchat[asgi], create_jwt still works
    Request = Any  # type: ignore[misc,assignment]


def get_jwt_secret() -> str | None:
    return os.environ.get(SECRET_ENV) or os.environ.get(CHAINLIT_SECRET_ENV) or None


def _secret() -> str:
    secret = get_jwt_secret()
    if secret is None:
        raise ConfigError(f"create_jwt signs with the session secret: set {SECRET_ENV} "
                          f"(or {CHAINLIT_SECRET_ENV}) to what `nbchat create-secret` prints")
    return secret


def create_jwt(data: User) -> str:
    """A bearer token for `data`, valid for 15 days (Chainlit's default lifetime)."""
    return encode_bearer(_secret(), data)


def decode_jwt(token: str) -> User:
    """The user of a token made by `create_jwt`; ValueError when it is not valid."""
    user = decode_bearer(_secret(), token)
    if user is None:
        raise ValueError("not a valid token: forged, expired or malformed")
    return user


def require_login() -> bool:
    """Whether the app has login (a login callback or an auth secret), as on Chainlit."""
    app = current_app()
    return get_jwt_secret() is not None or any(app.get(h) is not None for h in AUTH_HOOKS)


async def get_current_user(request: Request) -> User | None:
    """The request's user, for `Depends(get_current_user)` in the app's own routes.

    Served by `nbchat serve`, the server has already identified the request (its session
    cookie, header_auth_callback or a bearer token); elsewhere (the app's own FastAPI app
    with nbchat mounted in it) the bearer token decides."""
    from fastapi import HTTPException

    state = request.scope.get("state") or {}
    login = state[LOGIN_KEY] if LOGIN_KEY in state else require_login()
    if not login:
        return None
    if USER_KEY in state:
        user = state[USER_KEY]
    else:
        user = decode_bearer(_secret(), bearer_of(request.headers, request.cookies))
    if not isinstance(user, User):
        raise HTTPException(status_code=401, detail="Invalid authentication token",
                            headers={"WWW-Authenticate": "Bearer"})
    return user


OFFERED = ("create_jwt, decode_jwt, get_jwt_secret, require_login and get_current_user "
           "(login itself: @cl.password_auth_callback, @cl.header_auth_callback or "
           "@cl.oauth_callback, docs/auth.md)")


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise not_offered_name("chainlit.auth", name, OFFERED)
