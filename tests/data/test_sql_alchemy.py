"""SQLAlchemyDataLayer beyond the contract suite: a database Chainlit's own layer wrote
opens in nbchat (list, search, get_thread, resume), what Chainlit's layer got wrong is
right here (lost metadata, autoCollapse and list tags on the documented schema, a props
column that does not exist), the batch path, and the shipped schema files."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest

import nbchat as cl
import sqladb
from nbchat.app import App, registering_on
from nbchat.data import AdaptedDataLayer, LocalStorage
from nbchat.data.sql_alchemy import SQLAlchemyDataLayer, WriteBatch
from nbchat.ids import new_id
from nbchat.testing import ChatTestClient
from nbchat.types import Pagination, StepDict, ThreadFilter

FIXTURE = Path(__file__).parent / "fixtures" / "chainlit_written.sql"
USER = "11111111-1111-4111-8111-111111111111"
T1, T2, T3 = ("22222222-2222-4222-8222-00000000000" + str(i) for i in range(1, 4))


class ReadUrls:
    """Chainlit's BaseStorageClient interface (duck-typed), read URLs only."""

    async def upload_file(self, object_key: str, data: bytes, mime: str = "",
                          overwrite: bool = True) -> dict[str, str]:
        return {"object_key": object_key, "url": f"https://files.test/{object_key}"}

    async def delete_file(self, object_key: str) -> bool:
        return True

    async def get_read_url(self, object_key: str) -> str:
        return f"https://signed.test/{object_key}"


@pytest.fixture
def chainlit_db(tmp_path: Path) -> str:
    """A fresh SQLite file loaded from the dump of what Chainlit 2.12's layer wrote."""
    path = tmp_path / "chainlit.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(FIXTURE.read_text())
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def chainlit_layer(chainlit_db: str, tmp_path: Path) -> AsyncIterator[AdaptedDataLayer]:
    layer = AdaptedDataLayer(SQLAlchemyDataLayer(chainlit_db, storage_provider=ReadUrls()),
                             LocalStorage(tmp_path / "files"))
    yield layer
    await layer.close()


async def test_chainlit_written_threads_list_and_search(chainlit_layer: AdaptedDataLayer) -> None:
    page = await chainlit_layer.list_threads(Pagination(first=2), ThreadFilter(userId=USER))
    # Newest activity first: the backfill orders threads by their last step.
    assert [t["id"] for t in page.data] == [T3, T2]
    assert page.pageInfo.hasNextPage
    rest = await chainlit_layer.list_threads(
        Pagination(first=2, cursor=page.pageInfo.endCursor), ThreadFilter(userId=USER))
    assert [t["id"] for t in rest.data] == [T1]
    assert not rest.pageInfo.hasNextPage
    assert page.data[0]["name"] == "Holiday plans"
    assert page.data[0]["metadata"] == {"topic": 2}
    assert page.data[0]["userIdentifier"] == "ann"
    found = await chainlit_layer.list_threads(Pagination(20), ThreadFilter(search="walrus"))
    assert [t["id"] for t in found.data] == [T2]
    disliked = await chainlit_layer.list_threads(Pagination(20), ThreadFilter(feedback=0))
    assert [t["id"] for t in disliked.data] == [T1]


async def test_chainlit_written_thread_reads_back(chainlit_layer: AdaptedDataLayer) -> None:
    thread = await chainlit_layer.get_thread(T1)
    assert thread is not None
    assert [(s["type"], s["output"]) for s in thread["steps"]] == [
        ("user_message", "Tell me about quarterly invoice review"),
        ("assistant_message", "Here is what I know about quarterly invoice review.")]
    assert thread["steps"][0]["metadata"] == {"n": 1}
    assert thread["steps"][0]["showInput"] == "json"
    feedback = thread["steps"][1]["feedback"]
    assert feedback is not None
    assert feedback["value"] == 0
    [element] = thread["elements"] or []
    assert element["name"] == "notes.txt"
    assert element["display"] == "side"
    assert element["url"] == f"https://signed.test/{USER}/{element['id']}/notes.txt"
    assert "props" not in element  # the documented schema has no such column: not selected
    assert await chainlit_layer.get_thread_author(T1) == "ann"


async def test_chainlit_written_thread_resumes(chainlit_db: str, tmp_path: Path) -> None:
    seen: dict[str, Any] = {}
    app = App("resumed")
    with registering_on(app):

        @cl.on_chat_resume
        async def resume(thread: dict[str, Any]) -> None:
            seen["resumed"] = thread["id"]

        @cl.on_message
        async def reply(message: cl.Message) -> None:
            await cl.Message(content=f"again: {message.content}").send()

    layer = SQLAlchemyDataLayer(chainlit_db)
    try:
        async with ChatTestClient(app, user=cl.User(identifier="ann"), data_layer=layer,
                                  resume_thread=T2) as client:
            assert seen["resumed"] == T2
            assert [m["output"] for m in client.messages][:2] == [
                "Tell me about walrus migration notes",
                "Here is what I know about walrus migration notes."]
            await client.send("more")
        thread = await layer.get_thread(T2)
        assert thread is not None
        assert [s["output"] for s in thread["steps"]][-2:] == ["more", "again: more"]
    finally:
        await layer.close()


