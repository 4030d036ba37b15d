"""Screenshots of the served page and the notebook widget for the README (docs/images/):
light, dark, 390 px.

    .venv/bin/python scripts/screenshots.py [--out docs/images] [--only NAME] [--no-widget]

Serves examples/ui_tour.py twice with `nbchat serve` (with and without its greeting, so the
empty chat with its starters shows too), runs it in a JupyterLab notebook (the e2e tests'
harness: a private Jupyter home, light and dark Lab themes) and drives the Debian Chromium
through Playwright. Every request that does not go to loopback is blocked. Nothing here
sleeps: each shot waits on the DOM it shows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright, expect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from e2e import harness  # noqa: E402  (the tests' JupyterLab launcher)

APP = ROOT / "examples" / "ui_tour.py"
CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}
WAIT_MS = 20_000


async def serve(folder: Path, env: dict[str, str]) -> tuple[asyncio.subprocess.Process, str]:
    shutil.copy(APP, folder / APP.name)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nbchat.cli", "serve", APP.name, "--port", "0", cwd=folder,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env={**os.environ, **env})
    assert proc.stdout is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        if not line:
            raise RuntimeError("nbchat serve did not start")
        found = re.search(r" at (http://\S+)", line)
        if found:
            return proc, found.group(1)


async def open_page(browser: Browser, url: str, viewport: dict[str, int], dark: bool) -> Page:
    context = await browser.new_context(viewport=viewport,  # type: ignore[arg-type]
                                        color_scheme="dark" if dark else "light",
                                        has_touch=viewport is MOBILE, device_scale_factor=1)
    page = await context.new_page()
    await page.route(re.compile(r"^(?!http://127\.0\.0\.1)"), lambda route: route.abort())
    await page.goto(url)
    await expect(page.get_by_role("textbox", name="Message")).to_be_enabled(timeout=WAIT_MS)
    return page


async def exchange(page: Page, open_steps: bool = False) -> None:
    """Send the first starter's message and wait for the whole reply."""
    await page.get_by_role("textbox", name="Message").fill("Plan a weekend in Porto")
    await page.get_by_role("button", name="Send", exact=True).click()
    await expect(page.get_by_role("button", name="More ideas")).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator(".nbc-streaming")).to_have_count(0, timeout=WAIT_MS)
    if open_steps:
        await page.locator(".nbc-step-head", has_text="Research").click()
        await page.locator(".nbc-step-head", has_text="search_places").click()
        await expect(page.locator(".nbc-step-input code", has_text="query")).to_be_visible()
        await page.locator(".nbc-msg[data-type=user_message]").scroll_into_view_if_needed()
        await page.evaluate(
            "document.querySelector('.nbc-scroll').scrollTop = "
            "document.querySelector('.nbc-msg[data-type=user_message]').offsetTop - 16")


async def settings(page: Page) -> None:
    await page.get_by_role("button", name="Chat settings").click()
    await expect(page.get_by_role("dialog")).to_be_visible()


async def sidebar(page: Page) -> None:
    await exchange(page)
    await page.get_by_role("button", name="Toggle sidebar").click()
    await expect(page.locator(".nbc-sidebar")).to_be_visible()
    # A function, not an expression: the page's CSP (no 'unsafe-eval') refuses the latter.
    await page.wait_for_function(
        "() => document.querySelector('.nbc-sidebar').getBoundingClientRect().x === 0")


