"""Fixtures for served-mode authentication tests (helpers in served.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from .served import Browser, Probe, Served, login_app, serve


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
async def served(tmp_path: Path, probe: Probe) -> AsyncIterator[Served]:
    """The password-login app on a real server."""
    async with serve(tmp_path, login_app(probe), probe) as running:
        yield running


@pytest.fixture
async def browsers(served: Served) -> AsyncIterator[Callable[[], Browser]]:
    """Make browsers (each with its own cookie jar) for `served`; closed at the end."""
    made: list[Browser] = []

    def make() -> Browser:
        made.append(served.browser())
        return made[-1]

    yield make
    for browser in made:
        await browser.close()


@pytest.fixture
async def alice(browsers: Callable[[], Browser]) -> Browser:
    """A browser signed in as alice."""
    browser = browsers()
    assert (await browser.login("alice")).code == 303
    return browser


@pytest.fixture
async def bob(browsers: Callable[[], Browser]) -> Browser:
    browser = browsers()
    assert (await browser.login("bob")).code == 303
    return browser
