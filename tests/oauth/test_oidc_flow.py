"""The OAuth login end to end against a REAL OpenID Connect provider on loopback (npm
`oidc-provider` under Node, conftest.py): discovery, authorize with state + PKCE S256 +
nonce, the provider's (scripted) login and consent, the code exchange, the ID token checked
against the provider's JWKS, userinfo, `oauth_callback`, the session cookie. Nothing in the
flow is mocked."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from nbchat.server.auth.cookies import SESSION_COOKIE
from nbchat.server.auth.oauth import FLOW_COOKIE

from .browser import Browser
from .conftest import CLIENT_ID, ROOT, OAuthServed

API = ROOT + "nbchat/api"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    b = Browser()
    yield b
    b.close()


async def to_callback(served: OAuthServed, browser: Browser, next_path: str = ROOT) -> str:
    """Click the login page's button and go through the provider; the callback URL the
    provider sends the browser to (not fetched yet)."""
    page = await browser.get(f"{served.origin}{ROOT}login?{urlencode({'next': next_path})}")
    assert page.code == 200
    found = re.search(r'<a class="oauth" href="([^"]+)">Continue with Test SSO</a>',
                      page.body.decode())
    assert found, page.body.decode()
    start = served.origin + html.unescape(found.group(1))
    callback = f"{served.origin}{ROOT}oauth/generic/callback"
    response, url = await browser.follow(start, stop_at=callback)
    assert response is None, (response and response.code, browser.history)
    return url


async def test_login_through_the_provider_signs_the_user_in(
        oauth_served: OAuthServed, browser: Browser) -> None:
    assert (await browser.get(served_url(oauth_served, API + "/threads"))).code == 401
    callback = await to_callback(oauth_served, browser, ROOT + "thread/abc")
    authorize = next(u for u in browser.history if u.startswith(oauth_served.provider.issuer))
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["client_id"] == [CLIENT_ID]
    assert query["state"]
    assert query["nonce"]
    assert query["code_challenge"]
    assert browser.cookie(FLOW_COOKIE)

    done = await browser.get(callback)
    assert done.code == 303, done.body.decode()
    assert done.headers["Location"] == ROOT + "thread/abc"
    assert browser.cookie(SESSION_COOKIE)
    assert browser.cookie(FLOW_COOKIE) is None  # the flow cookie is spent

    # oauth_callback got the provider's claims (ID token + userinfo) and its access token.
    ((provider_id, token, raw, default),) = oauth_served.calls.seen
    assert provider_id == "generic"
    assert token
    assert raw["iss"] == oauth_served.provider.issuer
    assert raw["aud"] == CLIENT_ID
    assert raw["sub"] == "ada"
    assert raw["email"] == "ada@example.org"
    assert raw["email_verified"] is True
    assert raw["name"] == "Ada Lovelace"
    assert (default.identifier, default.display_name) == ("ada@example.org", "Ada Lovelace")

    # The session identifies her: the REST API answers, the page names her.
    threads = await browser.get(served_url(oauth_served, API + "/threads"))
    assert threads.code == 200
    page = await browser.get(served_url(oauth_served, ROOT))
    assert page.code == 200
    assert "ada@example.org" in page.body.decode()
    stored = await oauth_served.data.get_user("ada@example.org")
    assert stored is not None
    assert stored.metadata == {"provider": "generic", "role": "reader"}


async def test_a_tampered_state_is_refused(oauth_served: OAuthServed, browser: Browser) -> None:
    callback = await to_callback(oauth_served, browser)
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = query["state"][:-2] + ("AA" if not query["state"].endswith("AA") else "BB")
    response = await browser.get(f"{oauth_served.origin}{parts.path}?{urlencode(query)}")
    assert response.code == 400
    assert "state does not match" in response.body.decode()
    assert browser.cookie(SESSION_COOKIE) is None
    assert oauth_served.calls.seen == []


async def test_a_replayed_callback_is_refused(oauth_served: OAuthServed,
                                              browser: Browser) -> None:
    callback = await to_callback(oauth_served, browser)
    flow_cookie = browser.cookie(FLOW_COOKIE)
    assert (await browser.get(callback)).code == 303
    assert len(oauth_served.calls.seen) == 1

    # Again from the same browser: the flow cookie is gone.
    again = await browser.get(callback)
    assert again.code == 400
    # From an attacker who copied the flow cookie too: the state was used already.
    thief = Browser()
    try:
        thief.jar[(urlsplit(oauth_served.origin).netloc, f"{ROOT}oauth/generic/",
                   FLOW_COOKIE)] = flow_cookie or ""
        stolen = await thief.get(callback)
        assert stolen.code == 400
        assert "already used" in stolen.body.decode()
        assert thief.cookie(SESSION_COOKIE) is None
    finally:
        thief.close()
    assert len(oauth_served.calls.seen) == 1


async def test_a_code_the_token_endpoint_refuses_answers_400(
        oauth_served: OAuthServed, browser: Browser) -> None:
    callback = await to_callback(oauth_served, browser)
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["code"] = "forged-" + query["code"][7:]
    response = await browser.get(f"{oauth_served.origin}{parts.path}?{urlencode(query)}")
    assert response.code == 400
    assert "refused the code exchange (invalid_grant)" in response.body.decode()
    assert browser.cookie(SESSION_COOKIE) is None
    assert oauth_served.calls.seen == []


async def test_a_callback_naming_another_issuer_is_refused(
        oauth_served: OAuthServed, browser: Browser) -> None:
    """RFC 9207 (mix-up): the provider adds `iss`; an answer from another issuer is refused."""
    callback = await to_callback(oauth_served, browser)
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["iss"] == oauth_served.provider.issuer
    query["iss"] = "https://evil.example"
    response = await browser.get(f"{oauth_served.origin}{parts.path}?{urlencode(query)}")
    assert response.code == 400
    assert oauth_served.calls.seen == []


async def test_oauth_callback_returning_none_answers_401(
        oauth_served: OAuthServed, browser: Browser) -> None:
    oauth_served.calls.refuse = True
    callback = await to_callback(oauth_served, browser)
    response = await browser.get(callback)
    assert response.code == 401
    assert "does not let you sign in" in response.body.decode()
    assert len(oauth_served.calls.seen) == 1
    assert browser.cookie(SESSION_COOKIE) is None
    assert (await browser.get(served_url(oauth_served, API + "/threads"))).code == 401


async def test_the_user_refusing_at_the_provider_answers_401(
        oauth_served: OAuthServed, browser: Browser) -> None:
    page = await browser.get(f"{oauth_served.origin}{ROOT}oauth/generic/login")
    assert page.code == 302
    first = await browser.get(page.headers["Location"])  # the provider's /auth
    assert first.code == 303
    assert first.headers["Location"].startswith("/interaction/")
    # The user says no at the provider's interaction.
    interaction = oauth_served.provider.issuer + first.headers["Location"] + "?deny=1"
    _, callback = await browser.follow(interaction,
                                       stop_at=f"{oauth_served.origin}{ROOT}oauth/generic/callback")
    assert "error=access_denied" in callback
    response = await browser.get(callback)
    assert response.code == 401
    assert "access_denied" in response.body.decode()
    assert oauth_served.calls.seen == []
    assert browser.cookie(SESSION_COOKIE) is None


async def test_a_callback_without_the_flow_cookie_is_refused(
        oauth_served: OAuthServed, browser: Browser) -> None:
    """Login CSRF: a callback URL planted in another browser signs nobody in."""
    callback = await to_callback(oauth_served, browser)
    victim = Browser()
    try:
        response = await victim.get(callback)
        assert response.code == 400
        assert "expired or was started in another browser" in response.body.decode()
        assert victim.cookie(SESSION_COOKIE) is None
    finally:
        victim.close()
    assert oauth_served.calls.seen == []


def served_url(served: OAuthServed, path: str) -> str:
    return served.origin + path
