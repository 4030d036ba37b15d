"""Real JupyterLab + headless Chromium for the end-to-end tests and the notebook benchmark.

Used by `tests/conftest.py` (fixtures) and `benchmarks/notebook_stream.py`, so the server and
browser start the same way in both. Nothing here sleeps to synchronize: the server is polled
until `/api/status` answers (bounded by a deadline), and the page is driven by waiting on
DOM conditions.

The server runs `python -m jupyterlab` with this interpreter (the repo's `.venv`), in a
private Jupyter home (config, data, runtime and IPython dirs under the temp folder), with a
`python3` kernelspec whose argv is this interpreter, so the kernel imports the nbchat under
test, and with JupyterLab's news and update checks off.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Locator, Page, Playwright, expect

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
MISSING_CHROMIUM = (
    f"{CHROMIUM} is missing: the end-to-end tests drive the Debian Chromium and never "
    "download a browser. Install it with `bash scripts/system-deps.sh` (as root, or follow "
    "the apt-get line it prints)."
)
STARTUP_SECONDS = 60.0


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago (bound to port 0, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------------------- browser


@contextlib.asynccontextmanager
async def chromium_context(playwright: Playwright, user_data_dir: Path,
                           **options: Any) -> AsyncIterator[BrowserContext]:
    """Headless Debian Chromium with a fresh profile in `user_data_dir`."""
    if not CHROMIUM.exists():
        raise RuntimeError(MISSING_CHROMIUM)
    context = await playwright.chromium.launch_persistent_context(
        str(user_data_dir),
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1400, "height": 1000},
        **options,
    )
    try:
        yield context
    finally:
        await context.close()


# ---------------------------------------------------------------------------------- server


@dataclass
class JupyterServer:
    url: str  # base URL, ending with "/"
    root: Path  # the folder the server serves (copy notebooks here)
    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str] = field(repr=False, default_factory=dict)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _private_jupyter_home(home: Path) -> dict[str, str]:
    """Env for a Jupyter that reads no user config and runs kernels with this Python."""
    dirs = {name: home / name for name in ("config", "data", "runtime", "ipython")}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    kernel = dirs["data"] / "kernels" / "python3"
    kernel.mkdir(parents=True, exist_ok=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }), encoding="utf-8")
    # No "would you like news?" toast over the page, no update check.
    settings = dirs["config"] / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}), encoding="utf-8")
    # Start the notebook's kernel on open instead of asking in a "Select Kernel" dialog;
    # keep every cell laid out (no windowing), so the chat stays measurable off screen.
    tracker = dirs["config"] / "lab" / "user-settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True, exist_ok=True)
    (tracker / "tracker.jupyterlab-settings").write_text(
        json.dumps({"autoStartDefaultKernel": True, "windowingMode": "none"}), encoding="utf-8")
    env = dict(os.environ)
    env.update({
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "IPYTHONDIR": str(dirs["ipython"]),
        "JUPYTER_PLATFORM_DIRS": "1",
        "JUPYTER_PREFER_ENV_PATH": "0",  # our kernelspec (this interpreter) wins
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def _wait_until_ready(server: JupyterServer, deadline: float) -> None:
    status = f"{server.url}api/status"
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with code {server.process.returncode} "
                               f"before answering {status}. Its output:\n{server.output()}")
        try:
            with urllib.request.urlopen(status, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"jupyter lab did not answer {status} in time. "
                               f"Its output:\n{server.output()}")
        time.sleep(0.1)  # poll interval of an event wait with a deadline, not a sync sleep


@contextlib.contextmanager
def jupyter_lab(folder: Path, *,
                startup_seconds: float = STARTUP_SECONDS) -> Iterator[JupyterServer]:
    """Start `jupyter lab` on a free loopback port, serving `folder / "root"`.

    No token, no password; the server's output goes to `folder / "jupyter.log"` and is
    shown when it fails to start.
    """
    root = folder / "root"
    root.mkdir(parents=True, exist_ok=True)
    env = _private_jupyter_home(folder / "home")
    port = free_port()
    log = folder / "jupyter.log"
    cmd = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=",
        "--ServerApp.terminals_enabled=False",
        # window.jupyterapp, to wait until the notebook's kernel is connected and idle.
        "--LabApp.expose_app_in_browser=True",
        "--JupyterNotebookApp.expose_app_in_browser=True",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers and CI often run as root
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = JupyterServer(url=f"http://127.0.0.1:{port}/", root=root, process=process,
                           log=log, env=env)
    try:
        _wait_until_ready(server, time.monotonic() + startup_seconds)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def copy_notebook(server: JupyterServer, name: str, as_name: str | None = None) -> str:
    """Copy notebooks/<name> into the server's root; returns its path relative to the root."""
    target = as_name or name
    shutil.copyfile(NOTEBOOKS / name, server.root / target)
    return target


