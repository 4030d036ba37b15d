"""Fixtures for the attack tests: `make_app` on a real tornado server (the helper of
tests/serve/test_serve_app.py; the X-Test-User header names the user), plus small helpers."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from nbchat.app import App
from nbchat.config import Config
from serve.helpers import WsClient, fetch
from serve.test_serve_app import Served, serve

Start = Callable[..., contextlib.AbstractAsyncContextManager[Served]]


@pytest.fixture
def start(tmp_path: Path) -> Start:
    """`async with start(app=…, config=…) as served:` — one real server per call."""
    @contextlib.asynccontextmanager
    async def run(*, app: App | None = None, config: Config | None = None,
                  folder: Path | None = None) -> AsyncIterator[Served]:
        where = folder or tmp_path
        gen = serve(where, config=config or Config(app_dir=where), app=app)
        running = await anext(gen)
        try:
            yield running
        finally:
            with contextlib.suppress(StopAsyncIteration):
                await anext(gen)

    return run


async def connect(served: Served, user: str) -> WsClient:
    return await WsClient.connect(served.ws, {"X-Test-User": user})


async def api(served: Served, user: str, method: str, path: str, *, body: Any = None,
              raw: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    """A REST call as `user` with the page's XSRF cookie and header."""
    page = await fetch(served.base, headers={"X-Test-User": user})
    cookie = page.headers["Set-Cookie"].split(";")[0]
    hdrs = {"X-Test-User": user, "Cookie": cookie, "X-XSRFToken": cookie.split("=", 1)[1],
            **(headers or {})}
    payload = raw if raw is not None else (json.dumps(body).encode()
                                           if body is not None else None)
    if payload is None and method in ("POST", "PUT", "PATCH"):
        payload = b""
    return await fetch(served.base + "nbchat/api" + path, method=method, headers=hdrs,
                       body=payload, allow_nonstandard_methods=True)
