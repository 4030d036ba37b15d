"""OAuth login through the served page, in headless Chromium, against a REAL OpenID Connect
provider (npm `oidc-provider` under Node, tests/oauth/provider) on loopback: `nbchat serve`
configured only by environment variables (OAUTH_GENERIC_*, NBCHAT_PUBLIC_URL), the login
page's "Continue with" link, the provider's scripted login and consent, back to the chat
signed in, then logout."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, expect

from e2e import harness
from e2e.harness import REPLY_MS
from e2e.serve.conftest import ServedApp, start_served
from oauth.conftest import CLIENT_ID, CLIENT_SECRET, install_provider, run_provider

pytestmark = pytest.mark.asyncio(loop_scope="session")
APP = Path(__file__).with_name("oauth_app.py")
SECRET = "e2e-oauth-secret-" + "y" * 40


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def oauth_served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ServedApp]:
    install_provider()
    folder = tmp_path_factory.mktemp("served-oauth")
    port = harness.free_port()  # the redirect URI must be known before the provider starts
    origin = f"http://127.0.0.1:{port}"
    async with run_provider(f"{origin}/oauth/generic/callback",
                            folder / "provider.log") as provider:
        served = await start_served(APP, folder, "--port", str(port), env={
            "NBCHAT_AUTH_SECRET": SECRET, "NBCHAT_PUBLIC_URL": origin,
            "OAUTH_GENERIC_CLIENT_ID": CLIENT_ID, "OAUTH_GENERIC_CLIENT_SECRET": CLIENT_SECRET,
            "OAUTH_GENERIC_DISCOVERY_URL":
                provider.issuer + "/.well-known/openid-configuration",
            "OAUTH_GENERIC_NAME": "Test SSO"})
        yield served
        await served.stop()



async def test_oauth_login_and_logout_through_the_page(browser: Browser,
                                                       oauth_served: ServedApp) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = await context.new_page()
        await page.goto(oauth_served.url)
        await expect(page).to_have_url(re.compile(r"/login\?next="), timeout=REPLY_MS)
        await expect(page.get_by_role("button", name="Sign in")).to_have_count(0)  # no password
        await page.get_by_role("link", name="Continue with Test SSO").click()
        # Through the provider (login, consent: scripted) and back, signed in.
        await expect(page.get_by_role("textbox", name="Message")).to_be_enabled(
            timeout=REPLY_MS)
        assert page.url.startswith(oauth_served.url)
        await page.get_by_role("textbox", name="Message").fill("hello via sso")
        await page.get_by_role("button", name="Send", exact=True).click()
        await expect(page.get_by_role("article", name="Assistant").filter(
            has_text="Echo: hello via sso")).to_have_count(1, timeout=REPLY_MS)
        await expect(page.get_by_role("article", name="Ada Lovelace")).to_contain_text(
            "hello via sso")
        cookies = {c["name"]: c for c in await context.cookies(oauth_served.url)}
        assert cookies["nbchat_session"]["httpOnly"]
        assert "nbchat_oauth" not in cookies  # the flow cookie is spent

        await page.get_by_role("button", name="User menu").click()
        await page.get_by_role("menuitem", name="Log out").click()
        await expect(page).to_have_url(re.compile(r"/login"), timeout=REPLY_MS)
        api = await page.request.get(oauth_served.url + "nbchat/api/threads")
        assert api.status == 401
    finally:
        await context.close()
