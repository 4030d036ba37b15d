"""Fixtures for the data layer suite: every contract test runs on SQLite and PostgreSQL.

PostgreSQL is the real server on 127.0.0.1:5432 (user postgres, trust auth). The session
creates one database with a random name and drops it at the end; each test starts from
empty tables. An unreachable server fails the run (never skips) with how to start it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from nbchat.data import LocalStorage, PostgresDataLayer, QueuedDataLayer, SQLiteDataLayer

PG_ADMIN = os.environ.get("NBCHAT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
START_HINT = (
    "PostgreSQL is not reachable at 127.0.0.1:5432. Start it with:\n"
    "    pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"
    "(or point NBCHAT_TEST_PG at an admin URL of another server)"
)


async def pg_admin(sql: str) -> None:
    import asyncpg

    try:
        conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"{START_HINT}\n(error: {exc})", pytrace=False)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pg_url_for(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"nbchat_test_{secrets.token_hex(6)}"
    asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    yield pg_url_for(name)
    asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    """A database of the test's own, empty (the session one is at the latest version)."""
    name = f"nbchat_test_{secrets.token_hex(6)}"
    asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    yield pg_url_for(name)
    asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        if await conn.fetchval("SELECT to_regclass('public.threads') IS NOT NULL"):
            await conn.execute("TRUNCATE users, threads, steps, elements, feedbacks CASCADE")
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """'sqlite:<path>' or the URL of the (emptied) test PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:{tmp_path / 'db' / 'nbchat.db'}"
    url: str = request.getfixturevalue("pg_url")
    asyncio.run(_truncate(url))
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
