"""A WebSocket cut in the middle of a reply: the page reconnects, resumes with its last
sequence number, and shows the complete reply, nothing missing and nothing doubled."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, expect

from e2e.harness import REPLY_MS
from e2e.serve.conftest import ServedApp, start_served

pytestmark = pytest.mark.asyncio(loop_scope="session")
APP = Path(__file__).with_name("stream_app.py")
# Keeps every WebSocket the page opens, so the test can cut one.
TRACK_SOCKETS = """
window.__nbcSockets = [];
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(...args) { super(...args); window.__nbcSockets.push(this); }
};
"""


@pytest_asyncio.fixture(loop_scope="session")
async def streamer(tmp_path: Path) -> AsyncIterator[ServedApp]:
    os.mkfifo(tmp_path / "gate")
    served = await start_served(APP, tmp_path)
    yield served
    # If the test failed before opening the gate, release the app's waiting reader.
    with contextlib.suppress(OSError):
        fd = os.open(tmp_path / "gate", os.O_WRONLY | os.O_NONBLOCK)
        os.write(fd, b"x")
        os.close(fd)
    await served.stop()


async def test_a_cut_mid_stream_still_shows_the_whole_reply(chromium: BrowserContext,
                                                           streamer: ServedApp) -> None:
    page = await chromium.new_page()
    try:
        await page.add_init_script(TRACK_SOCKETS)
        await page.goto(streamer.url)
        box = page.get_by_role("textbox", name="Message")
        await box.fill("go")
        await page.get_by_role("button", name="Send", exact=True).click()
        reply = page.get_by_role("article", name="Assistant")
        await expect(reply).to_contain_text("w199", timeout=REPLY_MS)
        await expect(reply).to_have_class(re.compile(r"\bnbc-streaming\b"))  # mid-reply
        assert await page.evaluate("window.__nbcSockets.length") == 1

        await page.evaluate("window.__nbcSockets[0].close()")
        # Open the gate: the rest of the reply streams while the page is cut off.
        await asyncio.to_thread((streamer.folder / "gate").write_text, "open")

        await expect(reply).not_to_have_class(re.compile(r"\bnbc-streaming\b"),
                                              timeout=REPLY_MS)
        text = await reply.locator(".nbc-msg-body").text_content() or ""
        assert text.split() == [f"w{i}" for i in range(400)]
        assert await page.evaluate("window.__nbcSockets.length") == 2  # it reconnected
    finally:
        await page.close()


async def test_a_message_too_big_for_the_socket_shows_the_servers_reason(
        chromium: BrowserContext, tmp_path: Path) -> None:
    # The socket takes max_event_bytes plus an upload chunk's room (about 4 MiB); a text
    # frame over that is refused with close code 1009 and a reason, which the page shows
    # before it reconnects.
    served = await start_served(Path(__file__).with_name("ui_app.py"),
                                tmp_path, env={"NBCHAT_RUNTIME_MAX_EVENT_BYTES": "1000"})
    page = await chromium.new_page()
    try:
        await page.goto(served.url)
        box = page.get_by_role("textbox", name="Message")
        await expect(box).to_be_enabled(timeout=REPLY_MS)
        await box.evaluate("(el) => { el.value = 'x'.repeat(4_300_000); }")
        await page.get_by_role("button", name="Send", exact=True).click()
        notice = page.locator(".nbc-notice-error")
        await expect(notice).to_contain_text("The connection was closed:", timeout=REPLY_MS)
        assert await notice.text_content() != "The connection was closed: 1009"  # a reason
        await expect(page.locator(".nbc-root")).to_have_attribute("data-connection", "open",
                                                                  timeout=REPLY_MS)
    finally:
        await page.close()
        await served.stop()
