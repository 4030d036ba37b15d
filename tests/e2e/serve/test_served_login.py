"""The served page with password login, in headless Chromium: login and logout through the
page, a share link opened by another signed-in user (read-only) and refused for an unshared
thread, New chat from the sidebar, a spontaneous upload with "Attach files", and an
accessibility audit with axe-core of the login page, the chat and the share view (no
serious or critical violations; axe-core is js/package.json's devDependency, injected by
Playwright).

Each user gets a browser context of their own (their own cookies) in one Chromium."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, expect

from e2e.harness import REPLY_MS
from e2e.serve.conftest import ServedApp, start_served

pytestmark = pytest.mark.asyncio(loop_scope="session")
APP = Path(__file__).with_name("login_app.py")
AXE = Path(os.environ.get("NBCHAT_AXE_CORE",
                          Path(__file__).resolve().parents[3] / "js" / "node_modules" / "axe-core"
                          / "axe.min.js"))
SECRET = "e2e-secret-" + "x" * 40
CONFIG = """\
features:
  spontaneous_file_upload:
    enabled: true
    max_files: 3
    max_size_mb: 1
"""


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def login_served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ServedApp]:
    folder = tmp_path_factory.mktemp("served-login")
    (folder / "nbchat.yaml").write_text(CONFIG, encoding="utf-8")
    served = await start_served(APP, folder, env={"NBCHAT_AUTH_SECRET": SECRET})
    yield served
    await served.stop()



@pytest_asyncio.fixture(loop_scope="session")
async def contexts(browser: Browser) -> AsyncIterator[list[BrowserContext]]:
    made: list[BrowserContext] = []
    yield made
    for context in made:
        await context.close()


async def signed_in(browser: Browser, made: list[BrowserContext], served: ServedApp,
                    user: str) -> Page:
    """A new browser context, signed in as `user` through the login page."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    made.append(context)
    page = await context.new_page()
    await page.goto(served.url)
    await expect(page).to_have_url(re.compile(r"/login\?next="), timeout=REPLY_MS)
    await page.get_by_label("Username").fill(user)
    await page.get_by_label("Password").fill(f"{user}-pw")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("textbox", name="Message")).to_be_enabled(timeout=REPLY_MS)
    return page


async def chat(page: Page, text: str) -> str:
    """Send `text`, wait for the echo; return the thread id from the URL."""
    await page.get_by_role("textbox", name="Message").fill(text)
    await page.get_by_role("button", name="Send", exact=True).click()
    reply = page.get_by_role("article", name="Assistant").filter(has_text=f"Echo: {text}")
    await expect(reply).to_have_count(1, timeout=REPLY_MS)
    await expect(page).to_have_url(re.compile(r"/thread/[^/]+$"), timeout=REPLY_MS)
    return page.url.rsplit("/", 1)[1]


async def test_password_login_and_logout_through_the_page(
        browser: Browser, contexts: list[BrowserContext], login_served: ServedApp) -> None:
    page = await signed_in(browser, contexts, login_served, "ada")
    await chat(page, "hello from ada")
    user = page.get_by_role("article", name="Ada").filter(has_text="hello from ada")
    await expect(user).to_have_count(1)

    await page.get_by_role("button", name="User menu").click()
    await page.get_by_role("menuitem", name="Log out").click()
    await expect(page).to_have_url(re.compile(r"/login"), timeout=REPLY_MS)
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    # Signed out for real: the app and the API refuse this browser now.
    await page.goto(login_served.url)
    await expect(page).to_have_url(re.compile(r"/login\?next="), timeout=REPLY_MS)
    api = await page.request.get(login_served.url + "nbchat/api/threads")
    assert api.status == 401

    # A wrong password shows the form again with one message.
    await page.get_by_label("Username").fill("ada")
    await page.get_by_label("Password").fill("wrong")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    await expect(page.get_by_role("textbox", name="Message")).to_have_count(0)


async def test_logout_in_one_tab_sends_the_other_tab_to_the_login_page(
        browser: Browser, contexts: list[BrowserContext], login_served: ServedApp) -> None:
    first = await signed_in(browser, contexts, login_served, "bob")
    thread = await chat(first, "two tabs")
    # The same browser (its cookie) in a second tab, on that thread.
    second = await first.context.new_page()
    await second.goto(f"{login_served.url}thread/{thread}")
    await expect(second.get_by_role("textbox", name="Message")).to_be_enabled(timeout=REPLY_MS)

    await first.get_by_role("button", name="User menu").click()
    await first.get_by_role("menuitem", name="Log out").click()
    # The server closes the second tab's socket with 4401: the page goes to the login page,
    # naming the thread to come back to, instead of reconnecting in a loop.
    await expect(second).to_have_url(re.compile(r"/login\?next=.*thread"), timeout=REPLY_MS)
    await expect(second.get_by_role("button", name="Sign in")).to_be_visible()


