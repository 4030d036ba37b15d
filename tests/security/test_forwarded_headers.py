"""Forwarded headers (issue 10 §3.2): X-Forwarded-For is believed only from a peer in
`server.trusted_proxies`, so forging it neither slips past the sign-in limiter nor puts
a made-up address in the access log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine

from nbchat.errors import ConfigError
from nbchat.server.network import TrustedProxies

from .served_app import browser, served_app


async def test_a_forged_x_forwarded_for_does_not_reset_the_sign_in_limit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    async with served_app(tmp_path, monkeypatch, login=True) as running:
        attacker = browser(running)
        with caplog.at_level(logging.INFO, logger="tornado.access"):
            for n in range(5):
                forged = {"X-Forwarded-For": f"203.0.113.{n}", "X-Real-Ip": f"198.51.100.{n}"}
                assert (await attacker.login("alice", "guess", headers=forged)).code == 401
            again = await attacker.login("alice", "guess",
                                         headers={"X-Forwarded-For": "203.0.113.99"})
        await attacker.close()
        assert again.code == 429
        logged = [r.getMessage() for r in caplog.records if r.name == "tornado.access"]
        assert any("POST" in line and "(127.0.0.1)" in line for line in logged)
        assert not any("203.0.113." in line or "198.51.100." in line for line in logged)


async def test_a_trusted_proxys_forwarded_address_is_the_client(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    server = {"trusted_proxies": ["127.0.0.0/8"]}
    async with served_app(tmp_path, monkeypatch, login=True, server=server) as running:
        proxy = browser(running)
        # The client put a fake hop on the left; the proxy appended the real one.
        client = {"X-Forwarded-For": "10.9.9.9, 203.0.113.7"}
        with caplog.at_level(logging.INFO, logger="tornado.access"):
            for _ in range(5):
                assert (await proxy.login("alice", "guess", headers=client)).code == 401
            assert (await proxy.login("alice", "guess", headers=client)).code == 429
            other = {"X-Forwarded-For": "203.0.113.8"}  # another client behind the proxy
            assert (await proxy.login("alice", "alice-pw", headers=other)).code == 303
        await proxy.close()
        logged = [r.getMessage() for r in caplog.records if r.name == "tornado.access"]
        assert any("(203.0.113.7)" in line for line in logged)
        assert any("(203.0.113.8)" in line for line in logged)


def seen_as(proxies: TrustedProxies, peer: str, headers: dict[str, str]) -> tuple[str, str]:
    """(client address, scheme) of a request from `peer` with `headers`, after `apply`."""
    request = HTTPServerRequest(start_line=RequestStartLine("GET", "/", "HTTP/1.1"),
                                headers=HTTPHeaders({"Host": "127.0.0.1", **headers}))
    request.remote_ip = peer
    proxies.apply(request)
    return str(request.remote_ip), request.protocol


@pytest.mark.parametrize(("peer", "headers", "expected"), [
    # right to left past trusted hops; the client's own left-most claim is never read
    ("10.0.0.2", {"X-Forwarded-For": "6.6.6.6, 203.0.113.7, 10.0.0.9",
                  "X-Forwarded-Proto": "https"}, ("203.0.113.7", "https")),
    # an unreadable hop: the peer itself
    ("192.168.1.1", {"X-Forwarded-For": "203.0.113.7, not-an-ip"}, ("192.168.1.1", "http")),
    # not a trusted peer: nothing it says is believed
    ("203.0.113.50", {"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "https"},
     ("203.0.113.50", "http")),
    ("10.1.1.1", {"X-Real-Ip": "203.0.113.9"}, ("203.0.113.9", "http")),
])
def test_which_hop_is_the_client(peer: str, headers: dict[str, str],
                                 expected: tuple[str, str]) -> None:
    assert seen_as(TrustedProxies.parse(["10.0.0.0/8", "192.168.1.1"]), peer,
                   headers) == expected


def test_a_proxy_that_is_not_an_address_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"server\.trusted_proxies: 'proxy\.lan'"):
        TrustedProxies.parse(["proxy.lan"])
