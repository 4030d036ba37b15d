"""Chainlit-style example apps (tests/compat/apps) run unmodified on `nbchat serve`, driven
in headless Chromium as a user would: actions, asks, streaming with steps, elements, an
exception in a callback, and chat settings. Each app gets its own server; each test waits on
DOM conditions, never on time."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, Page, expect

from e2e import harness
from e2e.harness import REPLY_MS, assistant, finished
from e2e.serve.conftest import ServedApp, desktop_page, start_served

pytestmark = pytest.mark.asyncio(loop_scope="session")
APPS = Path(__file__).parents[2] / "compat" / "apps"


@pytest_asyncio.fixture(loop_scope="session")
async def page(chromium: BrowserContext) -> AsyncIterator[Page]:
    """Each test serves its own app, so the page does not depend on a module `served`."""
    async with desktop_page(chromium) as page:
        yield page


@pytest_asyncio.fixture(loop_scope="session")
async def serve(tmp_path: Path) -> AsyncIterator[list[ServedApp]]:
    started: list[ServedApp] = []
    yield started
    for app in started:
        await app.stop()


async def open_app(page: Page, serve: list[ServedApp], tmp_path: Path, name: str) -> None:
    served = await start_served(APPS / f"{name}.py", tmp_path)
    serve.append(served)
    await page.goto(served.url)
    await expect(page.get_by_role("textbox", name="Message")).to_be_enabled(timeout=REPLY_MS)


async def test_action_buttons_run_their_callbacks(page: Page, serve: list[ServedApp],
                                                  tmp_path: Path) -> None:
    await open_app(page, serve, tmp_path, "actions")
    await page.get_by_role("button", name="Greet Ada").click()
    await finished(assistant(page, "Hello, Ada!"))
    await page.get_by_role("button", name="Only once").click()
    await finished(assistant(page, "Done once"))
    await expect(page.get_by_role("button", name="Only once")).to_have_count(0)
    await expect(page.get_by_role("button", name="Greet Ada")).to_have_count(1)


async def test_asks_take_text_and_a_button(page: Page, serve: list[ServedApp],
                                           tmp_path: Path) -> None:
    await open_app(page, serve, tmp_path, "asks")
    await finished(assistant(page, "What is your name?"))
    await harness.send(page.locator("#nbchat-root"), "Ada")
    await finished(assistant(page, "Your name is: Ada"))
    choices = page.get_by_role("group", name="Choose an action")
    await choices.get_by_role("button", name="Yes").click()
    await finished(assistant(page, "You chose yes"))
    notes = tmp_path / "notes.txt"
    notes.write_text("twelve chars", encoding="utf-8")
    upload = page.get_by_role("group", name="Upload files")
    await upload.get_by_label("Choose files").set_input_files(str(notes))
    await upload.get_by_role("button", name="Upload").click()
    await finished(assistant(page, "notes.txt has 12 characters"))


async def test_streamed_reply_and_its_step_finish(page: Page, serve: list[ServedApp],
                                                  tmp_path: Path) -> None:
    await open_app(page, serve, tmp_path, "streaming")
    await harness.send(page.locator("#nbchat-root"), "go")
    await finished(assistant(page, "late"))
    await expect(assistant(page, "the quick brown fox")).not_to_have_count(0)
    await expect(page.locator(".nbc-streaming")).to_have_count(0)
    await expect(page.get_by_text("Plan")).not_to_have_count(0)


async def test_elements_show_on_their_messages(page: Page, serve: list[ServedApp],
                                               tmp_path: Path) -> None:
    await open_app(page, serve, tmp_path, "elements")
    first = await finished(assistant(page, "Here are the notes and a dot"))
    image = first.get_by_role("button", name="Enlarge image dot")
    await expect(image).to_be_visible(timeout=REPLY_MS)
    await page.wait_for_function("img => img.complete && img.naturalWidth === 1",
                                 arg=await image.element_handle())
    await first.get_by_role("button", name="notes").click()
    await expect(page.locator("aside.nbc-side")).to_contain_text("Some notes")
    await expect(page.get_by_text("soon gone")).to_have_count(0)
    await expect(assistant(page, "A file for you").get_by_role("link", name=re.compile("data.csv"))
                 ).to_be_visible()


async def test_an_exception_is_shown_and_the_chat_goes_on(page: Page, serve: list[ServedApp],
                                                          tmp_path: Path) -> None:
    await open_app(page, serve, tmp_path, "errors")
    await harness.send(page.locator("#nbchat-root"), "boom")
    await expect(page.get_by_role("alert").or_(page.locator(".nbc-error")).first).to_be_visible(
        timeout=REPLY_MS)
    await expect(page.get_by_text("this went wrong")).to_have_count(0)
    await harness.send(page.locator("#nbchat-root"), "after")
    await finished(assistant(page, "echo: after"))