def write_notebook(server: JupyterServer, name: str, cells: list[str]) -> str:
    """Write a notebook of code cells into the server's root."""
    nb = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {},
                   "outputs": [], "source": source} for i, source in enumerate(cells)],
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                    "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (server.root / name).write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return name


# ---------------------------------------------------------------------------------- page driving

WIDGET_SECONDS = 60_000  # ms: first open starts a kernel and loads the bundle


class ConsoleLog:
    """Browser console errors and page errors, kept for assertions."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("console",
                lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda err: self.errors.append(f"pageerror: {err}"))

    def nbchat_errors(self) -> list[str]:
        return [e for e in self.errors if re.search(r"nbchat|nbc-|anywidget", e, re.IGNORECASE)]


async def open_lab_notebook(page: Page, server: JupyterServer, path: str) -> None:
    """Open a notebook in JupyterLab and wait until its kernel is idle."""
    # ?reset: a fresh workspace, so a notebook an earlier test left open is not restored
    await page.goto(f"{server.url}lab/tree/{path}?reset")
    await expect(page.locator(".jp-Notebook").first).to_be_visible(timeout=WIDGET_SECONDS)
    await wait_kernel_idle(page)


async def wait_kernel_idle(page: Page) -> None:
    """Wait until the current notebook's kernel is connected and idle (Lab and Notebook 7).

    The toolbar's status indicator says "idle" before any kernel exists, so ask the app.
    """
    await page.wait_for_function(
        """() => {
          const kernel = window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel;
          return kernel?.connectionStatus === 'connected' && kernel?.status === 'idle';
        }""",
        timeout=WIDGET_SECONDS)


async def run_all_cells(page: Page) -> None:
    """Run → Run All Cells, through the menu bar (same in JupyterLab 4 and Notebook 7)."""
    await page.get_by_role("menuitem", name="Run", exact=True).click()
    await page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()


async def chat_widget(page: Page, nth: int = 0) -> Locator:
    """The nth chat widget on the page, once it shows the app's first message."""
    widget = page.locator(".nbc-root").nth(nth)
    await expect(widget).to_be_visible(timeout=WIDGET_SECONDS)
    await expect(widget.get_by_role("article").first).to_be_visible(timeout=WIDGET_SECONDS)
    return widget


async def send(widget: Locator, text: str) -> None:
    """Type into the composer and press Send."""
    box = widget.get_by_role("textbox", name="Message")
    await box.fill(text)
    await widget.get_by_role("button", name="Send", exact=True).click()
    await expect(box).to_have_value("")


async def append_cell_and_run(page: Page, code: str) -> Locator:
    """Add a code cell at the end of the open notebook, type `code`, run it; returns the cell.

    The text is inserted as one input event (no key presses), so the editor's auto-indent
    does not re-indent it.
    """
    cells = page.locator(".jp-Notebook .jp-Cell")
    count = await cells.count()
    last = cells.nth(count - 1)
    await last.locator(".jp-InputPrompt").click()  # select the last cell, command mode
    await page.keyboard.press("Escape")
    await page.keyboard.press("b")  # insert a cell below
    await expect(cells).to_have_count(count + 1)
    cell = cells.nth(count)
    await cell.locator(".cm-content").click()
    await page.keyboard.insert_text(code)
    await page.keyboard.press("Shift+Enter")
    # Done when the prompt shows an execution count: "[7]:".
    await expect(cell.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\d+\]"),
                                                               timeout=WIDGET_SECONDS)
    return cell


async def run_code(page: Page, code: str) -> str:
    """Run `code` in a new last cell and return its printed output."""
    cell = await append_cell_and_run(page, code)
    return (await cell.locator(".jp-OutputArea").inner_text()).strip()


REPLY_MS = 20_000  # how long a test waits for a reply to show


def assistant(scope: Page | Locator, text: str | re.Pattern[str]) -> Locator:
    """The assistant messages in `scope` (a page or a widget) that contain `text`."""
    return scope.get_by_role("article", name="Assistant").filter(has_text=text)


async def finished(article: Locator) -> Locator:
    """Wait until a message is in the DOM and no longer streaming."""
    await expect(article).to_have_count(1, timeout=REPLY_MS)
    await expect(article).not_to_have_class(re.compile(r"\bnbc-streaming\b"), timeout=REPLY_MS)
    return article

