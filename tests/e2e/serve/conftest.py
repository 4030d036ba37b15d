"""`nbchat serve` as a real subprocess on a free port, for the served-page e2e tests.

The server prints `… at http://127.0.0.1:<port>/` once it listens (started with `--port 0`);
the fixture waits for that line (bounded by a deadline) instead of polling or sleeping, and
shows the server's output when it fails to start.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from e2e import harness
from e2e.harness import REPLY_MS

STARTUP_SECONDS = 30.0


@dataclass
class ServedApp:
    url: str   # ends with "/"
    folder: Path
    process: asyncio.subprocess.Process
    output: list[str] = field(default_factory=list)

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), STARTUP_SECONDS)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise


async def start_served(app: Path, folder: Path, *args: str,
                       env: dict[str, str] | None = None) -> ServedApp:
    """Copy `app` into `folder` (its data lands in `folder/.nbchat`) and serve it;
    `env` adds variables to the server's environment."""
    target = folder / app.name
    shutil.copy(app, target)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nbchat.cli", "serve", target.name, "--port", "0", *args,
        cwd=folder, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, **(env or {})})
    served = ServedApp("", folder, process)
    assert process.stdout is not None
    while not served.url:
        raw = await asyncio.wait_for(process.stdout.readline(), STARTUP_SECONDS)
        if not raw:
            await process.wait()
            pytest.fail("nbchat serve did not start:\n" + "".join(served.output),
                        pytrace=False)
        served.output.append(raw.decode())
        found = re.search(r" at (http://\S+)", served.output[-1])
        if found:
            served.url = found.group(1)
    return served


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def quickstart(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ServedApp]:
    """notebooks/quickstart.ipynb served by `nbchat serve`."""
    served = await start_served(harness.NOTEBOOKS / "quickstart.ipynb",
                                tmp_path_factory.mktemp("served-quickstart"))
    yield served
    await served.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium per test module; browser contexts separate the users."""
    if not harness.CHROMIUM.exists():
        pytest.fail(harness.MISSING_CHROMIUM, pytrace=False)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(harness.CHROMIUM), headless=True, args=harness.CHROMIUM_ARGS)
        yield launched
        await launched.close()


@contextlib.asynccontextmanager
async def desktop_page(chromium: BrowserContext) -> AsyncIterator[Page]:
    """A new desktop-sized page; on leaving, no nbchat console error may have been logged."""
    page = await chromium.new_page()
    await page.set_viewport_size({"width": 1280, "height": 800})
    console = harness.ConsoleLog(page)
    yield page
    await page.close()
    assert not console.nbchat_errors(), console.errors


@pytest_asyncio.fixture(loop_scope="session")
async def page(chromium: BrowserContext, served: ServedApp) -> AsyncIterator[Page]:
    """A desktop-sized page of the module's `served` app; no nbchat console error allowed."""
    async with desktop_page(chromium) as page:
        yield page


async def open_chat(page: Page, served: ServedApp, query: str = "") -> None:
    """Open a new chat of the app and wait until the composer takes input."""
    await page.goto(served.url + query)
    await expect(page.get_by_role("textbox", name="Message")).to_be_enabled(timeout=REPLY_MS)


async def shot(page: Page, name: str) -> None:
    """A screenshot into $NBCHAT_SHOTS, when it is set."""
    folder = os.environ.get("NBCHAT_SHOTS")
    if folder:
        await page.screenshot(path=str(Path(folder) / name))
