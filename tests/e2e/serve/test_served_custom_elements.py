"""The served page, in headless Chromium: a custom element runs the app's code in its
sandbox (props, updateElement through the model, callAction, sendUserMessage, live props
from CustomElement.update(), cookie and page out of reach, foreign scripts refused), the
element sidebar (cl.ElementSidebar) opens, updates and closes, and step icons draw.

One server for the module (custom_app.py with public/elements/Counter.js); each test opens
its own page and waits on DOM conditions. Screenshots go to $NBCHAT_SHOTS when set.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import FrameLocator, Locator, Page, expect

from e2e import harness
from e2e.harness import REPLY_MS, assistant, finished
from e2e.serve.conftest import ServedApp, open_chat, shot, start_served

pytestmark = pytest.mark.asyncio(loop_scope="session")
HERE = Path(__file__).parent


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ServedApp]:
    folder = tmp_path_factory.mktemp("served-custom")
    shutil.copytree(HERE / "custom_public", folder / "public")
    app = await start_served(HERE / "custom_app.py", folder)
    yield app
    await app.stop()


def counter_in(scope: Page | Locator) -> FrameLocator:
    return scope.frame_locator("iframe.nbc-custom-frame").first


async def test_the_elements_code_runs_sandboxed_and_talks_to_the_server(
        page: Page, served: ServedApp) -> None:
    await open_chat(page, served)
    root = page.locator("#nbchat-root")
    frame_el = page.locator(".nbc-msg iframe.nbc-custom-frame")
    await expect(frame_el).to_have_attribute("sandbox", "allow-scripts")
    counter = counter_in(page.locator(".nbc-msg"))
    await expect(counter.locator(".count")).to_have_text("count 1", timeout=REPLY_MS)
    # the sandbox: an opaque origin, so no cookie and no chat page; scripts only from the app
    await expect(counter.locator(".probe")).to_have_text("cookie blocked, page blocked")
    await expect(counter.locator(".csp")).to_have_text("refused script-src-elem")
    assert "_xsrf" in await page.evaluate("document.cookie")  # the page itself has one
    await shot(page, "custom-element.png")

    # model.set + save_changes → updateElement: the server's element has the new props
    await counter.get_by_role("button", name="Add one").click()
    await expect(counter.locator(".count")).to_have_text("count 2")
    await harness.send(root, "count?")
    await finished(assistant(page, "the server has count 2"))

    # callAction runs the action callback and resolves with what it returned
    await counter.get_by_role("button", name="Ask server").click()
    await expect(counter.locator(".result")).to_have_text("server says 4", timeout=REPLY_MS)

    # sendUserMessage posts a user message
    await counter.get_by_role("button", name="Say hi").click()
    await finished(assistant(page, "got hi from the element"))

    # CustomElement.update(): the running code gets the props (no reload: no new frame)
    handle = await frame_el.element_handle()
    await harness.send(root, "bump")
    await finished(assistant(page, "bumped"))
    await expect(counter.locator(".count")).to_have_text("count 100")
    assert await handle.evaluate("f => f.isConnected")


async def test_a_missing_elements_code_says_so(page: Page, served: ServedApp) -> None:
    await open_chat(page, served)
    root = page.locator("#nbchat-root")
    await harness.send(root, "missing")
    reply = await finished(assistant(page, "a missing element"))
    await expect(reply.get_by_role("alert")).to_contain_text(
        "no custom element code public/elements/Nowhere.js", timeout=REPLY_MS)


async def test_the_element_sidebar_opens_updates_and_closes(page: Page,
                                                           served: ServedApp) -> None:
    await open_chat(page, served)
    root = page.locator("#nbchat-root")
    side = page.locator("aside.nbc-side")
    await expect(side).to_be_hidden()
    await harness.send(root, "sidebar")
    await finished(assistant(page, "sidebar set"))
    sidebar = page.get_by_role("complementary", name="Notes")
    await expect(sidebar).to_be_visible()
    await expect(sidebar.get_by_role("heading", name="Notes")).to_be_visible()
    await expect(sidebar).to_contain_text("Sidebar notes")
    await expect(counter_in(sidebar).locator(".count")).to_have_text("count 7", timeout=REPLY_MS)
    await shot(page, "element-sidebar.png")
    await harness.send(root, "close")
    await finished(assistant(page, "sidebar closed"))
    await expect(side).to_be_hidden()
    # the user may close it too; the next call opens it again
    await harness.send(root, "sidebar")
    await expect(sidebar).to_be_visible(timeout=REPLY_MS)
    await sidebar.get_by_role("button", name="Close side panel").click()
    await expect(side).to_be_hidden()


async def test_step_icons_draw_known_lucide_names(page: Page, served: ServedApp) -> None:
    await open_chat(page, served)
    root = page.locator("#nbchat-root")
    await harness.send(root, "steps")
    await finished(assistant(page, "steps done"))
    icons = page.locator(".nbc-step .nbc-step-icon")
    await expect(icons).to_have_count(3)
    assert await icons.evaluate_all("els => els.map(e => e.dataset.icon)") == [
        "globe", "brain", ""]
    await expect(icons.nth(0).locator("svg")).to_be_visible()
    await expect(icons.nth(2).locator("svg")).to_have_count(0)
    await expect(icons.nth(2)).to_have_text("⚙")  # the tool step's default marker
    await shot(page, "step-icons.png")
