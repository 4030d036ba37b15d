"""DNS rebinding (issue 10 §3.1): an app served without login answers only Host names that
cannot be rebound (localhost, IP addresses, its bind address) and `server.allowed_hosts`.

The attack: a page on evil.example, its name re-pointed at 127.0.0.1, sends
`Host: evil.example` and, being same-origin with itself, `Origin: http://evil.example`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tornado.httpclient
import tornado.websocket

from nbchat.config import Config, ServerConfig
from nbchat.server.network import HostGuard, host_name
from nbchat.server.serve import RunningServer
from serve.helpers import fetch
from serve_auth.served import API, ROOT
from wsclient import WsClient

from .served_app import browser, served_app


async def history(running: RunningServer, host: str) -> tornado.httpclient.HTTPResponse:
    return await fetch(f"http://127.0.0.1:{running.port}{API}/threads",
                       headers={"Host": f"{host}:{running.port}"})


async def upgrade(running: RunningServer, host: str) -> WsClient:
    origin = f"http://{host}:{running.port}"
    request = tornado.httpclient.HTTPRequest(
        f"ws://127.0.0.1:{running.port}{ROOT}ws",
        headers={"Host": f"{host}:{running.port}", "Origin": origin})
    return WsClient(await tornado.websocket.websocket_connect(request))


async def test_a_rebound_name_gets_403_naming_the_config_key_and_no_websocket(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with served_app(tmp_path, monkeypatch, login=False) as running:
        refused = await history(running, "evil.example")
        assert refused.code == 403
        error = json.loads(refused.body)["error"]
        assert error["code"] == "host_not_allowed"
        assert "server.allowed_hosts" in error["message"]
        assert "evil.example" in error["message"]
        assert b'"threads"' not in refused.body
        assert b"data" not in refused.body
        with pytest.raises(tornado.httpclient.HTTPClientError) as no_upgrade:
            await upgrade(running, "evil.example")
        assert no_upgrade.value.code == 403
        page = await fetch(f"http://127.0.0.1:{running.port}{ROOT}",
                           headers={"Host": "evil.example"})
        assert page.code == 403

        # The names that cannot be rebound still work: the history and a chat.
        for good in ("localhost", "127.0.0.1", "LOCALHOST."):
            assert (await history(running, good)).code == 200, good
        ws = await upgrade(running, "localhost")
        await ws.hello()
        await ws.send({"type": "user_message", "content": "hello"})
        await ws.until(lambda e: e["type"] == "step" and e["step"]["output"] == "echo hello")
        ws.conn.close()


async def test_allowed_hosts_admits_a_configured_name(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    server = {"allowed_hosts": ["chat.example.org"]}
    async with served_app(tmp_path, monkeypatch, login=False, server=server) as running:
        assert (await history(running, "chat.example.org")).code == 200
        ws = await upgrade(running, "Chat.Example.Org")
        await ws.hello()
        ws.conn.close()
        assert (await history(running, "other.example.org")).code == 403


async def test_with_login_the_guard_is_off_unless_hosts_are_configured(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A rebound page carries no session cookie, so with login it gets 401, never data.
    async with served_app(tmp_path / "a", monkeypatch, login=True) as running:
        assert (await history(running, "evil.example")).code == 401
        alice = browser(running)
        assert (await alice.login("alice")).code == 303
        assert (await alice.fetch("GET", API + "/threads")).code == 200
        await alice.close()
    server = {"allowed_hosts": ["chat.example.org"]}
    async with served_app(tmp_path / "b", monkeypatch, login=True, server=server) as running:
        assert (await history(running, "evil.example")).code == 403
        assert (await history(running, "chat.example.org")).code == 401


def test_the_bind_address_ip_literals_and_star() -> None:
    config = Config()
    guard = HostGuard.for_server(config, "myhost.lan", login=False)
    assert guard is not None
    assert guard.allows("myhost.lan:8000")
    assert guard.allows("MyHost.LAN")
    assert guard.allows("[::1]:8000")
    assert guard.allows("192.168.1.5:8000")
    assert not guard.allows("evil.example")
    assert not guard.allows("localhost.evil.example")
    wildcard = HostGuard.for_server(config, "0.0.0.0", login=False)
    assert wildcard is not None
    assert not wildcard.allows("0.0.0.0.evil.example")
    star = HostGuard.for_server(Config(server=ServerConfig(allowed_hosts=("*",))), "::",
                                login=False)
    assert star is not None
    assert star.allows("anything.example")
    assert HostGuard.for_server(config, "127.0.0.1", login=True) is None
    assert host_name("[::1]:80") == "::1"
    assert host_name("::1") == "::1"
