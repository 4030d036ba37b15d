"""Custom elements, the element sidebar and step icons in the notebook widget (a real
JupyterLab 4): the same app and public/elements/Counter.js as the served-page test
(tests/e2e/serve/custom_app.py); the widget gets the element's code over the comm and
runs it in a sandboxed frame whose runtime is inline (by nonce) and whose module is a
`blob:` URL."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, expect

from e2e import harness
from e2e.harness import REPLY_MS, assistant, finished

pytestmark = pytest.mark.asyncio(loop_scope="session")
SERVE = Path(__file__).resolve().parents[1] / "serve"


async def test_the_widget_runs_custom_elements_shows_the_sidebar_and_step_icons(
        chromium: BrowserContext, jupyter_lab: harness.JupyterServer) -> None:
    folder = jupyter_lab.root / "custom"
    folder.mkdir(exist_ok=True)
    shutil.copytree(SERVE / "custom_public", folder / "public", dirs_exist_ok=True)
    app = (SERVE / "custom_app.py").read_text(encoding="utf-8")
    path = harness.write_notebook(jupyter_lab, "custom/custom.ipynb", [app, "cl.chat()"])
    page = await chromium.new_page()
    console = harness.ConsoleLog(page)
    try:
        await harness.open_lab_notebook(page, jupyter_lab, path)
        await harness.run_all_cells(page)
        widget = await harness.chat_widget(page)
        frame = widget.locator(".nbc-msg iframe.nbc-custom-frame")
        await expect(frame).to_have_attribute("sandbox", "allow-scripts", timeout=REPLY_MS)
        counter = widget.locator(".nbc-msg").frame_locator("iframe.nbc-custom-frame").first
        await expect(counter.locator(".count")).to_have_text("count 1", timeout=REPLY_MS)
        await expect(counter.locator(".probe")).to_have_text("cookie blocked, page blocked")
        await expect(counter.locator(".csp")).to_have_text("refused script-src-elem")

        await counter.get_by_role("button", name="Add one").click()
        await expect(counter.locator(".count")).to_have_text("count 2")
        await harness.send(widget, "count?")
        await finished(assistant(widget, "the server has count 2"))
        await counter.get_by_role("button", name="Ask server").click()
        await expect(counter.locator(".result")).to_have_text("server says 4", timeout=REPLY_MS)
        await harness.send(widget, "bump")
        await finished(assistant(widget, "bumped"))
        await expect(counter.locator(".count")).to_have_text("count 100")

        await harness.send(widget, "sidebar")
        sidebar = widget.get_by_role("complementary", name="Notes")
        await expect(sidebar).to_be_visible(timeout=REPLY_MS)
        await expect(sidebar).to_contain_text("Sidebar notes")
        await harness.send(widget, "close")
        await finished(assistant(widget, "sidebar closed"))
        await expect(widget.locator("aside.nbc-side")).to_be_hidden()

        await harness.send(widget, "steps")
        await finished(assistant(widget, "steps done"))
        icons = widget.locator(".nbc-step .nbc-step-icon")
        await expect(icons).to_have_count(3)
        assert await icons.evaluate_all("els => els.map(e => e.dataset.icon)") == [
            "globe", "brain", ""]
        assert not console.nbchat_errors(), console.errors
    finally:
        await page.close()


async def test_the_custom_elements_notebook_and_its_module_as_an_anywidget(
        chromium: BrowserContext, jupyter_lab: harness.JupyterServer) -> None:
    folder = jupyter_lab.root / "gauge"
    folder.mkdir(exist_ok=True)
    shutil.copytree(harness.NOTEBOOKS / "public", folder / "public", dirs_exist_ok=True)
    path = harness.copy_notebook(jupyter_lab, "custom_elements.ipynb",
                                 "gauge/custom_elements.ipynb")
    page = await chromium.new_page()
    console = harness.ConsoleLog(page)
    try:
        await harness.open_lab_notebook(page, jupyter_lab, path)
        await harness.run_all_cells(page)
        widget = await harness.chat_widget(page)
        # The last cells' outputs are there (nothing is drawn again while the test clicks).
        plain = page.locator(".jp-OutputArea-output").filter(has_text="As a widget")
        await expect(plain.locator(".gauge-value")).to_have_text("5 / 10", timeout=REPLY_MS)
        await harness.wait_kernel_idle(page)
        chat_gauge = widget.frame_locator("iframe.nbc-custom-frame").first
        # JupyterLab may still scroll the notebook (the last cell ran) while a pointer click
        # is aimed: such a click can land beside the button. A DOM click runs the same code.
        await expect(chat_gauge.locator(".gauge-value")).to_have_text("3 / 10", timeout=REPLY_MS)
        await chat_gauge.get_by_role("button", name="+").dispatch_event("click")
        await expect(chat_gauge.locator(".gauge-value")).to_have_text("4 / 10")
        await harness.send(widget, "hello")
        await finished(assistant(widget, "The gauge the server knows is at 4."))
        await chat_gauge.get_by_role("button", name="Reset").dispatch_event("click")  # callAction
        await expect(chat_gauge.locator(".gauge-value")).to_have_text("0 / 10", timeout=REPLY_MS)

        # the same file as an anywidget.AnyWidget: its model is the widget's traits
        await expect(plain.get_by_role("button", name="Reset")).to_have_count(0)
        await plain.get_by_role("button", name="+").dispatch_event("click")
        await expect(plain.locator(".gauge-value")).to_have_text("6 / 10")
        assert await harness.run_code(page, "print(gauge.value)") == "6"
        assert not console.nbchat_errors(), console.errors
    finally:
        await page.close()
