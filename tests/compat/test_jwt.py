"""`chainlit.auth.create_jwt` / `decode_jwt`: Chainlit's HS256 token under the session
secret, and what nbchat's server does with tokens it did not make or cannot trust."""

from __future__ import annotations

import time

import jwt
import pytest

from nbchat import User
from nbchat.chainlit_compat import alias_chainlit
from nbchat.errors import ConfigError
from nbchat.server.auth.tokens import bearer_of, decode_bearer, encode_bearer

SECRET = "s" * 48


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("NBCHAT_AUTH_SECRET", raising=False)
    monkeypatch.setenv("CHAINLIT_AUTH_SECRET", SECRET)
    return SECRET


def test_create_jwt_round_trips_the_user_through_the_chainlit_module(secret: str) -> None:
    alias_chainlit()
    from chainlit.auth import create_jwt, decode_jwt

    token = create_jwt(User(identifier="ada", display_name="Ada", metadata={"r": 1}))
    assert decode_jwt(token) == User(identifier="ada", display_name="Ada", metadata={"r": 1})
    claims = jwt.decode(token, secret, algorithms=["HS256"])
    assert claims["exp"] > time.time() + 14 * 24 * 3600  # Chainlit's 15 days
    with pytest.raises(ValueError, match="not a valid token"):
        decode_jwt(token + "x")


def test_a_token_made_as_chainlit_makes_it_is_accepted(secret: str) -> None:
    # Chainlit signs User.to_dict() (with its PersistedUser fields, if any) plus exp.
    token = jwt.encode({"identifier": "bob", "display_name": None, "metadata": {},
                        "id": "u-1", "createdAt": "2025-01-01", "exp": time.time() + 60},
                       secret, algorithm="HS256")
    assert decode_bearer(secret, token) == User(identifier="bob")


def test_expired_foreign_and_claimless_tokens_are_anonymous() -> None:
    user = User(identifier="ada")
    assert decode_bearer(SECRET, encode_bearer(SECRET, user, lifetime=-1)) is None
    assert decode_bearer("o" * 48, encode_bearer(SECRET, user)) is None
    assert decode_bearer(SECRET, jwt.encode({"identifier": "x"}, SECRET)) is None  # no exp
    no_user = jwt.encode({"sub": "x", "exp": time.time() + 60}, SECRET)
    assert decode_bearer(SECRET, no_user) is None
    unsigned = jwt.encode({"identifier": "x", "exp": time.time() + 60},
                          None, algorithm="none")  # type: ignore[arg-type]
    assert decode_bearer(SECRET, unsigned) is None


def test_the_cookie_is_read_before_the_header_as_chainlit_does() -> None:
    assert bearer_of({"Authorization": "Bearer h"}, {"access_token": "c"}) == "c"
    assert bearer_of({"Authorization": "Bearer h"}, {}) == "h"
    assert bearer_of({"Authorization": "Basic h"}, {}) is None
    assert bearer_of({}, {}) is None


def test_create_jwt_without_a_secret_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NBCHAT_AUTH_SECRET", raising=False)
    monkeypatch.delenv("CHAINLIT_AUTH_SECRET", raising=False)
    alias_chainlit()
    from chainlit.auth import create_jwt

    with pytest.raises(ConfigError, match="NBCHAT_AUTH_SECRET"):
        create_jwt(User(identifier="ada"))
