"""PostgreSQL batch writes: big step batches go through the per-connection staging table.

Each test has a database of its own and a pool of one connection, so the test can look at
the very session the writer uses (a temporary table is visible only there).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest

from nbchat.data import LocalStorage, PostgresDataLayer
from nbchat.data.postgres import _STAGE, STAGE_MIN
from nbchat.ids import new_id, utc_now
from nbchat.types import StepDict

# A statement trigger on the session's staging table records how many rows each batch
# staged, in a real table (committed with the batch).
_SPY = f"""
CREATE TABLE IF NOT EXISTS stage_log (n integer);
CREATE OR REPLACE FUNCTION log_stage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO stage_log SELECT count(*) FROM staged; RETURN NULL; END $$;
CREATE TRIGGER log_stage AFTER INSERT ON pg_temp.{_STAGE} REFERENCING NEW TABLE AS staged
FOR EACH STATEMENT EXECUTE FUNCTION log_stage();
"""


@pytest.fixture
async def one_conn(fresh_pg_url: str, tmp_path: Path) -> AsyncIterator[PostgresDataLayer]:
    layer = PostgresDataLayer(fresh_pg_url, LocalStorage(tmp_path / "files"),
                              min_size=1, max_size=1)
    await layer.get_thread("x")  # opens the pool and creates the schema
    yield layer
    await layer.close()


async def _sql(layer: PostgresDataLayer, sql: str) -> list[Any]:
    pool = await layer._db()
    async with pool.acquire() as conn:
        if sql.lstrip().upper().startswith("SELECT"):
            return list(await conn.fetch(sql))
        await conn.execute(sql)
        return []


def _step(thread_id: str, i: int, **kw: Any) -> StepDict:
    s: dict[str, Any] = {
        "id": new_id(), "threadId": thread_id, "parentId": None, "name": f"n{i}",
        "type": "tool", "input": f"in {i}", "output": f"out {i}", "isError": i % 2 == 0,
        "createdAt": utc_now(), "start": utc_now(), "end": None,
        "metadata": {"i": i, "ü": [1, None, "x"]}, "tags": [f"t{i}"] if i % 3 else None,
        "language": "python" if i % 4 else None,
        "generation": {"model": "m", "n": i} if i % 5 else None,
        "showInput": "json" if i % 2 else i % 3 == 0, "defaultOpen": i % 3 == 1,
        "streaming": i % 5 == 1, "waitForAnswer": i % 7 == 1, "cancelled": i % 2 == 1,
        "command": "search" if i % 6 == 0 else None,
    }
    s.update(kw)
    return cast(StepDict, s)


def _fields(step: StepDict) -> dict[str, Any]:
    return {k: v for k, v in step.items() if k not in ("id", "threadId")}


async def test_big_batches_are_staged_and_store_what_small_ones_store(
    one_conn: PostgresDataLayer,
) -> None:
    layer = one_conn
    await _sql(layer, _SPY)
    big, small = new_id(), new_id()
    # First versions, then a batch that replaces half of them (upsert) and adds new ones.
    first = [_step(big, i, output="old", metadata={"old": True}) for i in range(STAGE_MIN)]
    for s in first:
        await layer.create_step(s)
    await layer.flush()
    second = [_step(big, i, id=first[i]["id"], createdAt=first[i]["createdAt"])
              if i < STAGE_MIN // 2 else _step(big, i) for i in range(STAGE_MIN)]
    for s in second:
        await layer.create_step(s)
    await layer.flush()
    assert [r[0] for r in await _sql(layer, "SELECT n FROM stage_log")] == [
        STAGE_MIN, STAGE_MIN]

    # The same content, one batch below the threshold at a time: never staged.
    for i, s in enumerate(second):
        await layer.create_step(_step(small, i, createdAt=s["createdAt"], start=s["start"]))
        if i % (STAGE_MIN - 1) == STAGE_MIN - 2:
            await layer.flush()
    await layer.flush()
    assert len(await _sql(layer, "SELECT n FROM stage_log")) == 2

    big_thread, small_thread = await layer.get_thread(big), await layer.get_thread(small)
    assert big_thread is not None
    assert small_thread is not None
    assert len(big_thread["steps"]) == STAGE_MIN + STAGE_MIN // 2
    stored = {s["id"]: s for s in big_thread["steps"]}
    assert all(stored[s["id"]]["output"] == s["output"] != "old" for s in second)
    by_name = {s["name"]: s for s in small_thread["steps"]}
    assert [_fields(stored[s["id"]]) for s in second] == [
        _fields(by_name[s["name"]]) for s in second]
    assert layer.queue.failed_writes == 0


async def test_staged_rows_do_not_outlive_their_transaction(one_conn: PostgresDataLayer) -> None:
    layer = one_conn
    gone, kept = new_id(), new_id()
    for i in range(STAGE_MIN):
        await layer.create_step(_step(gone, i))
    await layer.flush()
    await layer.delete_thread(gone)
    # Were the first batch's rows still staged, this batch would write them again (into a
    # deleted thread: the batch would fail and be retried step by step).
    for i in range(STAGE_MIN):
        await layer.create_step(_step(kept, i))
    await layer.flush()
    assert await layer.get_thread(gone) is None
    kept_thread = await layer.get_thread(kept)
    assert kept_thread is not None
    assert len(kept_thread["steps"]) == STAGE_MIN
    assert layer.queue.failed_writes == 0
    assert (await _sql(layer, f"SELECT count(*) FROM pg_temp.{_STAGE}"))[0][0] == 0
