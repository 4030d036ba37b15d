"""The session token: forged, expired or stale cookies are anonymous; the secret is
required; header auth needs no cookie."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import tornado.httpclient
from tornado.web import create_signed_value

from nbchat.app import App, registering_on
from nbchat.errors import ConfigError
from nbchat.server import SingleUserIdentity
from nbchat.server.auth.cookies import (
    DEFAULT_MAX_AGE,
    SESSION_COOKIE,
    CookieIdentity,
    check_auth,
    create_secret,
    decode_session,
    encode_session,
    identity_for,
)
from nbchat.types import User

from .served import API, SECRET, Browser, Probe, Served, login_app, serve

ALICE = User("alice", "Alice A.", {"role": "user"})


async def _api_as(browsers: Callable[[], Browser], cookie: str) -> int:
    browser = browsers()
    browser.cookies[SESSION_COOKIE] = cookie
    return (await browser.fetch("GET", API + "/threads")).code


def _forgeries() -> dict[str, str]:
    good = encode_session(SECRET, ALICE)
    version, key, stamp, name, value, signature = good.split("|")
    bob_value = value.split(":", 1)[0] + ":" + base64.b64encode(
        base64.b64decode(value.split(":", 1)[1]).replace(b"alice", b"bob00")).decode()
    return {
        "bad signature": good[:-4] + ("0000" if not good.endswith("0000") else "1111"),
        "another secret": encode_session("x" * 48, ALICE),
        "payload swapped to bob": "|".join([version, key, stamp, name, bob_value, signature]),
        "unsigned": "alice",
        "signed for another cookie name": create_signed_value(
            SECRET, "_xsrf", b'{"v":1,"sub":"alice","name":null,"md":"x","iat":1}').decode(),
        "version 1 format": create_signed_value(SECRET, SESSION_COOKIE, b"alice",
                                                version=1).decode(),
    }


@pytest.mark.parametrize("kind", list(_forgeries()))
async def test_a_forged_cookie_is_anonymous(
        served: Served, browsers: Callable[[], Browser], kind: str) -> None:
    await served.data.create_user(ALICE)
    assert await _api_as(browsers, _forgeries()[kind]) == 401
    browser = browsers()
    browser.cookies[SESSION_COOKIE] = _forgeries()[kind]
    with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
        await browser.ws()
    assert refused.value.code == 401


async def test_an_expired_cookie_is_anonymous(
        served: Served, browsers: Callable[[], Browser]) -> None:
    await served.data.create_user(ALICE)
    now = time.time()
    fresh = encode_session(SECRET, ALICE, clock=lambda: now - DEFAULT_MAX_AGE + 60)
    expired = encode_session(SECRET, ALICE, clock=lambda: now - DEFAULT_MAX_AGE - 60)
    assert await _api_as(browsers, fresh) == 200
    assert await _api_as(browsers, expired) == 401
    assert decode_session(SECRET, expired, DEFAULT_MAX_AGE) is None
    token = decode_session(SECRET, fresh, DEFAULT_MAX_AGE)
    assert token is not None
    assert (token.identifier, token.display_name) == ("alice", "Alice A.")
    assert token.issued_at == int(now - DEFAULT_MAX_AGE + 60)


async def test_a_login_that_changes_metadata_signs_older_sessions_out(
        served: Served, browsers: Callable[[], Browser]) -> None:
    first = browsers()
    assert (await first.login("alice")).code == 303
    served.probe.metadata["alice"] = {"role": "reader"}  # the app took a role away
    second = browsers()
    assert (await second.login("alice")).code == 303
    assert (await second.fetch("GET", API + "/threads")).code == 200
    assert (await first.fetch("GET", API + "/threads")).code == 401


async def test_the_cookie_alone_knows_no_metadata_it_does_not_pin(
        served: Served) -> None:
    cookie = encode_session(SECRET, User("dave", None, {"admin": True}))
    assert decode_session(SECRET, cookie, DEFAULT_MAX_AGE) is not None
    browser = served.browser()
    browser.cookies[SESSION_COOKIE] = cookie
    try:
        # dave never logged in: no stored user, nothing remembered → anonymous.
        assert (await browser.fetch("GET", API + "/threads")).code == 401
        # stored with other metadata than the cookie pins → still anonymous.
        await served.data.create_user(User("dave", None, {"admin": False}))
        assert (await browser.fetch("GET", API + "/threads")).code == 401
        await served.data.create_user(User("dave", None, {"admin": True}))
        assert (await browser.fetch("GET", API + "/threads")).code == 200
    finally:
        await browser.close()


def _app_with(*hooks: str) -> App:
    app = App("hooks")
    with registering_on(app):
        for hook in hooks:
            app.register(hook, lambda *args: None)
    return app


def test_auth_is_off_without_login_callbacks() -> None:
    assert check_auth(_app_with("on_message"), {}) is None
    assert isinstance(identity_for(_app_with(), {}), SingleUserIdentity)


@pytest.mark.parametrize("hook", ["password_auth_callback", "header_auth_callback",
                                  "oauth_callback"])
def test_auth_refuses_to_start_without_a_strong_secret(hook: str) -> None:
    app = _app_with(hook)
    for environ in ({}, {"NBCHAT_AUTH_SECRET": ""}, {"NBCHAT_AUTH_SECRET": "short" * 6}):
        with pytest.raises(ConfigError, match="nbchat create-secret"):
            check_auth(app, environ)
        with pytest.raises(ConfigError, match="NBCHAT_AUTH_SECRET"):
            identity_for(app, environ)
    secret = create_secret()
    assert check_auth(app, {"NBCHAT_AUTH_SECRET": secret}) == secret
    assert isinstance(identity_for(app, {"NBCHAT_AUTH_SECRET": secret}), CookieIdentity)


def test_create_secret_is_long_and_random() -> None:
    made = {create_secret() for _ in range(100)}
    assert len(made) == 100
    assert all(len(s) >= 64 and s.isascii() for s in made)


async def test_header_auth_needs_no_cookie(tmp_path: Path) -> None:
    probe = Probe()
    async with serve(tmp_path, login_app(probe, header=True, password=False),
                     probe) as running:
        browser = running.browser()
        try:
            assert (await browser.fetch("GET", API + "/threads")).code == 401
            ok = await browser.fetch("GET", API + "/threads",
                                     headers={"X-Forwarded-User": "erin"})
            assert ok.code == 200
            assert "nbchat_session" not in browser.cookies
            page, _ = await browser.login_page()
            assert 'type="password"' not in page.body.decode()
            with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
                await browser.ws()
            assert refused.value.code == 401
            ws = await browser.ws(headers={"X-Forwarded-User": "erin"})
            await ws.hello()
            await ws.send({"type": "user_message", "content": "hi"})
            assert await probe.received.get() == "hi"
            mine = await ws.until(lambda e: e["type"] == "step"
                                  and e["step"]["type"] == "user_message")
            assert mine["step"]["name"] == "erin (proxy)"
        finally:
            await browser.close()
