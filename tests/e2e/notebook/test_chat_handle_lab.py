"""`chat = cl.chat()` in a real JupyterLab: the handle drives the chat its widget shows.
A `send` from another cell appears in the widget; a message typed in the widget reaches
`chat.observe`; `chat.messages` lists both; the Fork button opens a copy in the widget."""

from __future__ import annotations

import pytest
from playwright.async_api import BrowserContext, expect

from e2e import harness
from e2e.harness import REPLY_MS, assistant, finished

pytestmark = pytest.mark.asyncio(loop_scope="session")

CELLS = [
    # pandas first: importing it takes a second, which the watchdog reports when it happens
    # inside the chat.messages cell (its warning would mix with that cell's output)
    "import pandas\nimport nbchat as cl\n\n"
    "@cl.on_chat_start\nasync def hi():\n    await cl.Message(content='ready').send()\n\n"
    "def echo(message, history):\n"
    "    yield from ('echo ', message, f' after {len(history)}')\n",
    "chat = cl.chat(echo)\nseen = []\n"
    "stop = chat.observe(lambda reply: seen.append(reply.content))",
]


async def test_the_handle_and_the_widget_drive_one_chat(
        chromium: BrowserContext, jupyter_lab: harness.JupyterServer) -> None:
    path = harness.write_notebook(jupyter_lab, "handle.ipynb", CELLS)
    page = await chromium.new_page()
    try:
        await harness.open_lab_notebook(page, jupyter_lab, path)
        await harness.run_all_cells(page)
        widget = await harness.chat_widget(page)
        await expect(widget.get_by_role("textbox", name="Message")).to_be_enabled(
            timeout=REPLY_MS)

        out = await harness.run_code(page, "print((await chat.send('from a cell')).content)")
        assert out.strip() == "echo from a cell after 1"
        await finished(assistant(widget, "echo from a cell after 1"))  # shown in the widget

        await harness.send(widget, "typed")
        await finished(assistant(widget, "echo typed after 3"))
        out = await harness.run_code(
            page, "print(seen)\nprint(chat.messages['content'].tolist())\n"
                  "original = chat.thread_id")
        assert out.strip().splitlines() == [
            "['echo from a cell after 1', 'echo typed after 3']",
            "['ready', 'from a cell', 'echo from a cell after 1', 'typed', "
            "'echo typed after 3']"]

        first = assistant(widget, "echo from a cell after 1")
        await first.hover()
        await first.get_by_role("button", name="Fork chat from here").click()
        await expect(assistant(widget, "echo typed")).to_have_count(0, timeout=REPLY_MS)
        await finished(assistant(widget, "echo from a cell after 1"))
        # The handle follows its widget into the fork, a thread of its own.
        out = await harness.run_code(page, "print(chat.thread_id != original, "
                                           "chat.messages['content'].tolist())")
        assert out.strip() == "True ['ready', 'from a cell', 'echo from a cell after 1']"
    finally:
        await page.close()
