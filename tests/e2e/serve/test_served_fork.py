"""Fork in the served page (headless Chromium): the Fork button on a message opens a new
chat holding the conversation up to that message; the user carries on there, and the
original chat stays as it was in the history."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, Page, expect

from e2e import harness
from e2e.harness import REPLY_MS, assistant, finished
from e2e.serve.conftest import ServedApp, start_served

pytestmark = pytest.mark.asyncio(loop_scope="session")
HERE = Path(__file__).parent


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ServedApp]:
    app = await start_served(HERE / "fork_app.py", tmp_path_factory.mktemp("served-fork"))
    yield app
    await app.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def page(chromium: BrowserContext, served: ServedApp) -> AsyncIterator[Page]:
    page = await chromium.new_page()
    console = harness.ConsoleLog(page)
    yield page
    await page.close()
    assert not console.nbchat_errors(), console.errors


async def test_fork_at_a_reply_opens_a_new_chat_up_to_there(page: Page,
                                                            served: ServedApp) -> None:
    await page.goto(served.url)
    root = page.locator("#nbchat-root")
    await expect(root.get_by_role("textbox", name="Message")).to_be_enabled(timeout=REPLY_MS)
    for word in ("one", "two", "three"):
        await harness.send(root, word)
        await finished(assistant(root, f"echo {word}"))
    await expect(page).to_have_url(re.compile(r"/thread/"))
    original = page.url

    reply = assistant(root, "echo two")
    await reply.hover()
    await reply.get_by_role("button", name="Fork chat from here").click()

    # A new thread opens: the conversation up to "echo two", not "three".
    await expect(page).not_to_have_url(original, timeout=REPLY_MS)
    await expect(page).to_have_url(re.compile(r"/thread/"))
    await finished(assistant(root, "echo two"))
    await expect(assistant(root, "echo three")).to_have_count(0)
    await expect(root.locator("article[data-type=user_message]")).to_have_text(
        [re.compile("one"), re.compile("two")])
    # It carries on from there, as a chat of its own.
    await harness.send(root, "four")
    await finished(assistant(root, "echo four"))

    # Both chats are in the history; the original is unchanged.
    sidebar = page.locator(".nbc-history")
    await expect(sidebar.locator(".nbc-thread")).to_have_count(2, timeout=REPLY_MS)
    await expect(sidebar.get_by_role("link", name=re.compile(r"one \(fork\)"))).to_have_count(1)
    await page.goto(original)
    await finished(assistant(root, "echo three"))
    await expect(assistant(root, "echo four")).to_have_count(0)
