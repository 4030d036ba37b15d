"""The app's look in headless Chromium (issue 16): `ui.theme` colours on the page, a switch
to dark and back without a reload, `ui.custom_css` and `ui.custom_js` from `public/` run
under the page's CSP, the logo, a header link, and a script from elsewhere refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, expect

from e2e.harness import REPLY_MS, ConsoleLog
from e2e.serve.conftest import ServedApp, start_served
from e2e.serve.test_served_ui_behaviours import png

pytestmark = pytest.mark.asyncio(loop_scope="session")
HERE = Path(__file__).parent
CONFIG = """\
ui:
  name: Rosé
  theme:
    radius: 4px
    light: {primary: "rgb(225, 29, 72)"}
    dark: {primary: "rgb(251, 113, 133)", background: "rgb(10, 10, 10)"}
  custom_css: /public/brand.css
  custom_js: brand.js
  header_links:
    - {name: Docs, url: "https://example.com/docs"}
"""
# The app's script also tries a script from another origin, which the CSP must refuse.
SCRIPT = """
document.body.dataset.brandScript = "ran";
const other = document.createElement("script");
other.src = "https://cdn.example.com/evil.js";
other.onerror = () => { document.body.dataset.foreign = "blocked"; };
document.head.append(other);
"""


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def branded(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ServedApp]:
    folder = tmp_path_factory.mktemp("served-brand")
    (folder / "nbchat.yaml").write_text(CONFIG, encoding="utf-8")
    (folder / "public").mkdir()
    (folder / "public" / "brand.css").write_text(".nbc-brand-name { letter-spacing: 3px; }")
    (folder / "public" / "brand.js").write_text(SCRIPT)
    (folder / "public" / "logo_light.png").write_bytes(png(8, 8))
    served = await start_served(HERE / "ui_app.py", folder)
    yield served
    await served.stop()


async def test_the_apps_theme_files_and_logo_on_the_page(chromium: BrowserContext,
                                                         branded: ServedApp) -> None:
    page = await chromium.new_page()
    console = ConsoleLog(page)
    try:
        await page.emulate_media(color_scheme="light")
        await page.goto(branded.url)
        await expect(page.get_by_role("textbox", name="Message")).to_be_enabled(timeout=REPLY_MS)
        send = page.get_by_role("button", name="Send", exact=True)
        await expect(send).to_have_css("background-color", "rgb(225, 29, 72)")
        await expect(page.locator(".nbc-brand-name")).to_have_css("letter-spacing", "3px")
        await expect(page.locator("body")).to_have_attribute("data-brand-script", "ran")
        await expect(page.locator("body")).to_have_attribute("data-foreign", "blocked")
        await expect(page.locator(".nbc-brand-logo")).to_be_visible()
        assert await page.locator(".nbc-brand-logo").evaluate("(i) => i.naturalWidth") == 8
        link = page.get_by_role("link", name="Docs")
        await expect(link).to_have_attribute("href", "https://example.com/docs")
        # dark and back at once, no reload: the dark tokens replace the light ones
        marker = await page.evaluate("window.__noReload = 1")
        assert marker == 1
        await page.get_by_role("button", name="Dark theme").click()
        await expect(send).to_have_css("background-color", "rgb(251, 113, 133)")
        await expect(page.locator(".nbc-page")).to_have_css("background-color", "rgb(10, 10, 10)")
        await page.get_by_role("button", name="Light theme").click()
        await expect(send).to_have_css("background-color", "rgb(225, 29, 72)")
        assert await page.evaluate("window.__noReload") == 1
        # refused by the policy itself, not by the network
        assert any("Content Security Policy" in e and "evil.js" in e for e in console.errors), \
            console.errors
    finally:
        await page.close()
