"""The widget's History panel for a notebook in a subfolder: its kernel keeps the chats in
`project/.nbchat/`, not in the server root's store, and the panel still lists them and
reopens one (nbchat.jupyter.kernel_stores)."""

from __future__ import annotations

import pytest
from playwright.async_api import BrowserContext, expect

from e2e import harness
from e2e.harness import REPLY_MS

pytestmark = pytest.mark.asyncio(loop_scope="session")

async def test_history_lists_and_reopens_a_subfolder_notebooks_chat(
        chromium: BrowserContext, jupyter_lab: harness.JupyterServer) -> None:
    (jupyter_lab.root / "project").mkdir(exist_ok=True)
    path = harness.copy_notebook(jupyter_lab, "quickstart.ipynb", "project/quickstart.ipynb")
    page = await chromium.new_page()
    try:
        await harness.open_lab_notebook(page, jupyter_lab, path)
        await harness.run_all_cells(page)
        widget = await harness.chat_widget(page)
        reply = widget.get_by_role("article", name="Assistant")
        await expect(reply.first).to_contain_text("I am a fake model")
        await harness.send(widget, "remember the project folder")
        await expect(reply.filter(has_text="You said remember the project folder")).to_have_count(
            1, timeout=REPLY_MS)
        assert (jupyter_lab.root / "project" / ".nbchat" / "nbchat.db").is_file()

        await widget.get_by_role("button", name="History").click()
        history = widget.get_by_role("navigation", name="History")
        chat = history.get_by_role("link", name="remember the project folder")
        await expect(chat).to_be_visible(timeout=REPLY_MS)

        await widget.get_by_role("button", name="History").click()  # close, start a new chat
        await widget.get_by_role("button", name="History").click()
        await history.get_by_role("button", name="New chat").click()
        await expect(reply.filter(has_text="You said remember")).to_have_count(0,
                                                                              timeout=REPLY_MS)
        await widget.get_by_role("button", name="History").click()
        await chat.click()
        await expect(reply.filter(has_text="You said remember the project folder")).to_have_count(
            1, timeout=REPLY_MS)
    finally:
        await page.close()
