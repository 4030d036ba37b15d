"""Fixtures for the REST API: a real tornado server on a free loopback port, a real
SQLite file (or the real PostgreSQL on 127.0.0.1:5432 for the `any_api` fixture), and
a client that names its user with the `X-Test-User` header (HeaderIdentity, tests only).

The API is mounted under the odd base URL `/a%40b/`, as pytest-jupyter does, so no
handler can get away with assuming `/`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPResponse
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port
from tornado.web import Application, RequestHandler

import pgdb
from nbchat.data import (
    BaseDataLayer,
    LocalStorage,
    PostgresDataLayer,
    QueuedDataLayer,
    SQLiteDataLayer,
)
from nbchat.server import Identity, Services, UploadLimits, make_handlers
from nbchat.server.handlers.files import UploadHandler
from nbchat.types import User
from seeding import seed

BASE_URL = "/a%40b/"
ROOT = "/a%40b/nbchat/api"

# -- the identity and the client ----------------------------------------------------------


class HeaderIdentity(Identity):
    """Tests only: the user is whoever the X-Test-User header names.

    `mount` lets a test await the clean-up of an upload whose client went away: set
    `upload_closed` to a future and it is resolved once the handler has cleaned up.
    """

    upload_closed: asyncio.Future[None] | None = None

    async def current_user(self, handler: RequestHandler) -> User | None:
        name = handler.request.headers.get("X-Test-User")
        return User(identifier=name) if name else None

    def mount(self, handler: type[RequestHandler]) -> type[RequestHandler]:
        if handler is not UploadHandler:
            return handler
        identity = self

        class WatchedUpload(UploadHandler):
            def on_connection_close(self) -> None:
                super().on_connection_close()
                done = identity.upload_closed
                if done is not None:
                    pending = list(UploadHandler.cleanups)
                    gathered = asyncio.gather(*pending)
                    gathered.add_done_callback(
                        lambda _: done.done() or done.set_result(None))

        return WatchedUpload


@dataclass
class Api:
    port: int
    services: Services
    files: Path
    client: AsyncHTTPClient = field(default_factory=lambda: AsyncHTTPClient(force_instance=True))

    @property
    def data(self) -> BaseDataLayer:
        return self.services.data

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{ROOT}{path}"

    async def fetch(self, method: str, path: str, *, user: str | None = "alice",
                    body: Any = None, raw: bytes | None = None,
                    headers: dict[str, str] | None = None) -> HTTPResponse:
        hdrs = dict(headers or {})
        if user is not None:
            hdrs["X-Test-User"] = user
        payload: bytes | None = raw
        if body is not None:
            payload = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if payload is None and method in ("POST", "PUT", "PATCH"):
            payload = b""
        return await self.client.fetch(self.url(path), method=method, headers=hdrs,
                                       body=payload, raise_error=False,
                                       allow_nonstandard_methods=True)

    def blobs(self) -> list[str]:
        """Every file in the blob folder (finished or partial)."""
        return sorted(p.name for p in self.files.iterdir()) if self.files.exists() else []


def body(response: HTTPResponse) -> Any:
    return json.loads(response.body)


async def start_api(layer: QueuedDataLayer, files: Path,
                    limits: UploadLimits | None = None) -> tuple[Api, HTTPServer]:
    storage = layer.storage
    assert storage is not None
    services = Services(layer, storage, HeaderIdentity(), limits or UploadLimits())
    app = Application(make_handlers(BASE_URL, services))
    sock, port = bind_unused_port()
    server = HTTPServer(app)
    server.add_sockets([sock])
    return Api(port, services, files), server


async def _serve(layer: QueuedDataLayer, files: Path,
                 limits: UploadLimits | None = None) -> AsyncIterator[Api]:
    api, server = await start_api(layer, files, limits)
    try:
        yield api
    finally:
        api.client.close()
        server.stop()
        await server.close_all_connections()
        await layer.close()


@pytest.fixture
def upload_limits() -> UploadLimits:
    """Overridden by tests that need other upload limits (via indirect parametrize)."""
    return UploadLimits(accept=("*/*",), max_files=3, max_size=64 * 1024)


@pytest.fixture
async def api(tmp_path: Path, upload_limits: UploadLimits) -> AsyncIterator[Api]:
    """The API on a SQLite file."""
    files = tmp_path / "files"
    layer = SQLiteDataLayer(tmp_path / "db" / "nbchat.db", LocalStorage(files))
    async for a in _serve(layer, files, upload_limits):
        yield a


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """'sqlite', or the URL of the emptied test PostgreSQL database."""
    if request.param == "sqlite":
        return "sqlite"
    url: str = request.getfixturevalue("pg_url")
    asyncio.run(pgdb.truncate(url))
    return url


@pytest.fixture
async def any_api(backend: str, tmp_path: Path) -> AsyncIterator[Api]:
    """The API on SQLite and on PostgreSQL."""
    files = tmp_path / "files"
    layer: QueuedDataLayer
    if backend == "sqlite":
        layer = SQLiteDataLayer(tmp_path / "db" / "nbchat.db", LocalStorage(files))
    else:
        layer = PostgresDataLayer(backend, LocalStorage(files))
    async for a in _serve(layer, files):
        yield a


@pytest.fixture
def seeded() -> Callable[..., Any]:
    return seed