Step = Callable[[Page], Awaitable[None]]
SHOTS: list[tuple[str, str, dict[str, int], bool, Step | None]] = [
    # name, server ("welcome" or "empty"), viewport, dark, what to do before the shot
    ("page-empty-light", "empty", DESKTOP, False, None),
    ("page-empty-dark", "empty", DESKTOP, True, None),
    ("page-light", "welcome", DESKTOP, False, lambda p: exchange(p, open_steps=True)),
    ("page-dark", "welcome", DESKTOP, True, lambda p: exchange(p, open_steps=True)),
    ("page-reply-light", "welcome", DESKTOP, False, exchange),
    ("page-settings-light", "welcome", DESKTOP, False, settings),
    ("page-mobile-light", "empty", MOBILE, False, None),
    ("page-mobile-dark", "welcome", MOBILE, True, exchange),
    ("page-mobile-sidebar", "welcome", MOBILE, False, sidebar),
    ("page-mobile-settings", "welcome", MOBILE, True, settings),
]


LAB_THEMES = {False: "JupyterLab Light", True: "JupyterLab Dark"}


async def widget_shots(browser: Browser, out: Path, only: str | None) -> None:
    """The chat widget in a JupyterLab notebook, Lab's light and dark themes."""
    with tempfile.TemporaryDirectory() as tmp, \
            harness.jupyter_lab(Path(tmp)) as lab:
        code = APP.read_text(encoding="utf-8")
        path = harness.write_notebook(lab, "tour.ipynb", [code, "cl.chat(height=620)"])
        for dark in (False, True):
            name = f"widget-{'dark' if dark else 'light'}"
            if only and only != name:
                continue
            settings = Path(lab.env["JUPYTER_CONFIG_DIR"]) / "lab" / "user-settings" / \
                "@jupyterlab" / "apputils-extension"
            settings.mkdir(parents=True, exist_ok=True)
            (settings / "themes.jupyterlab-settings").write_text(
                json.dumps({"theme": LAB_THEMES[dark]}), encoding="utf-8")
            context = await browser.new_context(viewport=DESKTOP,  # type: ignore[arg-type]
                                                device_scale_factor=1)
            page = await context.new_page()
            await page.route(re.compile(r"^(?!http://127\.0\.0\.1)"), lambda r: r.abort())
            await harness.open_lab_notebook(page, lab, path)
            await harness.run_all_cells(page)
            widget = await harness.chat_widget(page)
            await harness.send(widget, "Plan a weekend in Porto")
            await expect(widget.get_by_role("button", name="More ideas")).to_be_visible(
                timeout=WAIT_MS)
            await expect(widget.locator(".nbc-streaming")).to_have_count(0, timeout=WAIT_MS)
            await widget.scroll_into_view_if_needed()
            await page.mouse.move(0, 0)
            await widget.screenshot(path=str(out / f"{name}.png"))
            print(out / f"{name}.png")
            if not dark:  # the History panel (the server extension's), within the widget
                await widget.get_by_role("button", name="History").click()
                await expect(widget.locator(".nbc-history-panel .nbc-thread").first).to_be_visible(
                    timeout=WAIT_MS)
                await widget.screenshot(path=str(out / "widget-history.png"))
                print(out / "widget-history.png")
            await context.close()


async def main(out: Path, only: str | None, widget: bool = True) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        servers: dict[str, tuple[asyncio.subprocess.Process, str]] = {}
        for name, env in (("welcome", {}), ("empty", {"TOUR_WELCOME": "0"})):
            folder = Path(tmp) / name
            folder.mkdir()
            servers[name] = await serve(folder, env)
        try:
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                   args=["--no-sandbox", "--disable-gpu"])
                for name, server, viewport, dark, step in SHOTS:
                    if only and only != name:
                        continue
                    page = await open_page(browser, servers[server][1], viewport, dark)
                    if step:
                        await step(page)
                    await page.mouse.move(0, viewport["height"] - 1)  # no hover styles
                    await page.screenshot(path=str(out / f"{name}.png"))
                    print(out / f"{name}.png")
                    await page.context.close()
                if widget:
                    await widget_shots(browser, out, only)
                await browser.close()
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                await proc.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--only", default=None)
    parser.add_argument("--no-widget", action="store_true", help="only the served page")
    args = parser.parse_args()
    asyncio.run(main(args.out, args.only, widget=not args.no_widget))
