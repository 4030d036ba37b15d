"""Versioned migrations: an older database is upgraded in place, a newer one is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from nbchat.data import DataLayerError, SQLiteDataLayer, make_data_layer
from nbchat.data.sqlite import migrations
from nbchat.errors import ConfigError
from nbchat.ids import utc_now
from nbchat.types import Pagination, StepDict, ThreadFilter, User

LATEST = migrations("sqlite")[-1][0]
PG_LATEST = migrations("postgres")[-1][0]
SQLITE_OLDER = list(range(1, LATEST))
PG_OLDER = list(range(1, PG_LATEST))


def _step(thread_id: str, step_id: str, output: str) -> StepDict:
    return {
        "id": step_id, "threadId": thread_id, "parentId": None, "name": "bot",
        "type": "assistant_message", "input": "", "output": output, "isError": False,
        "createdAt": utc_now(), "start": None, "end": None, "metadata": {}, "tags": None,
        "language": None, "generation": None, "showInput": False, "defaultOpen": False,
        "streaming": False, "waitForAnswer": False,
    }


@pytest.mark.parametrize("old_version", SQLITE_OLDER)
async def test_old_database_is_upgraded_and_backfilled(tmp_path: Path, old_version: int) -> None:
    path = tmp_path / "old.db"
    old = SQLiteDataLayer(path, target_version=old_version)  # what an older nbchat created
    await old.update_thread("t1", name="Budget planning")
    await old.create_step(_step("t1", "s1", "quarterly invoice"))
    await old.create_step(_step("t2", "s2", "quarterly report"))
    await old.flush()
    await old.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT max(version) FROM schema_version").fetchone() == (old_version,)

    new = SQLiteDataLayer(path)
    try:
        for words, found in [("budget", ["t1"]), ("quarterly invoice", ["t1"]),
                             ("invoi", ["t1"]), ("quarterly", ["t1", "t2"]),
                             ("report", ["t2"]), ("nothing", [])]:
            page = await new.list_threads(Pagination(5), ThreadFilter(search=words))
            assert sorted(t["id"] for t in page.data) == found, words  # old rows indexed
        await new.create_step(_step("t3", "s3", "annual report"))
        await new.delete_thread("t2")
        page = await new.list_threads(Pagination(5), ThreadFilter(search="report"))
        assert [t["id"] for t in page.data] == ["t3"]
        assert await new._rows("SELECT (SELECT count(*) FROM steps), "
                               "(SELECT count(*) FROM steps_fts)") == [(2, 2)]
    finally:
        await new.close()
    with sqlite3.connect(path) as db:
        versions = [v for (v,) in db.execute("SELECT version FROM schema_version ORDER BY 1")]
        # raises if an index is corrupt
        db.execute("INSERT INTO threads_fts(threads_fts) VALUES ('integrity-check')")
        db.execute("INSERT INTO steps_fts(steps_fts) VALUES ('integrity-check')")
    assert versions == list(range(1, LATEST + 1))


async def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    layer = SQLiteDataLayer(path)
    await layer.get_thread("x")
    await layer.close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_version VALUES (999, 'future')")
    again = SQLiteDataLayer(path)
    with pytest.raises(DataLayerError, match="upgrade nbchat"):
        await again.get_thread("x")
    await again.close()


@pytest.mark.parametrize("old_version", PG_OLDER)
async def test_postgres_old_database_is_upgraded(fresh_pg_url: str, old_version: int) -> None:
    from nbchat.data import PostgresDataLayer

    old = PostgresDataLayer(fresh_pg_url, target_version=old_version)  # an older nbchat
    user = await old.create_user(User("ann"))
    await old.update_thread("t1", name="Budget planning", user_id=user.id)
    await old.create_step(_step("t1", "s1", "quarterly invoice"))
    await old.flush()
    assert [r[0] for r in await old._rows("SELECT max(version) FROM schema_version")] == [
        old_version]
    await old.close()

    new = PostgresDataLayer(fresh_pg_url)  # opening it with the current code upgrades it
    try:
        versions = [r[0] for r in await new._rows("SELECT version FROM schema_version "
                                                  "ORDER BY 1")]
        assert versions == list(range(1, PG_LATEST + 1))
        for words in ("budget", "quarterly invoice", "invoi"):
            page = await new.list_threads(Pagination(5), ThreadFilter(search=words))
            assert [t["id"] for t in page.data] == ["t1"], words
        page = await new.list_threads(Pagination(5), ThreadFilter(search="nothing"))
        assert page.data == []
        thread = await new.get_thread("t1")
        assert thread is not None
        assert [s["output"] for s in thread["steps"]] == ["quarterly invoice"]
        # New rows written after the upgrade are found too.
        await new.create_step(_step("t2", "s2", "monthly report"))
        page = await new.list_threads(Pagination(5), ThreadFilter(search="report"))
        assert [t["id"] for t in page.data] == ["t2"]
    finally:
        await new.close()


async def test_postgres_migrations_are_recorded(pg_url: str) -> None:
    from nbchat.data import PostgresDataLayer

    layer = PostgresDataLayer(pg_url)
    await layer.get_thread("x")
    versions = [r[0] for r in await layer._rows("SELECT version FROM schema_version ORDER BY 1")]
    assert versions == [v for v, _ in migrations("postgres")]
    await layer.close()


def test_make_data_layer_urls(tmp_path: Path) -> None:
    default = make_data_layer(None, tmp_path)
    assert isinstance(default, SQLiteDataLayer)
    assert default.path == tmp_path / ".nbchat" / "nbchat.db"
    rel = make_data_layer("sqlite:///data/x.db", tmp_path)
    assert isinstance(rel, SQLiteDataLayer)
    assert rel.path == tmp_path / "data" / "x.db"
    absolute = make_data_layer("sqlite:////var/x.db", tmp_path)
    assert isinstance(absolute, SQLiteDataLayer)
    assert absolute.path == Path("/var/x.db")
    plain = make_data_layer("chats.db", tmp_path)
    assert isinstance(plain, SQLiteDataLayer)
    assert plain.path == tmp_path / "chats.db"
    pg = make_data_layer("postgresql://u@h/db", tmp_path)
    assert type(pg).__name__ == "PostgresDataLayer"
    with pytest.raises(ConfigError, match="unknown scheme"):
        make_data_layer("mysql://x", tmp_path)
    with pytest.raises(ConfigError, match="slashes"):
        make_data_layer("sqlite://x.db", tmp_path)
    assert not (tmp_path / ".nbchat").exists()  # nothing is created before first use


def test_import_is_cheap() -> None:
    import subprocess
    import sys

    code = ("import sys, nbchat.data; "
            "print(sorted(m for m in ('aiosqlite', 'asyncpg') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
