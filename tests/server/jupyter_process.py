"""A real `jupyter server` process with nbchat's extension, for the tests of the extension
(tests/server/test_extension*.py), and the token-authenticated fetch they use."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPResponse
from tornado.testing import bind_unused_port

from server.server_helpers import BASE_URL

TOKEN = "nbchat-test-token"
STARTUP_SECONDS = 60


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "NBCHAT_"))}
    for name in ("config", "data", "runtime"):
        (home / name).mkdir(parents=True, exist_ok=True)
    env.update(JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTER_PLATFORM_DIRS="1")
    return env


@contextlib.contextmanager
def running_jupyter(folder: Path, root: Path) -> Iterator[tuple[int, list[str]]]:
    """A real `jupyter server` on `root` with nbchat's extension (config and runtime under
    `folder/home`); yields its port and its log lines."""
    sock, port = bind_unused_port()
    sock.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--allow-root", "--no-browser",
         "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={TOKEN}",
         f"--ServerApp.root_dir={root}", f"--ServerApp.base_url={BASE_URL}",
         # Explicit, so the test does not depend on how nbchat was installed.
         "--ServerApp.jpserver_extensions=nbchat.server.extension=True"],
        env=_env(folder / "home"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, cwd=folder)
    log: list[str] = []
    ready = threading.Event()
    ports: list[int] = []

    def read() -> None:
        # Jupyter moves to another port when the chosen one was taken meanwhile
        # (port_retries), so the port is the one its "running at" URL names.
        assert proc.stdout is not None
        running = False
        for line in proc.stdout:
            log.append(line)
            running = running or "is running at" in line
            found = re.search(r"http://127\.0\.0\.1:(\d+)/", line) if running else None
            if found and not ready.is_set():
                ports.append(int(found.group(1)))
                ready.set()
        ready.set()  # exited

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not ready.wait(STARTUP_SECONDS) or proc.poll() is not None:
            pytest.fail("jupyter server did not start:\n" + "".join(log), pytrace=False)
        # Jupyter logs its URL before the loop binds the port: wait until it accepts.
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                socket.create_connection(("127.0.0.1", ports[0]), timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("jupyter server did not listen:\n" + "".join(log),
                                pytrace=False)
                time.sleep(0.05)  # poll interval of a wait with a deadline
        yield ports[0], log
    finally:
        proc.terminate()
        proc.wait(30)
        reader.join(30)
        if proc.stdout is not None:
            proc.stdout.close()


async def fetch(client: AsyncHTTPClient, url: str, **kwargs: object) -> HTTPResponse:
    return await client.fetch(url, raise_error=False, follow_redirects=False, **kwargs)


def token_header() -> dict[str, str]:
    return {"Authorization": f"token {TOKEN}"}
