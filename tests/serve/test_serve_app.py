"""The standalone Application on a real tornado server: page, health, static, blobs, XSRF."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import tornado.httpserver
import tornado.netutil
import tornado.web
from tornado.web import RequestHandler

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.config import Config, UIConfig
from nbchat.data import SQLiteDataLayer
from nbchat.runtime.hosting import ChatHost
from nbchat.server import Identity, Services
from nbchat.server.standalone import make_app
from nbchat.types import User
from serve.helpers import WsClient, fetch

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


class HeaderIdentity(Identity):
    """The user named by the X-Test-User header (none without it)."""

    async def current_user(self, handler: RequestHandler) -> User | None:
        name = handler.request.headers.get("X-Test-User")
        return User(identifier=name) if name else None


def image_app() -> App:
    app = App("blobs")
    with registering_on(app):

        @cl.on_message
        async def reply(message: cl.Message) -> None:
            image = cl.Image(name="dot.png", content=PNG, display="inline")
            page = cl.File(name="x.html", content=b"<script>alert(1)</script>",
                           mime="text/html")
            await cl.Message(content="here", elements=[image, page]).send()

    return app


@dataclass
class Served:
    base: str
    host: ChatHost
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ws(self) -> str:
        return self.base.replace("http://", "ws://") + "ws"


async def serve(tmp_path: Path, *, root: str = "/", headless: bool = False,
                config: Config | None = None, app: App | None = None) -> AsyncIterator[Served]:
    """`make_app` on a real server (HeaderIdentity: the X-Test-User header is the user).
    Also used by tests/security/."""
    config = config or Config(app_dir=tmp_path)
    app = app or image_app()
    layer = SQLiteDataLayer(tmp_path / "db.sqlite", tmp_path / "files")
    host = ChatHost(app, config, layer)
    assert layer.storage is not None
    services = Services(layer, layer.storage, HeaderIdentity())
    application = make_app(app, config, host=host, services=services,
                           identity=HeaderIdentity(), root_path=root, headless=headless)
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    http = tornado.httpserver.HTTPServer(application)
    http.add_sockets(sockets)
    port = sockets[0].getsockname()[1]
    yield Served(f"http://127.0.0.1:{port}{root}", host)
    http.stop()
    await host.close()
    await http.close_all_connections()


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    name = 'Bot </script><script>alert(1)</script> & "co"'
    config = Config(ui=UIConfig(name=name), app_dir=tmp_path)
    async for running in serve(tmp_path, root="/sub/", config=config):
        yield running


def page_config(body: bytes) -> dict[str, object]:
    text = body.decode()
    match = re.search(r'<script type="application/json" id="nbchat-page">(.*?)</script>',
                      text, re.S)
    assert match, text
    value: dict[str, object] = json.loads(match.group(1))
    return value


async def test_the_page_shell_carries_its_config_as_escaped_json(served: Served) -> None:
    ada = {"X-Test-User": "ada"}
    response = await fetch(served.base, headers=ada)
    assert response.code == 200
    body = response.body.decode()
    assert '<div id="nbchat-root"></div>' in body
    assert body.count("</script>") == 2  # the JSON block and the module, nothing injected
    config = page_config(response.body)
    port = served.base.split(":")[2].split("/")[0]
    brand = config.pop("brand")
    assert isinstance(brand, dict)
    assert brand["logo"] == ""
    assert brand["headerLinks"] == []
    assert config == {
        "wsUrl": f"ws://127.0.0.1:{port}/sub/ws", "apiUrl": "/sub/nbchat/api",
        "blobUrl": "/sub/nbchat/blobs/", "rootPath": "/sub/",
        "user": {"identifier": "ada", "display_name": None},
        "auth": {"enabled": True, "logoutUrl": "/sub/logout", "loginUrl": "/sub/login"},
        "threadId": None, "mode": "chat",
        "name": 'Bot </script><script>alert(1)</script> & "co"', "embedOrigins": [],
    }
    script = re.search(r'<script type="module" src="([^"]+)"></script>', body)
    assert script
    assert re.fullmatch(r"/sub/static/page\.js\?v=[0-9a-f]+", script.group(1))
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("style-src")[0]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "_xsrf=" in response.headers["Set-Cookie"]

    thread = page_config((await fetch(served.base + "thread/t-1", headers=ada)).body)
    assert (thread["threadId"], thread["mode"]) == ("t-1", "chat")
    share = page_config((await fetch(served.base + "share/t-2", headers=ada)).body)
    assert (share["threadId"], share["mode"]) == ("t-2", "share")


async def test_without_a_user_the_page_sends_to_login(served: Served) -> None:
    response = await fetch(served.base + "thread/t-1", follow_redirects=False)
    assert response.code == 302
    assert response.headers["Location"] == "/sub/login?next=/sub/thread/t-1"


async def test_health_and_static_files(served: Served) -> None:
    health = await fetch(served.base + "health")
    assert health.code == 200
    assert json.loads(health.body) == {"status": "ok", "app": "blobs", "store": "ok",
                                       "worker": "local"}  # one process: no worker id
    page = (await fetch(served.base, headers={"X-Test-User": "ada"})).body.decode()
    src = re.search(r'src="(/sub/static/page\.js\?v=[0-9a-f]+)"', page)
    assert src
    origin = served.base.removesuffix("/sub/")
    static = await fetch(origin + src.group(1), decompress_response=False,
                         headers={"Accept-Encoding": "gzip"})
    assert static.code == 200
    assert static.headers["Content-Encoding"] == "gzip"
    assert "max-age=315360000" in static.headers["Cache-Control"]
    assert static.headers["X-Content-Type-Options"] == "nosniff"
    assert gzip.decompress(static.body).startswith((b"//", b"var", b"(", b"\"use", b"import"))


async def test_state_changing_api_calls_need_the_xsrf_token(served: Served) -> None:
    ada = {"X-Test-User": "ada"}
    refused = await fetch(served.base + "nbchat/api/threads/t-1", method="DELETE",
                          headers=ada)
    assert refused.code == 403
    assert json.loads(refused.body)["error"]["code"] == "forbidden"
    page = await fetch(served.base, headers=ada)
    cookie = page.headers["Set-Cookie"].split(";")[0]
    token = cookie.split("=", 1)[1]
    allowed = await fetch(served.base + "nbchat/api/threads/t-1", method="DELETE",
                          headers={**ada, "Cookie": cookie, "X-XSRFToken": token})
    assert allowed.code == 404  # past the XSRF check: no such thread


async def test_blobs_are_served_to_the_sessions_user_only(served: Served) -> None:
    ada = await WsClient.connect(served.ws, {"X-Test-User": "ada"})
    welcome = await ada.hello()
    await ada.reply("picture")
    elements = {e["element"]["name"]: e["element"] for e in ada.events
                if e["type"] == "element"}
    blobs = served.base + f"nbchat/blobs/{welcome['sessionId']}/"
    image = await fetch(blobs + elements["dot.png"]["objectKey"],
                        headers={"X-Test-User": "ada"})
    assert image.code == 200
    assert image.body == PNG
    assert image.headers["Content-Type"] == "image/png"
    assert image.headers["Content-Disposition"] == "inline; filename*=UTF-8''dot.png"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    html = await fetch(blobs + elements["x.html"]["objectKey"], headers={"X-Test-User": "ada"})
    assert html.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in html.headers["Content-Security-Policy"]

    key = elements["dot.png"]["objectKey"]
    for headers, url in [({"X-Test-User": "eve"}, blobs + key),   # another user
                         ({}, blobs + key),                       # nobody
                         ({"X-Test-User": "ada"}, blobs + "nope"),  # unknown key
                         ({"X-Test-User": "ada"},
                          served.base + f"nbchat/blobs/other/{key}")]:
        denied = await fetch(url, headers=headers)
        assert denied.code == 404, (headers, url)
    await ada.close()


async def test_headless_serves_api_and_websocket_but_no_page(tmp_path: Path) -> None:
    async for served in serve(tmp_path, headless=True):
        assert (await fetch(served.base, headers={"X-Test-User": "a"})).code == 404
        assert (await fetch(served.base + "static/page.js")).code == 404
        assert (await fetch(served.base + "health")).code == 200
        threads = await fetch(served.base + "nbchat/api/threads", headers={"X-Test-User": "a"})
        assert threads.code == 200
        client = await WsClient.connect(served.ws, {"X-Test-User": "a"})
        await client.hello()
        assert (await client.reply("x"))["step"]["output"] == "here"
        await client.close()


async def test_the_websocket_needs_a_user_when_identity_has_none(served: Served) -> None:
    import tornado.httpclient

    with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
        await WsClient.connect(served.ws)
    assert refused.value.code == 401
