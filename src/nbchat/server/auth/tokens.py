"""Bearer tokens: Chainlit's JWT, for API clients and for apps that issue their own tokens.

    token = encode_bearer(secret, user)      # what chainlit.auth.create_jwt returns
    user = decode_bearer(secret, token)      # None when forged, expired or malformed

The token is an HS256 JWT signed with the session secret (NBCHAT_AUTH_SECRET, or
CHAINLIT_AUTH_SECRET) whose claims are the user's `to_dict()` and `exp`, as Chainlit makes
it; so a token made by Chainlit's own `create_jwt` under the same secret works too. A
request carries it as `Authorization: Bearer <token>` or in the `access_token` cookie
(Chainlit's names); `CookieIdentity` accepts it after its own session cookie. Unlike the
session cookie it holds the user's metadata (the app that issued it chose to hand it out)
and logout cannot revoke it: it ends at `exp`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt

from nbchat.types import User

ALGORITHM = "HS256"
BEARER_COOKIE = "access_token"  # Chainlit's cookie name
DEFAULT_LIFETIME = 15 * 24 * 3600  # seconds: Chainlit's project.user_session_timeout
_MAX_TOKEN = 16384  # characters; a larger Authorization header is not a token of ours


def encode_bearer(secret: str, user: User, lifetime: float = DEFAULT_LIFETIME,
                  clock: Callable[[], float] = time.time) -> str:
    claims: dict[str, Any] = {"identifier": user.identifier,
                              "display_name": user.display_name,
                              "metadata": dict(user.metadata or {}),
                              "exp": int(clock() + lifetime)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_bearer(secret: str, token: str | None) -> User | None:
    """The user a token names, or None (absent, forged, expired, not a user's claims)."""
    if not token or len(token) > _MAX_TOKEN:
        return None
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM],
                            options={"require": ["exp"]})
    except jwt.PyJWTError:
        return None
    identifier = claims.get("identifier")
    name = claims.get("display_name")
    metadata = claims.get("metadata") or {}
    if not (isinstance(identifier, str) and identifier and isinstance(metadata, dict)
            and (name is None or isinstance(name, str))):
        return None
    return User(identifier=identifier, display_name=name, metadata=metadata)


def bearer_of(headers: Mapping[str, str], cookies: Mapping[str, str]) -> str | None:
    """The token a request carries: Chainlit reads the cookie first, then the header."""
    token = cookies.get(BEARER_COOKIE)
    if token:
        return token
    scheme, _, value = headers.get("Authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None
