"""The quickstart notebook served by `nbchat serve`, driven in headless Chromium.

One server for the module; each test opens its own page (a new chat) and waits on DOM
conditions, never on time.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, Page, expect

from e2e import harness
from e2e.harness import REPLY_MS, assistant, finished
from e2e.serve.conftest import ServedApp

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(loop_scope="session")
async def page(chromium: BrowserContext, quickstart: ServedApp) -> AsyncIterator[Page]:
    page = await chromium.new_page()
    console = harness.ConsoleLog(page)
    await page.goto(quickstart.url)
    await expect(assistant(page, "I am a fake model")).to_be_visible(timeout=REPLY_MS)
    yield page
    await page.close()
    assert not console.nbchat_errors(), console.errors


async def send(page: Page, text: str) -> None:
    await harness.send(page.locator("#nbchat-root"), text)


async def test_the_page_loads_from_the_served_shell(page: Page, quickstart: ServedApp) -> None:
    await expect(page.locator("#nbchat-root .nbc-page")).to_be_visible()
    await expect(page.get_by_role("textbox", name="Message")).to_be_enabled()
    await expect(page).to_have_title(re.compile("Assistant"))


async def test_streamed_reply_with_a_step_and_an_action(page: Page) -> None:
    await page.locator("#nbchat-root").evaluate("""root => {
      window.__nbcPartial = [];
      new MutationObserver(() => {
        const body = root.querySelector('article.nbc-streaming .nbc-msg-body');
        if (body) window.__nbcPartial.push(body.textContent);
      }).observe(root, {subtree: true, childList: true, characterData: true});
    }""")
    await send(page, "hello")
    reply = await finished(assistant(page, "You said hello"))
    await expect(reply.locator("strong")).to_have_text("hello")
    await expect(reply.locator("li")).to_have_text(["a list item", "another one"])
    partial = await page.evaluate("window.__nbcPartial")
    final = await reply.locator(".nbc-msg-body").text_content() or ""
    growing = {p for p in partial if p and len(p.strip()) < len(final.strip())}
    assert len(growing) >= 2, f"the reply did not stream (partial texts seen: {partial!r})"

    step = page.locator(".nbc-step[data-type='tool']").filter(has_text="lookup")
    await expect(step).to_have_attribute("data-state", "done")
    header = step.get_by_role("button", name=re.compile("lookup")).first
    await header.click()
    await expect(header).to_have_attribute("aria-expanded", "true")
    await expect(step.locator(".nbc-step-output").first).to_contain_text(
        "found notes about 'hello'")

    await reply.get_by_role("button", name="Shout").click()
    await expect(assistant(page, "HELLO!")).to_be_visible(timeout=REPLY_MS)


async def test_image_element_loads_over_http(page: Page) -> None:
    await send(page, "image")
    reply = await finished(assistant(page, "Here is an image:"))
    img = reply.locator("img")
    await expect(img).to_be_visible(timeout=REPLY_MS)
    await expect(img).to_have_attribute("src", re.compile(r"/nbchat/blobs/[^/]+/[^/]+$"))
    await page.wait_for_function("img => img.complete && img.naturalWidth === 64",
                                 arg=await img.element_handle(), timeout=REPLY_MS)


async def test_ask_user_message(page: Page) -> None:
    await send(page, "ask")
    await expect(assistant(page, "What is your name?")).to_be_visible(timeout=REPLY_MS)
    await send(page, "Ada")
    await expect(assistant(page, "Nice to meet you, Ada!")).to_be_visible(timeout=REPLY_MS)


async def test_ask_file_upload(page: Page, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("one two three four five\nsix seven\n", encoding="utf-8")
    await send(page, "upload")
    group = page.get_by_role("group", name="Upload files")
    await expect(group).to_be_visible(timeout=REPLY_MS)
    await group.get_by_label("Choose files").set_input_files(notes)
    # The bytes go over HTTP to the upload's ticket, not in WebSocket frames.
    async with page.expect_request(lambda r: r.method == "PUT"
                                   and "/nbchat/api/uploads/" in r.url) as put:
        await group.get_by_role("button", name="Upload").click()
    response = await (await put.value).response()
    assert response is not None
    assert response.status == 200
    await expect(assistant(page, "notes.txt has 7 words.")).to_be_visible(timeout=REPLY_MS)
    await expect(group).to_be_hidden()


async def test_reload_resumes_the_thread_from_the_database(page: Page,
                                                           quickstart: ServedApp) -> None:
    await send(page, "remember me")
    await finished(assistant(page, "You said remember me"))
    await expect(page).to_have_url(re.compile(r"/thread/[^/]+$"), timeout=REPLY_MS)
    thread_url = page.url
    await page.reload()
    await expect(page).to_have_url(thread_url)
    # Without login the author is the one local user.
    user = page.get_by_role("article", name="local").filter(has_text="remember me")
    await expect(user).to_have_count(1, timeout=REPLY_MS)
    await expect(assistant(page, "You said remember me")).to_have_count(1, timeout=REPLY_MS)
    # The history sidebar lists it too.
    history = page.locator(".nbc-sidebar")
    await expect(history).to_contain_text("remember me", timeout=REPLY_MS)


async def test_history_search_rename_and_delete(page: Page, quickstart: ServedApp) -> None:
    await send(page, "zebra crossing")
    await finished(assistant(page, "You said zebra crossing"))
    history = page.get_by_role("navigation", name="History")
    item = history.locator("li.nbc-thread").filter(has_text="zebra crossing")
    await expect(item).to_have_count(1, timeout=REPLY_MS)
    thread_id = await item.get_attribute("data-thread-id")

    await history.get_by_role("searchbox", name="Search chats").fill("zebra")
    await history.get_by_role("searchbox", name="Search chats").press("Enter")
    threads = history.locator("li.nbc-thread")
    await expect(threads).to_have_count(1, timeout=REPLY_MS)
    await expect(threads).to_have_attribute("data-thread-id", thread_id or "")

    item = history.locator(f"li.nbc-thread[data-thread-id='{thread_id}']")
    await item.hover()
    await item.get_by_role("button", name="Rename").click()
    name_box = item.get_by_role("textbox", name="Chat name")
    await name_box.fill("Stripes")
    await name_box.press("Enter")
    await expect(item.get_by_role("link")).to_have_text("Stripes", timeout=REPLY_MS)

    await item.hover()
    await item.get_by_role("button", name="Delete").click()
    await page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    await expect(item).to_have_count(0, timeout=REPLY_MS)
    gone = await page.request.get(f"{quickstart.url}nbchat/api/threads/{thread_id}")
    assert gone.status == 404  # deleted in the database, not just in the list
