"""CHAINLIT_AUTH_SECRET is accepted where NBCHAT_AUTH_SECRET is; NBCHAT_ wins."""

from __future__ import annotations

import pytest

from nbchat.app import App
from nbchat.errors import ConfigError
from nbchat.server.auth.cookies import check_auth


@pytest.fixture
def login_app() -> App:
    app = App("login")
    app.register("password_auth_callback", lambda username, password: None)
    return app


def test_chainlit_secret_alone_is_used(login_app: App) -> None:
    assert check_auth(login_app, {"CHAINLIT_AUTH_SECRET": "k" * 40}) == "k" * 40


def test_nbchat_secret_wins_when_both_are_set(login_app: App) -> None:
    env = {"CHAINLIT_AUTH_SECRET": "k" * 40, "NBCHAT_AUTH_SECRET": "n" * 40}
    assert check_auth(login_app, env) == "n" * 40


def test_a_weak_chainlit_secret_is_named_in_the_error(login_app: App) -> None:
    with pytest.raises(ConfigError, match=r"^CHAINLIT_AUTH_SECRET is 5 characters long"):
        check_auth(login_app, {"CHAINLIT_AUTH_SECRET": "short"})
    with pytest.raises(ConfigError, match=r"^NBCHAT_AUTH_SECRET is 5 characters long"):
        check_auth(login_app, {"CHAINLIT_AUTH_SECRET": "k" * 40, "NBCHAT_AUTH_SECRET": "short"})
