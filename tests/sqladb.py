"""Databases with Chainlit's schema for SQLAlchemyDataLayer tests, made from the shipped
SQL files (src/nbchat/data/sql/chainlit_schema*.sql), so the tests also check those files.

* SQLite: a file of the test's own;
* PostgreSQL: a database of the run on 127.0.0.1:5432 (tests/pgdb.py);
* MariaDB/MySQL: a database of the run on 127.0.0.1:3306, user root without password. Not
  running → the test fails saying how to start it (never skips).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import sqlite3
from importlib.resources import files
from pathlib import Path

import pytest

import pgdb

MYSQL_HOST, MYSQL_PORT = "127.0.0.1", 3306
MYSQL_HINT = (
    "MariaDB is not reachable on 127.0.0.1:3306 (user root, empty password). Start it with:\n"
    "  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd")
TABLES = ("feedbacks", "elements", "steps", "threads", "users", "nbchat_activity")


def schema_sql(engine: str) -> str:
    name = {"postgresql": "chainlit_schema.sql", "sqlite": "chainlit_schema.sql",
            "mysql": "chainlit_schema_mysql.sql"}[engine]
    return (files("nbchat.data") / "sql" / name).read_text()


def statements(sql: str) -> list[str]:
    sql = re.sub(r"--[^\n]*", "", sql)
    return [s.strip() for s in sql.split(";") if s.strip()]


def sqlite_url(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.executescript(schema_sql("sqlite"))
    return f"sqlite+aiosqlite:///{path}"


async def _mysql(sql: list[str], db: str | None = None) -> None:
    import aiomysql

    try:
        conn = await aiomysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user="root",
                                      password="", db=db, autocommit=True)
    except Exception as exc:  # pymysql.err.OperationalError, OSError
        pytest.fail(f"{MYSQL_HINT}\n(error: {exc})", pytrace=False)
    try:
        async with conn.cursor() as cur:
            for stmt in sql:
                await cur.execute(stmt)
    finally:
        conn.close()


def mysql_create() -> tuple[str, str]:
    """(name, SQLAlchemy URL) of a new MariaDB database with Chainlit's schema."""
    name = f"nbchat_test_{secrets.token_hex(6)}"
    asyncio.run(_mysql([f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"]))
    asyncio.run(_mysql(statements(schema_sql("mysql")), db=name))
    return name, f"mysql+aiomysql://root@{MYSQL_HOST}:{MYSQL_PORT}/{name}?charset=utf8mb4"


def mysql_drop(name: str) -> None:
    asyncio.run(_mysql([f"DROP DATABASE IF EXISTS `{name}`"]))


def mysql_truncate(url: str) -> None:
    name = url.rsplit("/", 1)[1].split("?")[0]
    asyncio.run(_mysql(["SET FOREIGN_KEY_CHECKS=0", "SET sql_notes=0",
                        *[f"DELETE FROM `{t}`" for t in TABLES if t != "nbchat_activity"],
                        "DROP TABLE IF EXISTS nbchat_activity",
                        "SET FOREIGN_KEY_CHECKS=1"], db=name))


async def _pg(url: str, sql: list[str]) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        for stmt in sql:
            await conn.execute(stmt)
    finally:
        await conn.close()


def pg_create() -> tuple[str, str]:
    """(name, SQLAlchemy URL) of a new PostgreSQL database with Chainlit's schema."""
    name = pgdb.new_name()
    url = asyncio.run(pgdb.create(name))
    asyncio.run(_pg(url, statements(schema_sql("postgresql"))))
    return name, url.replace("postgresql://", "postgresql+asyncpg://", 1)


def pg_truncate(url: str) -> None:
    plain = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    asyncio.run(_pg(plain, ["TRUNCATE users, threads, steps, elements, feedbacks CASCADE",
                            "DROP TABLE IF EXISTS nbchat_activity"]))