async def test_documented_schema_takes_autocollapse_and_list_tags(tmp_path: Path) -> None:
    """Chainlit's layer writes keys its documented schema has no column for (autoCollapse)
    and passes list tags to SQLite; both failed. Here: stored, and read back."""
    path = tmp_path / "doc.db"
    with sqlite3.connect(path) as conn:  # the documented statements only, no additions
        conn.executescript(sqladb.schema_sql("sqlite").split("-- Not in Chainlit's")[0])
    layer = SQLAlchemyDataLayer(f"sqlite+aiosqlite:///{path}")
    tid = new_id()
    step = {"id": new_id(), "threadId": tid, "name": "a", "type": "assistant_message",
            "output": "hi", "createdAt": "2026-01-01T00:00:00.000Z", "autoCollapse": True,
            "tags": ["x", "y"], "metadata": {"k": 1}, "streaming": False}
    try:
        await layer.create_step(cast(StepDict, step))
        await layer.update_thread(tid, tags=["red", "blue"])
        thread = await layer.get_thread(tid)
        assert thread is not None
        assert thread["tags"] == ["red", "blue"]
        [got] = thread["steps"]
        assert got["autoCollapse"] is True
        assert got["tags"] == ["x", "y"]
        assert got["metadata"] == {"k": 1}
    finally:
        await layer.close()


async def test_concurrent_metadata_writes_all_kept(chainlit_db: str) -> None:
    """Chainlit's update_thread read metadata and wrote it back in separate sessions, so
    concurrent writers wiped each other's keys; here every key survives."""
    layer = SQLAlchemyDataLayer(chainlit_db)
    tid = new_id()
    try:
        await asyncio.gather(*(layer.update_thread(tid, metadata={f"k{i}": i})
                               for i in range(20)))
        thread = await layer.get_thread(tid)
        assert thread is not None
        assert thread["metadata"] == {f"k{i}": i for i in range(20)}
    finally:
        await layer.close()


async def test_a_failed_batch_stores_nothing(chainlit_db: str) -> None:
    """write_batch is one transaction: a step that the schema rejects (no name) undoes the
    steps before it, and the adapter then stores the good ones one by one."""
    layer = SQLAlchemyDataLayer(chainlit_db)
    tid = new_id()
    good = {"id": new_id(), "threadId": tid, "name": "a", "type": "run", "output": "ok",
            "createdAt": "2026-01-01T00:00:00.000Z", "streaming": False}
    bad = {**good, "id": new_id(), "name": None}
    try:
        with pytest.raises(Exception, match=r"(?i)not null|constraint"):
            await layer.write_batch(WriteBatch(steps=[cast(StepDict, good),
                                                      cast(StepDict, bad)]))
        assert await layer.get_thread(tid) is None
    finally:
        await layer.close()


@pytest.mark.parametrize("engine", ["postgresql", "mysql", "sqlite"])
def test_shipped_schema_files_name_chainlit_tables(engine: str) -> None:
    sql = sqladb.schema_sql(engine)
    for table in ("users", "threads", "steps", "elements", "feedbacks"):
        assert "CREATE TABLE" in sql
        assert table in sql
    if engine == "mysql":
        assert "UUID" not in sql.split("-- Not in")[0].split("\n\n", 1)[1]
        assert "JSONB" not in sql.split("\n\n", 1)[1]


