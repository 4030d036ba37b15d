"""The served chat inside another site's iframe, in headless Chromium: window messages both
ways and a CopilotFunction answered by the embedding page (tests/compat/window_app.py, a
Chainlit app), allowed by `server.embed_origins`; a page of another origin is not heard.

The portal page is served by a small tornado server of the test, named `localhost` while
the chat is `127.0.0.1`: two origins, so the chat runs cross-origin in its frame as on a
real site (both on loopback: Chromium's local-network checks let a loopback page frame a
loopback one)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio
import tornado.httpserver
import tornado.netutil
import tornado.web
from playwright.async_api import BrowserContext, Page, expect

from e2e import harness
from e2e.harness import REPLY_MS
from e2e.serve.conftest import ServedApp, start_served

pytestmark = pytest.mark.asyncio(loop_scope="session")
APP = Path(__file__).resolve().parents[2] / "compat" / "window_app.py"

PORTAL_PAGE = """<!doctype html><html><body>
<iframe id="chat" src="{chat}" width="800" height="600"></iframe>
<script>
window.got = [];
window.addEventListener("message", (e) => {{
  if (e.origin !== "{chat_origin}") return;
  window.got.push(e.data);
  if (e.data && e.data.type === "nbchat:call_fn") {{
    e.source.postMessage({{type: "nbchat:call_fn_result", callId: e.data.callId,
                          result: {{page: "/portal/orders"}}}}, e.origin);
  }}
}});
</script></body></html>"""


class PortalHandler(tornado.web.RequestHandler):
    def initialize(self, body: Callable[[], str]) -> None:
        self.body = body

    def get(self, _name: str) -> None:
        self.finish(self.body())


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def portal_server() -> AsyncIterator[tuple[str, dict[str, str]]]:
    """(the portal's origin, the HTML it serves by path: filled in by the tests)."""
    pages: dict[str, str] = {}
    app = tornado.web.Application([(r"/(\w+)", PortalHandler,
                                    {"body": lambda: pages["current"]})])
    server = tornado.httpserver.HTTPServer(app)
    [sock] = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server.add_sockets([sock])
    yield f"http://localhost:{sock.getsockname()[1]}", pages
    server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def served(tmp_path_factory: pytest.TempPathFactory,
                 portal_server: tuple[str, dict[str, str]]) -> AsyncIterator[ServedApp]:
    app = await start_served(APP, tmp_path_factory.mktemp("served-embed"),
                             env={"NBCHAT_SERVER_EMBED_ORIGINS": portal_server[0]})
    yield app
    await app.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def portal(chromium: BrowserContext, served: ServedApp,
                 portal_server: tuple[str, dict[str, str]]) -> AsyncIterator[Page]:
    origin, pages = portal_server
    pages["current"] = PORTAL_PAGE.format(chat=served.url, chat_origin=served.url.rstrip("/"))
    page = await chromium.new_page()
    console = harness.ConsoleLog(page)
    await page.goto(f"{origin}/portal")
    yield page
    await page.close()
    assert not console.nbchat_errors(), console.errors


async def received(page: Page, value: object) -> None:
    await page.wait_for_function("(v) => window.got.some((g) => JSON.stringify(g) === v)",
                                 arg=json.dumps(value, separators=(",", ":")),
                                 timeout=REPLY_MS)


async def test_window_messages_and_a_copilot_function_cross_the_frame(
        portal: Page, served: ServedApp) -> None:
    chat = portal.frame_locator("#chat")
    await expect(chat.get_by_role("textbox", name="Message")).to_be_enabled(timeout=REPLY_MS)
    await received(portal, {"type": "ready"})  # on_chat_start's send_window_message

    await portal.evaluate("""(origin) => document.getElementById("chat").contentWindow
        .postMessage(JSON.stringify({type: "VIEW_CONTEXT", areaId: "A7"}), origin)""",
                          served.url.rstrip("/"))
    await expect(chat.get_by_text("context: area A7")).to_be_visible(timeout=REPLY_MS)
    await received(portal, json.dumps({"type": "EMBEDDED_ACK"}))

    await chat.get_by_role("textbox", name="Message").fill("where")
    await chat.get_by_role("textbox", name="Message").press("Enter")
    await expect(chat.get_by_text("where in /portal/orders, area A7")).to_be_visible(
        timeout=REPLY_MS)


async def test_the_page_refuses_to_be_framed_by_an_origin_not_listed(
        chromium: BrowserContext, served: ServedApp,
        portal_server: tuple[str, dict[str, str]]) -> None:
    origin, pages = portal_server
    page = await chromium.new_page()
    try:
        response = await page.request.get(served.url)
        assert f"frame-ancestors 'self' {origin}" in response.headers[
            "content-security-policy"]
        assert "x-frame-options" not in response.headers
        # The same portal page under another name is another origin, not listed.
        pages["current"] = f'<iframe id="chat" src="{served.url}"></iframe>'
        other = origin.replace("localhost", "127.0.0.1")
        async with page.expect_console_message(lambda m: "frame-ancestors" in m.text,
                                               timeout=REPLY_MS):
            await page.goto(f"{other}/portal")  # Chromium refuses the chat in that frame
        await expect(page.frame_locator("#chat").get_by_role("textbox", name="Message")
                     ).to_have_count(0)
    finally:
        await page.close()
