"""Fixtures for the REST API: a real tornado server on a free loopback port, a real
SQLite file (or the real PostgreSQL on 127.0.0.1:5432 for the `any_api` fixture), and
a client that names its user with the `X-Test-User` header (HeaderIdentity, tests only).

The API is mounted under the odd base URL `/a%40b/`, as pytest-jupyter does, so no
handler can get away with assuming `/`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

import pgdb
from nbchat.data import LocalStorage, PostgresDataLayer, QueuedDataLayer, SQLiteDataLayer
from nbchat.server import UploadLimits
from seeding import seed
from server.server_helpers import Api, start_api


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
