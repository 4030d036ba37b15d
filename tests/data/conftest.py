"""Fixtures for the data layer suite: every contract test runs on SQLite and PostgreSQL.

PostgreSQL is the real server on 127.0.0.1:5432 (user postgres, trust auth), through
`tests/pgdb.py`: the run's database comes from the `pg_url` fixture of tests/conftest.py,
and each test starts from empty tables. An unreachable server fails the run (never skips)
with how to start it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

import pgdb
from nbchat.data import LocalStorage, PostgresDataLayer, QueuedDataLayer, SQLiteDataLayer


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    """A database of the test's own, empty (the session one is at the latest version)."""
    name = pgdb.new_name()
    yield asyncio.run(pgdb.create(name))
    asyncio.run(pgdb.drop(name))


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """'sqlite:<path>' or the URL of the (emptied) test PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:{tmp_path / 'db' / 'nbchat.db'}"
    url: str = request.getfixturevalue("pg_url")
    asyncio.run(pgdb.truncate(url))
    return url


def open_layer(backend: str, files: Path, **kwargs: object) -> QueuedDataLayer:
    storage = LocalStorage(files)
    if backend.startswith("sqlite:"):
        return SQLiteDataLayer(backend[len("sqlite:"):], storage, **kwargs)  # type: ignore[arg-type]
    return PostgresDataLayer(backend, storage, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def make_layer() -> Callable[..., QueuedDataLayer]:
    """open_layer(backend, files_dir, **options), for tests that reopen a database."""
    return open_layer


@pytest.fixture
async def layer(backend: str, tmp_path: Path) -> AsyncIterator[QueuedDataLayer]:
    dl = open_layer(backend, tmp_path / "files")
    yield dl
    await dl.close()
