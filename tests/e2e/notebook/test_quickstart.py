"""The quickstart notebook in a real JupyterLab 4 (and Notebook 7), driven through the DOM.

One JupyterLab page runs all cells of notebooks/quickstart.ipynb once; each test then talks
to that chat with its own message (`hello`, `image`, `ask`, `upload`, `slow`, …) and waits
on DOM conditions. The test that re-registers `on_message` runs last, since it changes the
kernel's handler. Notebook 7 gets its own copy of the notebook (its own kernel).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, Locator, Page, expect

from e2e import harness
from e2e.harness import REPLY_MS, assistant, finished

pytestmark = pytest.mark.asyncio(loop_scope="session")


# Feedback as the kernel holds it, for every chat widget alive in the kernel.
KERNEL_FEEDBACK = """\
import ipywidgets, nbchat.jupyter.widget
chats = [w for w in list(ipywidgets.widgets.widget._instances.values())
         if isinstance(w, nbchat.jupyter.widget.ChatWidget)]
print(sorted((f["value"], f["comment"]) for w in chats for f in w.session.feedback.values()))
"""

NEW_HANDLER = """\
@cl.on_message
async def on_message(message: cl.Message):
    await cl.Message(content=f"v2 heard {message.content}").send()
"""

FAILING_HANDLER = """\
@cl.on_message
async def on_message(message: cl.Message):
    return {}[message.content]
