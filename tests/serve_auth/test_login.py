"""Password login, the session cookie's flags, logout, open redirects and the limiter."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import tornado.httpclient
from tornado.httputil import HTTPServerRequest
from tornado.web import RequestHandler

from nbchat.server.auth.cookies import DEFAULT_MAX_AGE, SESSION_COOKIE
from nbchat.server.auth.login import FAILED, safe_next

from .served import API, ROOT, Browser, Served


async def test_the_login_page_is_a_form_with_the_xsrf_field(
        browsers: Callable[[], Browser]) -> None:
    page, token = await browsers().login_page()
    text = page.body.decode()
    assert page.code == 200
    assert token
    assert f'action="{ROOT}login"' in text
    assert 'name="password" type="password"' in text
    assert "Continue with" not in text  # no OAuth provider is configured
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"


async def test_login_sets_an_httponly_samesite_session_cookie_and_stores_the_user(
        served: Served, browsers: Callable[[], Browser]) -> None:
    browser = browsers()
    response = await browser.login("alice", next_path=ROOT + "?thread=1")
    assert response.code == 303
    assert response.headers["Location"] == ROOT + "?thread=1"
    session = next(j[SESSION_COOKIE] for j in browser.set_cookies if SESSION_COOKIE in j)
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert not session["secure"]  # plain http here
    assert session["path"] == ROOT
    assert session["max-age"] == str(DEFAULT_MAX_AGE)
    stored = await served.data.get_user("alice")
    assert stored is not None
    assert (stored.display_name, stored.metadata) == ("Alice A.", {"role": "user"})
    threads = await browser.fetch("GET", API + "/threads")
    assert threads.code == 200


async def test_the_cookie_is_secure_behind_an_https_proxy(
        browsers: Callable[[], Browser]) -> None:
    browser = browsers()
    response = await browser.login("alice", headers={"X-Forwarded-Proto": "https"})
    assert response.code == 303
    session = next(j[SESSION_COOKIE] for j in browser.set_cookies if SESSION_COOKIE in j)
    assert session["secure"] is True


@pytest.mark.parametrize(("username", "password"), [
    ("alice", "wrong"), ("mallory", "alice-pw"), ("", "x"), ("alice", "x" * 5000)])
async def test_failed_logins_answer_401_with_one_generic_message(
        browsers: Callable[[], Browser], username: str, password: str) -> None:
    browser = browsers()
    response = await browser.login(username, password)
    assert response.code == 401
    assert FAILED in response.body.decode()
    assert SESSION_COOKIE not in browser.cookies
    assert (await browser.fetch("GET", API + "/threads")).code == 401


async def test_a_login_without_the_xsrf_token_is_refused(
        browsers: Callable[[], Browser]) -> None:
    browser = browsers()
    response = await browser.login("alice", xsrf=False)
    assert response.code == 403
    assert SESSION_COOKIE not in browser.cookies


OPEN_REDIRECTS = [
    "https://evil.example/", "//evil.example/", "///evil.example", "/\\evil.example",
    "\\\\evil.example", "/\t/evil.example", "/\n/evil.example", "http:evil.example",
    "javascript:alert(1)", " //evil.example", "/elsewhere/not-the-app", "evil.example",
    ROOT + "\\..\\x", "%2F%2Fevil.example", "",
]


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
async def test_next_never_leaves_the_app(browsers: Callable[[], Browser], target: str) -> None:
    response = await browsers().login("alice", next_path=target)
    assert response.code == 303
    assert response.headers["Location"] == ROOT
    assert safe_next(target, ROOT) == ROOT


async def test_next_within_the_app_is_kept() -> None:
    assert safe_next(ROOT + "threads/abc?x=1#y", ROOT) == ROOT + "threads/abc?x=1#y"
    assert safe_next("/", "/") == "/"


async def test_a_signed_in_visit_to_the_login_page_goes_to_next(alice: Browser) -> None:
    response = await alice.fetch("GET", ROOT + "login?next=//evil.example")
    assert response.code == 302
    assert response.headers["Location"] == ROOT


async def test_logout_needs_xsrf_calls_on_logout_and_clears_the_cookie(
        served: Served, alice: Browser) -> None:
    refused = await alice.fetch("POST", ROOT + "logout", xsrf=False)
    assert refused.code == 403
    assert served.probe.logouts == []
    assert (await alice.fetch("GET", API + "/threads")).code == 200

    response = await alice.fetch("POST", ROOT + "logout")
    assert response.code == 303
    assert response.headers["Location"] == ROOT + "login"
    cleared = [j[SESSION_COOKIE] for j in alice.set_cookies if SESSION_COOKIE in j][-1]
    assert cleared.value == ""
    assert cleared["path"] == ROOT
    assert SESSION_COOKIE not in alice.cookies
    [(request, handler)] = served.probe.logouts
    assert isinstance(request, HTTPServerRequest)
    assert isinstance(handler, RequestHandler)
    assert (await alice.fetch("GET", API + "/threads")).code == 401


async def test_logout_revokes_the_session_for_every_copy_of_the_cookie(
        served: Served, alice: Browser, browsers: Callable[[], Browser]) -> None:
    copy = browsers()
    copy.cookies[SESSION_COOKIE] = alice.cookies[SESSION_COOKIE]  # another tab, or stolen
    assert (await copy.fetch("GET", API + "/threads")).code == 200
    assert (await alice.fetch("POST", ROOT + "logout")).code == 303
    assert (await copy.fetch("GET", API + "/threads")).code == 401
    with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
        await copy.ws()  # the WebSocket asks the same identity
    assert refused.value.code == 401
    # A new login is a new session, untouched by the old one's revocation.
    assert (await alice.login("alice")).code == 303
    assert (await alice.fetch("GET", API + "/threads")).code == 200


async def test_repeated_failures_are_slowed_down_per_ip_and_username(
        served: Served, browsers: Callable[[], Browser]) -> None:
    browser = browsers()
    for _ in range(5):
        assert (await browser.login("alice", "guess")).code == 401
    locked = await browser.login("alice")  # even the right password is not tried now
    assert locked.code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert SESSION_COOKIE not in browser.cookies
    # Another username from the same address still has its own budget…
    assert (await browsers().login("bob")).code == 303
    # …and once the window has passed, alice may try again.
    served.clock[0] += 301
    assert (await browser.login("alice")).code == 303


async def test_one_address_cannot_spray_many_usernames(
        served: Served, browsers: Callable[[], Browser]) -> None:
    browser = browsers()
    for i in range(8):  # the test server allows 8 failures per address and window
        assert (await browser.login(f"user{i}", "guess")).code == 401
    assert (await browser.login("carol")).code == 429