async def test_a_share_link_is_read_only_for_another_user_and_refused_unshared(
        browser: Browser, contexts: list[BrowserContext], login_served: ServedApp) -> None:
    ada = await signed_in(browser, contexts, login_served, "ada")
    shared_id = await chat(ada, "a shared secret")
    history = ada.get_by_role("navigation", name="History")
    item = history.locator(f"li.nbc-thread[data-thread-id='{shared_id}']")
    await item.hover()
    await item.get_by_role("button", name="Share").click()
    dialog = ada.get_by_role("dialog", name="Share chat")
    await dialog.get_by_role("checkbox", name="Shared").check()
    await expect(item).to_have_attribute("data-shared", "true", timeout=REPLY_MS)
    link = await dialog.get_by_role("textbox", name="Share link").input_value()
    assert link.endswith(f"/share/{shared_id}")
    await dialog.get_by_role("button", name="Close").click()

    await history.get_by_role("button", name="New chat").click()
    private_id = await chat(ada, "a private one")
    assert private_id != shared_id

    bob = await signed_in(browser, contexts, login_served, "bob")
    await bob.goto(link)
    note = bob.get_by_role("note", name="Shared conversation")
    await expect(note).to_contain_text("Shared conversation, read-only", timeout=REPLY_MS)
    await expect(bob.get_by_role("article", name="Assistant")).to_contain_text(
        "Echo: a shared secret", timeout=REPLY_MS)
    await expect(bob.get_by_role("article", name="Ada")).to_contain_text("a shared secret")
    await expect(bob.get_by_role("textbox", name="Message")).to_have_count(0)
    await expect(bob.get_by_role("button", name="Send", exact=True)).to_have_count(0)

    await bob.goto(f"{login_served.url}share/{private_id}")
    await expect(bob.get_by_role("alert")).to_contain_text(
        "This conversation is not shared or does not exist", timeout=REPLY_MS)
    await expect(bob.get_by_text("a private one")).to_have_count(0)


async def test_new_chat_from_the_sidebar(browser: Browser, contexts: list[BrowserContext],
                                         login_served: ServedApp) -> None:
    page = await signed_in(browser, contexts, login_served, "bob")
    first = await chat(page, "first topic")
    history = page.get_by_role("navigation", name="History")
    await history.get_by_role("button", name="New chat").click()
    await expect(page).to_have_url(login_served.url, timeout=REPLY_MS)
    await expect(page.get_by_role("article")).to_have_count(0, timeout=REPLY_MS)
    second = await chat(page, "second topic")
    assert second != first
    await expect(page.get_by_text("first topic")).to_have_count(1)  # the sidebar link only
    for thread_id in (first, second):
        await expect(history.locator(f"li.nbc-thread[data-thread-id='{thread_id}']")
                     ).to_have_count(1, timeout=REPLY_MS)
    await history.locator(f"li.nbc-thread[data-thread-id='{first}']").get_by_role(
        "link").click()
    await expect(page.get_by_role("article", name="Assistant")).to_contain_text(
        "Echo: first topic", timeout=REPLY_MS)


async def test_a_spontaneous_upload_with_attach_files(
        browser: Browser, contexts: list[BrowserContext], login_served: ServedApp,
        tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("some notes\n", encoding="utf-8")
    page = await signed_in(browser, contexts, login_served, "ada")
    async with page.expect_file_chooser() as chooser:
        await page.get_by_role("button", name="Attach files").click()
    await (await chooser.value).set_files(notes)
    await expect(page.locator(".nbc-composer")).to_contain_text("notes.txt", timeout=REPLY_MS)
    await page.get_by_role("textbox", name="Message").fill("see attached")
    await page.get_by_role("button", name="Send", exact=True).click()
    reply = page.get_by_role("article", name="Assistant")
    await expect(reply).to_contain_text("Echo: see attached with notes.txt", timeout=REPLY_MS)


async def audit(page: Page, where: str) -> None:
    """Run axe on the page; fail on serious or critical violations, naming them."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `npm install` in js/ (axe-core is a "
                    "devDependency), or point NBCHAT_AXE_CORE at axe.min.js", pytrace=False)
    # evaluated through the DevTools protocol: the page's CSP (no inline scripts) stays on
    await page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result: dict[str, Any] = await page.evaluate(
        "() => axe.run(document, { resultTypes: ['violations'] })")
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
           for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{where}: {bad}"


async def test_the_page_login_and_share_view_pass_axe(
        browser: Browser, contexts: list[BrowserContext], login_served: ServedApp) -> None:
    # the login page, before signing in
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    contexts.append(context)
    login = await context.new_page()
    await login.goto(login_served.url)
    await expect(login.get_by_role("button", name="Sign in")).to_be_visible(timeout=REPLY_MS)
    await audit(login, "login page")

    page = await signed_in(browser, contexts, login_served, "ada")
    await audit(page, "empty chat")
    thread = await chat(page, "audit me")
    await audit(page, "after an exchange")
    await page.get_by_role("button", name="Dark theme").click()
    await audit(page, "dark")
    await page.get_by_role("button", name="Light theme").click()

    # share the thread, open it as another user: the read-only view
    row = page.locator(f'li.nbc-thread[data-thread-id="{thread}"]')
    await row.hover()
    await row.get_by_role("button", name="Share").click()
    await page.get_by_role("dialog", name="Share chat").get_by_role("checkbox").check()
    await expect(page.get_by_role("textbox", name="Share link")).to_be_enabled()
    await audit(page, "share dialog")
    bob = await signed_in(browser, contexts, login_served, "bob")
    await bob.goto(f"{login_served.url}share/{thread}")
    await expect(bob.get_by_role("note", name="Shared conversation")).to_be_visible(
        timeout=REPLY_MS)
    await expect(bob.get_by_role("article").first).to_be_visible(timeout=REPLY_MS)
    await audit(bob, "share view")
    assert re.search(r"/share/", bob.url)