"""


@dataclass
class Chat:
    page: Page
    widget: Locator
    console: harness.ConsoleLog


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def lab(chromium: BrowserContext, jupyter_lab: harness.JupyterServer) -> AsyncIterator[Chat]:
    path = harness.copy_notebook(jupyter_lab, "quickstart.ipynb")
    page = await chromium.new_page()
    console = harness.ConsoleLog(page)
    await harness.open_lab_notebook(page, jupyter_lab, path)
    await harness.run_all_cells(page)
    widget = await harness.chat_widget(page)
    await expect(widget.get_by_role("article", name="Assistant").first).to_contain_text(
        "I am a fake model")
    yield Chat(page, widget, console)
    await page.close()


async def test_streamed_reply_renders_markdown(lab: Chat) -> None:
    # Record every text the reply shows while it streams (a MutationObserver sees each
    # DOM update), to prove it grew in steps rather than arriving at once.
    await lab.widget.evaluate("""root => {
      window.__nbcPartial = [];
      new MutationObserver(() => {
        const body = root.querySelector('article.nbc-streaming .nbc-msg-body');
        if (body) window.__nbcPartial.push(body.textContent);
      }).observe(root, {subtree: true, childList: true, characterData: true});
    }""")
    await harness.send(lab.widget, "hello")
    user = lab.widget.get_by_role("article", name="User").filter(has_text="hello")
    await expect(user).to_be_visible()
    reply = await finished(assistant(lab.widget, "You said hello"))

    await expect(reply.locator("strong")).to_have_text("hello")
    await expect(reply.locator("li")).to_have_text(["a list item", "another one"])
    code = reply.locator("pre code.language-python")
    await expect(code).to_have_text("print('hello from nbchat')")
    await expect(code.locator("span[class^='hljs-']").first).to_be_attached()  # highlighted
    partial = await lab.page.evaluate("window.__nbcPartial")
    final = await reply.locator(".nbc-msg-body").text_content() or ""
    growing = {p for p in partial if p and len(p.strip()) < len(final.strip())}
    assert len(growing) >= 2, f"the reply did not stream (partial texts seen: {partial!r})"


async def test_nested_steps_expand(lab: Chat) -> None:
    await harness.send(lab.widget, "nested")
    await finished(assistant(lab.widget, "You said nested"))
    user = lab.widget.get_by_role("article", name="User").filter(has_text="nested")
    # The tool step follows the message that triggered it.
    outer = user.locator("xpath=following-sibling::*[contains(@class, 'nbc-step')][1]")
    lookup = outer.get_by_role("button", name=re.compile("lookup")).first
    await expect(lookup).to_have_attribute("aria-expanded", "false")
    await lookup.click()
    await expect(lookup).to_have_attribute("aria-expanded", "true")
    await expect(outer.locator(".nbc-step-output").first).to_contain_text(
        "found notes about 'nested'")

    nested = outer.locator(".nbc-step-children .nbc-step")
    await expect(nested).to_have_count(1)
    await expect(nested).to_have_attribute("data-type", "retrieval")
    inner = nested.get_by_role("button", name=re.compile("search index"))
    await expect(inner).to_be_visible()
    await expect(inner).to_have_attribute("aria-expanded", "false")
    await inner.click()
    await expect(inner).to_have_attribute("aria-expanded", "true")
    await expect(nested.locator(".nbc-step-output")).to_contain_text("3 documents about 'nested'")
    await expect(outer).to_have_attribute("data-type", "tool")


async def test_image_element(lab: Chat) -> None:
    await harness.send(lab.widget, "image")
    reply = await finished(assistant(lab.widget, "Here is an image:"))
    img = reply.locator("img")
    await expect(img).to_be_visible(timeout=REPLY_MS)
    # The bytes came over the comm and decode as the 64×64 PNG the notebook made.
    await lab.page.wait_for_function("img => img.complete && img.naturalWidth === 64",
                                     arg=await img.element_handle(), timeout=REPLY_MS)


async def test_action_click(lab: Chat) -> None:
    await harness.send(lab.widget, "shout this")
    reply = await finished(assistant(lab.widget, "You said shout this"))
    await reply.get_by_role("button", name="Shout").click()
    await expect(assistant(lab.widget, "SHOUT THIS!")).to_be_visible(timeout=REPLY_MS)


async def test_ask_user_message_round_trip(lab: Chat) -> None:
    await harness.send(lab.widget, "ask")
    await expect(assistant(lab.widget, "What is your name?")).to_be_visible(timeout=REPLY_MS)
    await harness.send(lab.widget, "Ada")
    await expect(assistant(lab.widget, "Nice to meet you, Ada!")).to_be_visible(timeout=REPLY_MS)


async def test_ask_file_upload(lab: Chat, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("one two three four five\nsix seven\n", encoding="utf-8")
    await harness.send(lab.widget, "upload")
    group = lab.widget.get_by_role("group", name="Upload files")
    await expect(group).to_be_visible(timeout=REPLY_MS)
    await expect(lab.widget.get_by_role("textbox", name="Message")).to_be_disabled()
    await group.get_by_label("Choose files").set_input_files(notes)
    # With the server extension answering (its History button shows), the bytes go over
    # HTTP through the Jupyter server to the kernel, not through the comm.
    await expect(lab.widget.get_by_role("button", name="History")).to_be_visible()
    async with lab.page.expect_request(lambda r: r.method == "PUT"
                                       and "/nbchat/api/uploads/" in r.url) as put:
        await group.get_by_role("button", name="Upload").click()
    response = await (await put.value).response()
    assert response is not None
    assert response.status == 200
    await expect(assistant(lab.widget, "notes.txt has 7 words.")).to_be_visible(timeout=REPLY_MS)
    await expect(group).to_be_hidden()
    await expect(lab.widget.get_by_role("textbox", name="Message")).to_be_enabled()


async def test_feedback_thumbs_up(lab: Chat) -> None:
    await harness.send(lab.widget, "rate me")
    reply = await finished(assistant(lab.widget, "You said rate me"))
    helpful = reply.get_by_role("button", name="Helpful", exact=True)
    await expect(helpful).to_have_attribute("aria-pressed", "false")
    await helpful.click()
    await reply.get_by_role("textbox", name="Feedback comment").fill("clear answer")
    await reply.get_by_role("button", name="Submit feedback").click()
    await expect(helpful).to_have_attribute("aria-pressed", "true")
    not_helpful = reply.get_by_role("button", name="Not helpful")
    await expect(not_helpful).to_have_attribute("aria-pressed", "false")
    # The kernel's session holds it too.
    assert await harness.run_code(lab.page, KERNEL_FEEDBACK) == "[(1, 'clear answer')]"


async def test_stop_button(lab: Chat) -> None:
    await harness.send(lab.widget, "slow")
    stop = lab.widget.get_by_role("button", name="Stop", exact=True)
    await expect(stop).to_be_visible(timeout=REPLY_MS)
    partial = assistant(lab.widget, re.compile(r"You said \W*something long"))
    await expect(partial).to_have_count(1, timeout=REPLY_MS)
    await stop.click()
    # Chainlit's own notice, then the app's on_stop reply (case-sensitive: the notice says
    # "stopped." too).
    await expect(assistant(lab.widget, "Task manually stopped.")).to_be_visible(timeout=REPLY_MS)
    await expect(assistant(lab.widget, re.compile(r"Stopped\."))).to_be_visible(
        timeout=REPLY_MS)
    await expect(lab.widget.get_by_role("button", name="Send", exact=True)).to_be_visible()
    await expect(partial).not_to_have_class(re.compile(r"\bnbc-streaming\b"))
    text = await partial.locator(".nbc-msg-body").text_content()
    # One more round trip: had the slow task kept streaming, its text would have grown.
    await harness.send(lab.widget, "after stop")
    await finished(assistant(lab.widget, "You said after stop"))
    assert await partial.locator(".nbc-msg-body").text_content() == text
    assert "a list item" not in (text or "")  # the 40-second answer really was cut short


async def test_rerunning_the_handler_cell_changes_replies(lab: Chat) -> None:
    await harness.append_cell_and_run(lab.page, NEW_HANDLER)
    await harness.send(lab.widget, "again")
    await expect(assistant(lab.widget, "v2 heard again")).to_be_visible(timeout=REPLY_MS)
    await expect(assistant(lab.widget, "You said again")).to_have_count(0)


async def test_a_failing_callback_shows_its_traceback_collapsed(lab: Chat) -> None:
    # Runs after the handler was re-registered: this replaces it once more.
    await harness.append_cell_and_run(lab.page, FAILING_HANDLER)
    await harness.send(lab.widget, "missing")
    error = lab.widget.get_by_role("article", name="Error").filter(
        has_text="KeyError: 'missing' (in on_message)")
    await expect(error).to_be_visible(timeout=REPLY_MS)
    toggle = error.get_by_role("button", name=re.compile("Traceback"))
    await expect(toggle).to_have_attribute("aria-expanded", "false")
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    output = error.locator(".nbc-step-output")
    await expect(output).to_contain_text("Traceback (most recent call last)")
    await expect(output).to_contain_text("return {}[message.content]")


async def test_no_nbchat_console_errors(lab: Chat) -> None:
    assert lab.console.nbchat_errors() == []


async def test_notebook7_round_trip(chromium: BrowserContext,
                                    jupyter_lab: harness.JupyterServer) -> None:
    path = harness.copy_notebook(jupyter_lab, "quickstart.ipynb", "quickstart_nb7.ipynb")
    page = await chromium.new_page()
    console = harness.ConsoleLog(page)
    try:
        await page.goto(f"{jupyter_lab.url}notebooks/{path}")
        await harness.wait_kernel_idle(page)
        await harness.run_all_cells(page)
        widget = await harness.chat_widget(page)
        await harness.send(widget, "hello")
        reply = await finished(assistant(widget, "You said hello"))
        await expect(reply.locator("pre code.language-python")).to_have_text(
            "print('hello from nbchat')")
        await reply.get_by_role("button", name="Shout").click()
        await expect(assistant(widget, "HELLO!")).to_be_visible(timeout=REPLY_MS)
        assert console.nbchat_errors() == []
    finally:
        await page.close()
