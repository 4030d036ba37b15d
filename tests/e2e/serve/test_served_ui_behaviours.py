"""The served page's UI behaviours apps rely on (issue 12 §3), in headless Chromium:
avatars from public/avatars/, the side panel, the task list, ?prompt=, starters as
buttons, edit and retry, and a Plotly figure drawn by the on-demand plotly.js bundle.

One server for the module; each test opens its own page (a new chat) and waits on DOM
conditions, never on time. Screenshots go to $NBCHAT_SHOTS when it is set.
"""

from __future__ import annotations

import os
import re
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, Locator, Page, expect

from e2e import harness
from e2e.harness import REPLY_MS, finished
from e2e.serve.conftest import ServedApp, start_served

pytestmark = pytest.mark.asyncio(loop_scope="session")
HERE = Path(__file__).parent


def png(width: int, height: int) -> bytes:
    """A valid RGBA PNG of one colour (the avatar of "Tool Bot")."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\x00" + b"\x22\x88\xee\xff" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ServedApp]:
    folder = tmp_path_factory.mktemp("served-ui")
    (folder / "public" / "avatars").mkdir(parents=True)
    (folder / "public" / "avatars" / "tool_bot.png").write_bytes(png(2, 2))
    app = await start_served(HERE / "ui_app.py", folder)
    yield app
    await app.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def page(chromium: BrowserContext, served: ServedApp) -> AsyncIterator[Page]:
    page = await chromium.new_page()
    await page.set_viewport_size({"width": 1280, "height": 800})
    console = harness.ConsoleLog(page)
    yield page
    await page.close()
    assert not console.nbchat_errors(), console.errors


async def open_chat(page: Page, served: ServedApp, query: str = "") -> None:
    await page.goto(served.url + query)
    await expect(page.get_by_role("textbox", name="Message")).to_be_enabled(timeout=REPLY_MS)


async def shot(page: Page, name: str) -> None:
    folder = os.environ.get("NBCHAT_SHOTS")
    if folder:
        await page.screenshot(path=str(Path(folder) / name))


def message(page: Page, author: str, text: str | re.Pattern[str]) -> Locator:
    return page.get_by_role("article", name=author).filter(has_text=text)


async def test_starter_button_sends_and_the_task_list_renders(page: Page,
                                                              served: ServedApp) -> None:
    await open_chat(page, served)
    starters = page.get_by_role("list", name="Starters")
    await starters.get_by_role("button", name="Plan the work").click()
    panel = page.get_by_role("complementary", name="Task list")
    await expect(panel.get_by_role("status")).to_have_text("Done", timeout=REPLY_MS)
    rows = panel.locator("li.nbc-task")
    await expect(rows).to_have_count(3)
    assert await rows.evaluate_all("rows => rows.map(r => r.dataset.status)") == [
        "done", "ready", "failed"]
    await expect(rows.nth(0).locator("svg")).to_be_visible()
    await shot(page, "tasklist.png")
    # the done task links to its message
    await rows.nth(0).get_by_role("link").click()
    await expect(message(page, "Tool Bot", "Collected.")).to_have_class(re.compile("nbc-highlight"))
    await expect(page.locator(".nbc-chip")).to_have_count(0)


async def test_the_authors_avatar_comes_from_public_avatars(page: Page, served: ServedApp) -> None:
    await open_chat(page, served)
    await harness.send(page.locator("#nbchat-root"), "hi")
    reply = await finished(message(page, "Tool Bot", "you said hi"))
    img = reply.locator(".nbc-avatar img")
    await expect(img).to_have_attribute("src", re.compile(r"/avatars/Tool%20Bot$"))
    await page.wait_for_function("img => img.complete && img.naturalWidth === 2",
                                 arg=await img.element_handle())
    # the user's own message keeps initials
    await expect(page.get_by_role("article").first.locator(".nbc-avatar img")).to_have_count(0)


async def test_side_panel_opens_from_the_name_and_closes(page: Page, served: ServedApp) -> None:
    await open_chat(page, served)
    await harness.send(page.locator("#nbchat-root"), "docs")
    reply = await finished(page.get_by_role("article").filter(has_text="Read report.pdf"))
    side = page.locator("aside.nbc-side")
    await expect(side).to_be_hidden()
    await reply.locator(".nbc-msg-body").get_by_role("button", name="notes").click()
    await expect(side).to_be_visible()
    await expect(side.get_by_role("heading", name="Notes", exact=True)).to_be_visible()
    await expect(side).to_contain_text("Side text body.")
    await shot(page, "side-panel-text.png")
    await page.keyboard.press("Escape")
    await expect(side).to_be_hidden()
    await reply.locator(".nbc-msg-body").get_by_role("button", name="report.pdf").click()
    frame = side.locator("iframe")
    await expect(frame).to_have_attribute("sandbox", "")
    await expect(frame).to_have_attribute("src", re.compile(r"/nbchat/blobs/"))
    await shot(page, "side-panel-pdf.png")
    await side.get_by_role("button", name="Close side panel").click()
    await expect(side).to_be_hidden()


async def test_prompt_query_prefills_the_composer(page: Page, served: ServedApp) -> None:
    await open_chat(page, served, "?prompt=Summarise%20this")
    await expect(page.get_by_role("textbox", name="Message")).to_have_value("Summarise this")
    await expect(page.get_by_role("article")).to_have_count(0)


async def test_edit_and_retry_run_on_message_again(page: Page, served: ServedApp) -> None:
    await open_chat(page, served)
    await harness.send(page.locator("#nbchat-root"), "first")
    reply = await finished(message(page, "Tool Bot", "you said first"))
    count = int(re.search(r"run (\d+)", await reply.inner_text()).group(1))  # type: ignore[union-attr]
    user = page.get_by_role("article").filter(has_text="first").first
    await user.hover()
    await user.get_by_role("button", name="Edit message").click()
    await user.get_by_role("textbox", name="Edit message").fill("edited")
    await user.get_by_role("button", name="Confirm").click()
    edited = await finished(message(page, "Tool Bot", f"run {count + 1}: you said edited"))
    await expect(message(page, "Tool Bot", "you said first")).to_have_count(0)
    await edited.hover()
    await edited.get_by_role("button", name="Retry").click()
    await finished(message(page, "Tool Bot", f"run {count + 2}: you said edited"))
    await expect(page.get_by_role("article", name="Tool Bot")).to_have_count(1)


async def test_a_plotly_figure_draws_with_the_separate_bundle(page: Page,
                                                             served: ServedApp) -> None:
    loaded: list[str] = []
    page.on("request", lambda r: loaded.append(r.url))
    await open_chat(page, served)
    assert not [u for u in loaded if u.endswith("/plotly.js")]  # not on first load
    await harness.send(page.locator("#nbchat-root"), "plot")
    figure = page.locator(".nbc-plotly .main-svg").first
    await expect(figure).to_be_visible(timeout=REPLY_MS)
    await expect(page.locator(".nbc-plotly .gtitle")).to_have_text("Sales")
    await shot(page, "plotly.png")
    assert [u for u in loaded if re.search(r"/static/plotly\.js$", u)]
