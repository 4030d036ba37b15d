"""The real PostgreSQL server of the test machine: admin calls and fresh databases.

Every suite that runs on PostgreSQL uses these (through the `pg_url` fixture in
tests/conftest.py). An unreachable server fails the run, never skips it, and says how to
start it.
"""

from __future__ import annotations

import os
import secrets

import pytest

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


def url_for(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def new_name() -> str:
    return f"nbchat_test_{secrets.token_hex(6)}"


async def create(name: str) -> str:
    await pg_admin(f'CREATE DATABASE "{name}"')
    return url_for(name)


async def drop(name: str) -> None:
    await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def truncate(url: str) -> None:
    """Empty nbchat's tables, so each test starts from nothing in the shared database."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        if await conn.fetchval("SELECT to_regclass('public.threads') IS NOT NULL"):
            await conn.execute("TRUNCATE users, threads, steps, elements, feedbacks CASCADE")
    finally:
        await conn.close()
