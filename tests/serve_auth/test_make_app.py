"""Login wired into the standalone server: `build_identity` + `make_app`, end to end."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import tornado.httpclient
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.config import Config
from nbchat.data import SQLiteDataLayer
from nbchat.errors import ConfigError
from nbchat.runtime.hosting import ChatHost
from nbchat.server import Services, SingleUserIdentity
from nbchat.server.auth.cookies import SESSION_COOKIE, CookieIdentity
from nbchat.server.limiter import AttemptLimiter
from nbchat.server.standalone import build_identity, make_app

from .served import API, ROOT, SECRET, Browser, Probe, Served, is_final_reply, login_app


@contextlib.asynccontextmanager
async def standalone(tmp_path: Path, app: App, probe: Probe) -> AsyncIterator[
        tuple[Served, ChatHost]]:
    config = Config(app_dir=tmp_path)
    layer = SQLiteDataLayer(tmp_path / "db.sqlite", tmp_path / "files")
    assert layer.storage is not None
    identity = build_identity(app, config, {"NBCHAT_AUTH_SECRET": SECRET})
    assert isinstance(identity, CookieIdentity)
    host = ChatHost(app, config, layer)
    services = Services(layer, layer.storage, identity)
    application = make_app(app, config, host=host, services=services, identity=identity,
                           root_path=ROOT)
    sock, port = bind_unused_port()
    http = HTTPServer(application)
    http.add_sockets([sock])
    try:
        yield Served(port, app, probe, layer, services, AttemptLimiter(), [0.0]), host
    finally:
        http.stop()
        await http.close_all_connections()
        await host.close()


def test_build_identity_chooses_by_the_apps_callbacks() -> None:
    probe = Probe()
    assert isinstance(build_identity(App("plain"), Config(), {}), SingleUserIdentity)
    with pytest.raises(ConfigError, match="nbchat create-secret"):
        build_identity(login_app(probe), Config(), {})
    with pytest.raises(ConfigError, match="at least 32"):
        build_identity(login_app(probe), Config(), {"NBCHAT_AUTH_SECRET": "x" * 31})


async def test_page_login_websocket_and_logout_through_make_app(tmp_path: Path) -> None:
    probe = Probe()
    async with standalone(tmp_path, login_app(probe), probe) as (served, _):
        browser = Browser(served)
        try:
            first = await browser.fetch("GET", ROOT + "thread/t-1")
            assert first.code == 302
            form = await browser.fetch("GET", first.headers["Location"])
            assert f'name="next" value="{ROOT}thread/t-1"' in form.body.decode()
            with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
                await browser.ws()
            assert refused.value.code == 401

            signed_in = await browser.login("alice", next_path=ROOT + "thread/t-1")
            assert signed_in.code == 303
            assert signed_in.headers["Location"] == ROOT + "thread/t-1"
            assert SESSION_COOKIE in browser.cookies
            page = await browser.fetch("GET", ROOT)
            assert page.code == 200
            found = re.search(r'id="nbchat-page">(.*?)</script>', page.body.decode(), re.S)
            assert found
            config = json.loads(found.group(1))
            assert config["user"] == {"identifier": "alice", "display_name": "Alice A."}
            assert config["auth"]["enabled"] is True

            ws = await browser.ws()
            await ws.hello()
            await ws.send({"type": "user_message", "content": "hi"})
            mine = await ws.until(lambda e: e["type"] == "step"
                                  and e["step"]["type"] == "user_message")
            assert mine["step"]["name"] == "Alice A."
            await ws.until(is_final_reply)
            assert (await browser.fetch("GET", API + "/threads")).code == 200

            with pytest.raises(tornado.httpclient.HTTPClientError) as cross:
                await browser.ws(origin="https://evil.example")
            assert cross.value.code == 403
            assert (await browser.fetch("POST", ROOT + "logout", xsrf=False)).code == 403
            out = await browser.fetch("POST", ROOT + "logout")
            assert out.code == 303
            assert len(probe.logouts) == 1
            assert (await browser.fetch("GET", ROOT)).code == 302
            assert (await browser.fetch("GET", API + "/threads")).code == 401
        finally:
            await browser.close()


async def test_a_reloaded_apps_login_callback_applies_at_once(tmp_path: Path) -> None:
    probe = Probe()
    async with standalone(tmp_path, login_app(probe), probe) as (served, host):
        newer = App("newer")
        with registering_on(newer):

            @cl.password_auth_callback
            def only_carol(username: str, password: str) -> cl.User | None:
                return cl.User("carol") if username == "carol" else None

        host.switch_app(newer)
        browser = Browser(served)
        try:
            assert (await browser.login("alice")).code == 401
            assert (await browser.login("carol", "anything")).code == 303
        finally:
            await browser.close()
