"""Fixtures for the data layer suite: the contract tests run on SQLite, PostgreSQL, a
Chainlit-style custom layer (tests/memory_layer.py) behind AdaptedDataLayer,
SQLAlchemyDataLayer (Chainlit's schema, tests/sqladb.py) on SQLite, PostgreSQL and MariaDB,
and DynamoDBDataLayer (moto's server on loopback, a fresh table per test; "dynamodb" through
aiobotocore, "dynamodb-boto3" through a boto3 client run in threads).

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
import sqladb
from emulators import CREDENTIALS, Emulator, boto3_client, fresh_table
from memory_layer import MemoryDataLayer, MemoryStore
from nbchat.data import (
    AdaptedDataLayer,
    LocalStorage,
    PostgresDataLayer,
    QueuedDataLayer,
    SQLiteDataLayer,
)
from nbchat.data.dynamodb import DynamoDBDataLayer
from nbchat.data.sql_alchemy import SQLAlchemyDataLayer


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    """A database of the test's own, empty (the session one is at the latest version)."""
    name = pgdb.new_name()
    yield asyncio.run(pgdb.create(name))
    asyncio.run(pgdb.drop(name))


# The contract suite also runs on a Chainlit-style custom layer behind AdaptedDataLayer;
# the other suites test what only nbchat's SQL layers do (migrations, durability, …).
CONTRACT_BACKENDS = ["sqlite", "postgres", "chainlit", "sqla-sqlite", "sqla-postgres",
                     "sqla-mariadb", "dynamodb", "dynamodb-boto3"]
SQL_BACKENDS = ["sqlite", "postgres"]
_memory_stores: dict[str, MemoryStore] = {}
_moto: list[Emulator] = []  # the session's moto (tests/conftest.py), once asked for


def dynamodb_layer(backend: str) -> DynamoDBDataLayer:
    """A DynamoDBDataLayer on 'dynamodb:<table>' (aiobotocore, by endpoint) or
    'dynamodb-boto3:<table>' (a boto3 client, run in threads)."""
    kind, table = backend.split(":", 1)
    [server] = _moto
    if kind == "dynamodb-boto3":
        return DynamoDBDataLayer(table, client=boto3_client(server))
    return DynamoDBDataLayer(table, endpoint_url=server.url, **CREDENTIALS)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        contract = metafunc.module.__name__.endswith("test_contract")
        metafunc.parametrize("backend", CONTRACT_BACKENDS if contract else SQL_BACKENDS,
                             indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """'sqlite:<path>', 'chainlit:<store name>' (an in-memory Chainlit-style layer whose
    store outlives the layer, as a database would), 'dynamodb[-boto3]:<fresh table>' or
    the emptied test PostgreSQL URL."""
    if request.param == "sqlite":
        yield f"sqlite:{tmp_path / 'db' / 'nbchat.db'}"
        return
    if request.param.startswith("dynamodb"):
        server: Emulator = request.getfixturevalue("moto_server")
        _moto[:] = [server]
        yield f"{request.param}:{fresh_table(server)}"
        return
    if request.param == "chainlit":
        name = f"chainlit:{tmp_path}"
        _memory_stores[name] = MemoryStore()
        yield name
        del _memory_stores[name]
        return
    if request.param == "sqla-sqlite":
        yield "sqla:" + sqladb.sqlite_url(tmp_path / "db" / "chainlit.db")
        return
    if request.param == "sqla-postgres":
        url = request.getfixturevalue("sqla_pg_url")
        sqladb.pg_truncate(url)
        yield "sqla:" + url
        return
    if request.param == "sqla-mariadb":
        url = request.getfixturevalue("sqla_mysql_url")
        sqladb.mysql_truncate(url)
        yield "sqla:" + url
        return
    url = request.getfixturevalue("pg_url")
    asyncio.run(pgdb.truncate(url))
    yield url


@pytest.fixture(scope="session")
def sqla_pg_url() -> Iterator[str]:
    """A PostgreSQL database of the run with Chainlit's schema (tests empty it)."""
    name, url = sqladb.pg_create()
    yield url
    asyncio.run(pgdb.drop(name))


@pytest.fixture(scope="session")
def sqla_mysql_url() -> Iterator[str]:
    """A MariaDB database of the run with Chainlit's schema (tests empty it)."""
    name, url = sqladb.mysql_create()
    yield url
    sqladb.mysql_drop(name)


def open_layer(backend: str, files: Path, **kwargs: object) -> QueuedDataLayer:
    storage = LocalStorage(files)
    if backend.startswith("sqla:"):
        return AdaptedDataLayer(SQLAlchemyDataLayer(backend[len("sqla:"):]), storage,
                                **kwargs)  # type: ignore[arg-type]
    if backend.startswith("dynamodb"):
        return AdaptedDataLayer(dynamodb_layer(backend), storage, **kwargs)  # type: ignore[arg-type]
    if backend.startswith("chainlit:"):
        return AdaptedDataLayer(MemoryDataLayer(_memory_stores[backend]), storage,
                                **kwargs)  # type: ignore[arg-type]
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