def test_migrate_from_chainlit_command(chainlit_db: str, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """`nbchat migrate-from-chainlit SRC DST` copies the Chainlit-written database into
    nbchat's own SQLite schema; a second run skips what is there."""
    from nbchat.cli import main
    from nbchat.data import SQLiteDataLayer

    dst = tmp_path / "nbchat.db"
    assert main(["migrate-from-chainlit", chainlit_db, str(dst)]) == 0
    assert "1 users, 3 threads, 6 steps, 3 elements, 3 feedback" in capsys.readouterr().out

    async def check() -> None:
        layer = SQLiteDataLayer(dst, LocalStorage(tmp_path / "files"))
        try:
            user = await layer.get_user("ann")
            assert user is not None
            page = await layer.list_threads(Pagination(20), ThreadFilter(userId=user.id))
            assert {t["id"] for t in page.data} == {T1, T2, T3}
            thread = await layer.get_thread(T2)
            assert thread is not None
            assert [s["output"] for s in thread["steps"]] == [
                "Tell me about walrus migration notes",
                "Here is what I know about walrus migration notes."]
            assert thread["metadata"] == {"topic": 1}
            fb = thread["steps"][1].get("feedback")
            assert fb is not None
            assert (fb["value"], fb["comment"]) == (1, "thanks")
            [element] = thread["elements"] or []
            assert element["url"] == f"https://files.example/{USER}/{element['id']}/notes.txt"
            found = await layer.list_threads(Pagination(20), ThreadFilter(search="walrus"))
            assert [t["id"] for t in found.data] == [T2]
        finally:
            await layer.close()

    asyncio.run(check())
    assert main(["migrate-from-chainlit", chainlit_db, str(dst)]) == 0
    assert "(3 threads already there)" in capsys.readouterr().out


async def test_the_documented_example_runs_as_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = (Path(__file__).resolve().parents[2] / "docs" / "persistence.md").read_text()
    section = text.split("## Chainlit's SQLAlchemy layer", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "app.py").write_text(code, encoding="utf-8")
    url = sqladb.sqlite_url(tmp_path / "chainlit.db")  # the tables, as the docs say
    async with ChatTestClient(tmp_path / "app.py") as client:
        await client.send("hi")
        assert client.messages[-1]["output"] == "echo: hi"
        recorder = client.session.recorder
        assert recorder is not None
        await recorder._queue.join()
        assert isinstance(recorder.data, AdaptedDataLayer)
        await recorder.data.flush()
        thread_id = client.session.thread_id
        app_layer = recorder.data.layer
    assert isinstance(app_layer, SQLAlchemyDataLayer)
    await app_layer.close()  # an app's own layer is closed by the server that loaded it
    layer = SQLAlchemyDataLayer(url)
    try:
        thread = await layer.get_thread(thread_id)
        assert thread is not None
        assert [s["output"] for s in thread["steps"]] == ["hi", "echo: hi"]
    finally:
        await layer.close()
    assert not (tmp_path / ".nbchat" / "nbchat.db").exists()


class CountingLayer(SQLAlchemyDataLayer):
    """Counts the adapter's calls; `fail_batches` makes that many write_batch calls raise."""

    def __init__(self, url: str, fail_batches: int = 0) -> None:
        super().__init__(url)
        self.batches: list[int] = []
        self.single_steps = 0
        self.fail_batches = fail_batches

    async def write_batch(self, batch: WriteBatch) -> None:
        self.batches.append(len(batch.steps))
        if self.fail_batches > 0:
            self.fail_batches -= 1
            raise ConnectionError("the database went away")
        await super().write_batch(batch)

    async def create_step(self, step_dict: StepDict) -> None:
        self.single_steps += 1
        await super().create_step(step_dict)


def _steps(tid: str, n: int) -> list[StepDict]:
    return [cast(StepDict, {
        "id": new_id(), "threadId": tid, "parentId": None, "name": "a", "type": "run",
        "input": "", "output": f"s{i}", "isError": False,
        "createdAt": f"2026-01-01T00:00:{i:02d}.000Z", "start": None, "end": None,
        "metadata": {}, "tags": None, "language": None, "generation": None,
        "showInput": False, "defaultOpen": False, "streaming": False,
        "waitForAnswer": False}) for i in range(n)]


async def test_the_queue_hands_whole_batches_to_write_batch(chainlit_db: str,
                                                            tmp_path: Path) -> None:
    inner = CountingLayer(chainlit_db)
    layer = AdaptedDataLayer(inner, LocalStorage(tmp_path / "files"))
    tid = new_id()
    for s in _steps(tid, 60):
        await layer.create_step(s)
    await layer.flush()
    # (a batch of one write goes to create_step, as Chainlit's layer would get it)
    assert sum(inner.batches) + inner.single_steps == 60
    assert inner.batches
    assert len(inner.batches) + inner.single_steps < 10  # batched, not a call per step
    thread = await layer.get_thread(tid)
    assert thread is not None
    assert [s["output"] for s in thread["steps"]] == [f"s{i}" for i in range(60)]
    await layer.close()


async def test_a_failed_batch_is_stored_one_by_one(chainlit_db: str, tmp_path: Path) -> None:
    inner = CountingLayer(chainlit_db, fail_batches=1)
    layer = AdaptedDataLayer(inner, LocalStorage(tmp_path / "files"))
    tid = new_id()
    for s in _steps(tid, 30):
        await layer.create_step(s)
    await layer.flush()  # nothing reported: the one-by-one path stored everything
    assert inner.single_steps > 0
    thread = await layer.get_thread(tid)
    assert thread is not None
    assert len(thread["steps"]) == 30
    await layer.close()
