"""Fixtures shared by every test folder: a free port, headless Chromium, a real JupyterLab.

The server and browser start through `tests/e2e/harness.py`, which the notebook benchmark
uses too. Browser fixtures live on the session event loop (Playwright objects belong to the
loop that made them), so async tests that use them run with
`pytestmark = pytest.mark.asyncio(loop_scope="session")`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, async_playwright

import pgdb
from e2e import harness
from emulators import Emulator, EmulatorError, Emulators


@pytest.fixture(scope="session", autouse=True)
def private_jupyter_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Widgets in this process write upload tickets and store registrations under Jupyter's
    runtime dir: a temporary one, not the user's."""
    folder = tmp_path_factory.mktemp("jupyter-runtime")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_RUNTIME_DIR", str(folder))
        yield folder


@pytest.fixture
def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    return harness.free_port()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def chromium(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BrowserContext]:
    """A headless Debian Chromium (a browser context with a fresh profile)."""
    if not harness.CHROMIUM.exists():
        pytest.fail(harness.MISSING_CHROMIUM, pytrace=False)
    async with async_playwright() as playwright, harness.chromium_context(
            playwright, tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture(scope="session")
def jupyter_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.JupyterServer]:
    """`jupyter lab` on a free loopback port, no token; `.url` and `.root` (copy files there)."""
    folder: Path = tmp_path_factory.mktemp("jupyter")
    with harness.jupyter_lab(folder) as server:
        yield server


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the whole run, dropped at the end (tests empty it
    with `pgdb.truncate` where they need a clean slate)."""
    import asyncio

    name = pgdb.new_name()
    url = asyncio.run(pgdb.create(name))
    yield url
    asyncio.run(pgdb.drop(name))


@pytest.fixture(scope="session")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulators]:
    """The cloud stand-ins of tests/emulators.py, each started on first use, one of each
    for the whole session (tests/data's DynamoDB and tests/storage's S3 share moto)."""
    started = Emulators(tmp_path_factory.mktemp("emulators"))
    yield started
    started.close()


def _started(start: Callable[[], Emulator]) -> Emulator:
    try:
        return start()
    except EmulatorError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def moto_server(emulators: Emulators) -> Emulator:
    """moto in server mode (DynamoDB, and S3 with the bucket BUCKET)."""
    return _started(emulators.s3)


@pytest.fixture(scope="session")
def azurite(emulators: Emulators) -> Emulator:
    """Azurite's Blob service, with the container BUCKET."""
    return _started(emulators.azure_blob)


@pytest.fixture(scope="session")
def gcs_emulator(emulators: Emulators) -> Emulator:
    """gcp-storage-emulator in memory, with the bucket BUCKET; STORAGE_EMULATOR_HOST set."""
    return _started(emulators.gcs)
