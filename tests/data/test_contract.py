"""The data layer contract: one suite, run on every backend. This is the definition of correct."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from data.step_rows import step
from nbchat.data import (
    InvalidDataError,
    NotFoundError,
    QueuedDataLayer,
    SQLiteDataLayer,
    is_shared,
)
from nbchat.ids import new_id, utc_now
from nbchat.types import (
    ElementDict,
    FeedbackDict,
    Pagination,
    StepDict,
    ThreadFilter,
    User,
)


def element(thread_id: str, **kw: Any) -> ElementDict:
    e: dict[str, Any] = {
        "id": new_id(), "threadId": thread_id, "type": "file", "name": "a.txt",
        "display": "inline", "forId": None, "mime": "text/plain", "size": None,
        "language": None, "url": None, "objectKey": None,
    }
    e.update(kw)
    return cast(ElementDict, e)


async def test_users(layer: QueuedDataLayer) -> None:
    assert await layer.get_user("ann") is None
    ann = await layer.create_user(User("ann", "Ann", {"role": "admin"}))
    assert ann.identifier == "ann"
    assert ann.id
    assert ann.createdAt
    again = await layer.create_user(User("ann", None, {"role": "user"}))
    assert again.id == ann.id
    assert again.display_name == "Ann"
    got = await layer.get_user("ann")
    assert got is not None
    assert got.metadata == {"role": "user"}
    assert got.id == ann.id


async def test_update_thread_upserts_and_merges_metadata(layer: QueuedDataLayer) -> None:
    ann = await layer.create_user(User("ann"))
    tid = new_id()
    await layer.update_thread(tid, name="First", user_id=ann.id, metadata={"a": 1, "b": 2})
    await layer.update_thread(tid, metadata={"b": 3, "c": {"x": 1}}, tags=["t1"])
    thread = await layer.get_thread(tid)
    assert thread is not None
    assert thread["name"] == "First"
    assert thread["userId"] == ann.id
    assert thread["userIdentifier"] == "ann"
    assert thread["metadata"] == {"a": 1, "b": 3, "c": {"x": 1}}
    assert thread["tags"] == ["t1"]
    assert thread["steps"] == []
    assert thread["elements"] == []
    assert set(thread) >= {"id", "createdAt", "name", "userId", "userIdentifier", "tags",
                           "metadata", "steps", "elements"}
    assert await layer.get_thread_author(tid) == "ann"
    await layer.flush()  # metadata merges across batches too
    await layer.update_thread(tid, metadata={"a": 0})
    thread = await layer.get_thread(tid)
    assert thread is not None
    assert thread["metadata"] == {"a": 0, "b": 3, "c": {"x": 1}}


async def test_unknown_ids(layer: QueuedDataLayer) -> None:
    assert await layer.get_thread(new_id()) is None
    assert await layer.get_element(new_id(), new_id()) is None
    with pytest.raises(NotFoundError):
        await layer.get_thread_author(new_id())
    await layer.delete_thread(new_id())
    await layer.delete_step(new_id())
    await layer.delete_element(new_id())
    assert await layer.delete_feedback(new_id()) is False
    with pytest.raises(NotFoundError, match="no step"):
        await layer.upsert_feedback({"forId": new_id(), "value": 1})
    with pytest.raises(NotFoundError, match="threadId"):
        await layer.update_step(cast(StepDict, {"id": new_id(), "output": "x"}))
    with pytest.raises(NotFoundError, match="create_user"):
        await layer.update_thread(new_id(), user_id=new_id())


async def test_steps_roundtrip_and_reads_see_pending_writes(layer: QueuedDataLayer) -> None:
    tid = new_id()
    s1 = step(tid, metadata={"k": [1, 2]}, tags=["x"], generation={"model": "m"},
              showInput="json", language="python", command="search", cancelled=True)
    await layer.create_step(s1)  # queued, not flushed: the read must still see it
    thread = await layer.get_thread(tid)
    assert thread is not None
    [got] = thread["steps"]
    expected = {**s1, "feedback": None}
    assert got == expected


async def test_update_step_merges_and_coalesces(layer: QueuedDataLayer) -> None:
    tid = new_id()
    s = step(tid, type="assistant_message", output="", streaming=True)
    await layer.create_step(s)
    for text in ("He", "Hello", "Hello world"):
        await layer.update_step(cast(StepDict, {"id": s["id"], "output": text}))
    await layer.update_step(cast(StepDict, {"id": s["id"], "streaming": False,
                                            "end": utc_now()}))
    assert len(layer.queue.pending.steps) == 1  # five writes, one row in the batch
    await layer.flush()
    await layer.update_step(cast(StepDict, {"id": s["id"], "metadata": {"n": 1}}))
    thread = await layer.get_thread(tid)
    assert thread is not None
    [got] = thread["steps"]
    assert got["output"] == "Hello world"
    assert got["streaming"] is False
    assert got["end"]
    assert got["metadata"] == {"n": 1}
    assert got["type"] == "assistant_message"


async def test_steps_in_order_with_nesting(layer: QueuedDataLayer) -> None:
    tid = new_id()
    parent = step(tid, type="run", name="chain")
    child = step(tid, type="tool", parentId=parent["id"])
    await layer.create_step(parent)
    await layer.create_step(child)
    await layer.create_step(step(tid))
    thread = await layer.get_thread(tid)
    assert thread is not None
    assert [s["id"] for s in thread["steps"]][:2] == [parent["id"], child["id"]]
    assert thread["steps"][1]["parentId"] == parent["id"]


async def test_create_step_replaces_existing(layer: QueuedDataLayer) -> None:
    tid = new_id()
    s = step(tid, output="one")
    await layer.create_step(s, durable=True)
    await layer.create_step({**s, "output": "two"})
    thread = await layer.get_thread(tid)
    assert thread is not None
    assert [x["output"] for x in thread["steps"]] == ["two"]


async def test_delete_step_and_its_feedback(layer: QueuedDataLayer) -> None:
    tid = new_id()
    s, keep = step(tid), step(tid)
    await layer.create_step(s)
    await layer.create_step(keep)
    fid = await layer.upsert_feedback({"forId": s["id"], "value": 0})
    await layer.delete_step(s["id"])
    thread = await layer.get_thread(tid)
    assert thread is not None
    assert [x["id"] for x in thread["steps"]] == [keep["id"]]
    assert await layer.delete_feedback(fid) is False  # went with its step


async def test_feedback(layer: QueuedDataLayer) -> None:
    tid = new_id()
    s = step(tid, type="assistant_message")
    await layer.create_step(s)  # still queued: feedback may rate a pending step
    fid = await layer.upsert_feedback({"forId": s["id"], "value": 1, "comment": "good"})
    same = await layer.upsert_feedback({"forId": s["id"], "value": 0, "comment": None})
    assert same == fid  # one feedback per step
    thread = await layer.get_thread(tid)
    assert thread is not None
    fb = thread["steps"][0].get("feedback")
    assert fb == {"id": fid, "forId": s["id"], "threadId": tid, "value": 0, "comment": None}
    assert await layer.delete_feedback(fid) is True
    thread = await layer.get_thread(tid)
    assert thread is not None
    assert thread["steps"][0].get("feedback") is None


async def test_elements_and_blobs(layer: QueuedDataLayer) -> None:
    assert layer.storage is not None
    tid = new_id()
    el = await layer.create_element(element(tid, props={"a": 1}, content=None), b"bytes!")
    key = el["objectKey"]
    assert key
    assert el["size"] == "6"
    got = await layer.get_element(tid, el["id"])
    assert got is not None
    assert got["objectKey"] == key
    assert got.get("props") == {"a": 1}
    assert await layer.get_element(new_id(), el["id"]) is None  # scoped to its thread
    assert await layer.storage.get(key) == b"bytes!"
    thread = await layer.get_thread(tid)
    assert thread is not None
    assert [e["id"] for e in thread["elements"] or []] == [el["id"]]
    await layer.delete_element(el["id"], thread_id=new_id())  # wrong thread: no effect
    assert await layer.get_element(tid, el["id"]) is not None
    await layer.delete_element(el["id"], thread_id=tid)
    assert await layer.get_element(tid, el["id"]) is None
    with pytest.raises(NotFoundError):
        await layer.storage.get(key)


async def test_delete_thread_cascades(layer: QueuedDataLayer) -> None:
    assert layer.storage is not None
    tid, other = new_id(), new_id()
    s = step(tid)
    await layer.create_step(s)
    await layer.create_step(step(other))
    await layer.upsert_feedback({"forId": s["id"], "value": 1})
    el = await layer.create_element(element(tid), b"x")
    await layer.delete_thread(tid)
    assert await layer.get_thread(tid) is None
    assert await layer.get_element(tid, el["id"]) is None
    assert el["objectKey"]
    assert not await layer.storage.delete(el["objectKey"])
    assert await layer.get_thread(other) is not None


async def test_shared_flag(layer: QueuedDataLayer) -> None:
    tid = new_id()
    await layer.update_thread(tid, name="t", metadata={"keep": True})
    thread = await layer.get_thread(tid)
    assert thread is not None
    assert not is_shared(thread)
    await layer.set_thread_shared(tid, True)
    thread = await layer.get_thread(tid)
    assert thread is not None
    assert is_shared(thread)
    assert (thread["metadata"] or {})["keep"] is True
    await layer.set_thread_shared(tid, False)
    thread = await layer.get_thread(tid)
    assert thread is not None
    assert not is_shared(thread)


async def _all_pages(layer: QueuedDataLayer, filters: ThreadFilter, first: int) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        page = await layer.list_threads(Pagination(first, cursor), filters)
        ids += [t["id"] for t in page.data]
        if not page.pageInfo.hasNextPage:
            return ids
        cursor = page.pageInfo.endCursor


async def test_list_threads_pages_newest_first(layer: QueuedDataLayer) -> None:
    ann = await layer.create_user(User("ann"))
    bob = await layer.create_user(User("bob"))
    ids = []
    for i in range(25):
        tid = new_id()
        await layer.update_thread(tid, name=f"thread {i}", user_id=ann.id)
        await layer.create_step(step(tid))
        await layer.flush()  # one batch per thread: distinct activity times
        ids.append(tid)
    await layer.update_thread(new_id(), name="bob's", user_id=bob.id)
    listed = await _all_pages(layer, ThreadFilter(userId=ann.id), 10)
    assert listed == ids[::-1]
    page = await layer.list_threads(Pagination(10), ThreadFilter(userId=ann.id))
    assert page.data[0]["userIdentifier"] == "ann"
    assert page.data[0]["steps"] == []
    assert len(await _all_pages(layer, ThreadFilter(), 7)) == 26


async def test_pagination_stable_under_inserts(layer: QueuedDataLayer) -> None:
    ids = []
    for _ in range(10):
        tid = new_id()
        await layer.create_step(step(tid))
        await layer.flush()
        ids.append(tid)
    first = await layer.list_threads(Pagination(4), ThreadFilter())
    for _ in range(3):  # new activity while the user pages
        await layer.create_step(step(new_id()))
        await layer.flush()
    seen = [t["id"] for t in first.data]
    cursor = first.pageInfo.endCursor
    while cursor:
        page = await layer.list_threads(Pagination(4, cursor), ThreadFilter())
        seen += [t["id"] for t in page.data]
        cursor = page.pageInfo.endCursor if page.pageInfo.hasNextPage else None
    assert seen == ids[::-1]  # no duplicate, no skip, new threads not mixed in


async def test_search(layer: QueuedDataLayer) -> None:
    ann = await layer.create_user(User("ann"))
    by_name, by_step, by_output, none = new_id(), new_id(), new_id(), new_id()
    await layer.update_thread(by_name, name="Quarterly invoice review", user_id=ann.id)
    await layer.create_step(step(by_step, input="Where is the INVOICE?", output=""))
    await layer.create_step(step(by_output, output="the invoices folder is empty"))
    await layer.create_step(step(none, output="nothing relevant"))

    async def search(text: str, **kw: Any) -> set[str]:
        page = await layer.list_threads(Pagination(20), ThreadFilter(search=text, **kw))
        return {t["id"] for t in page.data}

    assert await search("invoice") == {by_name, by_step, by_output}  # last word: prefix
    assert await search("invoice review") == {by_name}
    assert await search("Invoice?") == {by_name, by_step, by_output}
    assert await search("invoice", userId=ann.id) == {by_name}
    assert await search('"unbalanced AND (quote*') == set()
    assert await search("?!") == set()
    assert await search("relevant") == {none}
    await layer.update_step(cast(StepDict, {"id": (await _first_step(layer, none)),
                                            "output": "changed"}))
    assert await search("relevant") == set()  # the index follows updates
    await layer.delete_thread(by_output)
    assert await search("folder") == set()


async def test_search_index_follows_every_change(layer: QueuedDataLayer) -> None:
    a, b, c = new_id(), new_id(), new_id()
    moving = step(a, output="walrus migration notes")
    await layer.create_step(moving)
    await layer.create_step(step(a, output="walrus census"))
    await layer.create_step(step(b, output="penguin census"))
    doomed = step(c, output="narwhal sighting")
    await layer.create_step(doomed)

    async def search(text: str) -> list[str]:
        page = await layer.list_threads(Pagination(20), ThreadFilter(search=text))
        return sorted(t["id"] for t in page.data)

    assert await search("walrus") == [a]  # two hits in one thread: listed once
    assert await search("census") == sorted([a, b])
    # The same step id written again for another thread moves it (and its words).
    await layer.create_step({**moving, "threadId": b})
    assert await search("migration") == [b]
    assert await search("walrus") == sorted([a, b])
    await layer.update_step(cast(StepDict, {"id": moving["id"], "output": "seal notes"}))
    assert await search("migration") == []
    assert await search("seal") == [b]
    await layer.delete_step(doomed["id"])
    assert await search("narwhal") == []
    await layer.create_step(step(c, output="narwhal again"))
    await layer.delete_thread(b)
    assert await search("census") == [a]
    assert await search("seal") == []
    assert await search("narwhal") == [c]
    await layer.delete_thread(a)
    await layer.delete_thread(c)
    assert await search("walrus") == await search("narwhal") == []
    if isinstance(layer, SQLiteDataLayer):  # every step row has exactly one index entry
        d = new_id()  # (a deleted thread id stays deleted)
        await layer.create_step(step(d, output="orca"), durable=True)
        rows = await layer._rows("SELECT (SELECT count(*) FROM steps), "
                                 "(SELECT count(*) FROM steps_fts)")
        assert rows == [(1, 1)]
        await layer.delete_thread(d)
        assert await layer._rows("SELECT count(*) FROM steps_fts") == [(0,)]


async def _first_step(layer: QueuedDataLayer, tid: str) -> str:
    thread = await layer.get_thread(tid)
    assert thread is not None
    return thread["steps"][0]["id"]


async def test_feedback_filter(layer: QueuedDataLayer) -> None:
    good, bad, plain = new_id(), new_id(), new_id()
    for tid, value in ((good, 1), (bad, 0), (plain, None)):
        s = step(tid, type="assistant_message")
        await layer.create_step(s)
        if value is not None:
            await layer.upsert_feedback(cast(FeedbackDict, {"forId": s["id"], "value": value}))
    ones = await layer.list_threads(Pagination(10), ThreadFilter(feedback=1))
    zeros = await layer.list_threads(Pagination(10), ThreadFilter(feedback=0))
    assert [t["id"] for t in ones.data] == [good]
    assert [t["id"] for t in zeros.data] == [bad]


BAD_STEPS: list[tuple[dict[str, Any], str]] = [
    ({"name": "x" * 1001}, "step.name"),
    ({"metadata": {"blob": "x" * 300_000}}, "step.metadata"),
    ({"metadata": ["not", "a", "dict"]}, "step.metadata"),
    ({"metadata": {"f": object()}}, "JSON"),
    ({"isError": "yes"}, "step.isError"),
    ({"output": 42}, "step.output"),
    ({"id": "../../etc/passwd"}, "step.id"),
    ({"threadId": None}, "step.threadId"),
    ({"createdAt": "yesterday"}, "ISO 8601"),
    ({"createdAt": "2026-02-30T10:00:00.000Z"}, "ISO 8601"),  # normalized shape, no such day
    ({"end": "2026-13-01T10:00:00.000Z"}, "ISO 8601"),
    ({"output": "nul\x00byte"}, "NUL"),
    ({"tags": "not-a-list"}, "step.tags"),
]


@pytest.mark.parametrize(("change", "message"), BAD_STEPS)
async def test_bad_steps_rejected_nothing_stored(
    layer: QueuedDataLayer, change: dict[str, Any], message: str
) -> None:
    tid = new_id()
    with pytest.raises(InvalidDataError, match=message):
        await layer.create_step(step(tid, **change))
    assert len(layer.queue.pending) == 0
    assert await layer.get_thread(tid) is None


async def test_bad_arguments_rejected(layer: QueuedDataLayer) -> None:
    tid = new_id()
    with pytest.raises(InvalidDataError, match="limit is 1000"):
        await layer.update_thread(tid, name="n" * 1001)
    with pytest.raises(InvalidDataError, match="bytes as JSON"):
        await layer.update_thread(tid, metadata={"x": "y" * 300_000})
    with pytest.raises(InvalidDataError, match="must be a dict"):
        await layer.update_thread(tid, metadata=cast(Any, [1]))
    with pytest.raises(InvalidDataError, match="list of strings"):
        await layer.update_thread(tid, tags=cast(Any, "tag"))
    with pytest.raises(InvalidDataError, match=r"feedback\.value"):
        await layer.upsert_feedback(cast(FeedbackDict, {"forId": new_id(), "value": 5}))
    with pytest.raises(InvalidDataError, match="cursor"):
        await layer.list_threads(Pagination(10, "garbage!"), ThreadFilter())
    with pytest.raises(InvalidDataError, match=r"pagination\.first"):
        await layer.list_threads(Pagination(0), ThreadFilter())
    with pytest.raises(InvalidDataError, match="content must be bytes"):
        await layer.create_element(element(tid), cast(Any, "text"))
    with pytest.raises(InvalidDataError, match="unknown step keys"):
        await layer.update_step(cast(StepDict, {"id": new_id(), "bogus": 1}))
    with pytest.raises(InvalidDataError, match="User"):
        await layer.create_user(cast(Any, {"identifier": "x"}))
    assert await layer.get_thread(tid) is None


async def test_stored_json_is_the_validated_json(layer: QueuedDataLayer) -> None:
    """A caller that changes a nested value after create_step returns (here: to something
    that is not JSON) cannot change or break what the queue writes later."""
    tid = new_id()
    s = step(tid, metadata={"n": {"k": 1}}, generation={"model": {"name": "m"}})
    await layer.create_step(s)
    s["metadata"]["n"]["k"] = object()
    cast(dict[str, Any], s["generation"])["model"]["name"] = {1, 2}
    thread = await layer.get_thread(tid)
    assert thread is not None
    assert thread["steps"][0]["metadata"] == {"n": {"k": 1}}
    assert thread["steps"][0]["generation"] == {"model": {"name": "m"}}
    assert layer.queue.failed_writes == 0


async def test_times_are_normalized(layer: QueuedDataLayer) -> None:
    tid = new_id()
    await layer.create_step(step(tid, createdAt="2024-05-01T12:00:00+02:00"))
    thread = await layer.get_thread(tid)
    assert thread is not None
    assert thread["steps"][0]["createdAt"] == "2024-05-01T10:00:00.000Z"
    await layer.create_step(step(tid, createdAt="2024-05-01T10:00:01.500Z"))  # kept as is
    thread = await layer.get_thread(tid)
    assert thread is not None
    assert [s["createdAt"] for s in thread["steps"]] == ["2024-05-01T10:00:00.000Z",
                                                         "2024-05-01T10:00:01.500Z"]


async def test_close_flushes_and_reopen_sees_everything(
    backend: str, tmp_path: Path, make_layer: Callable[..., QueuedDataLayer]
) -> None:
    dl = make_layer(backend, tmp_path / "files")
    tid = new_id()
    await dl.update_thread(tid, name="persisted")
    for i in range(50):
        await dl.create_step(step(tid, output=f"m{i}"))
    await dl.close()
    with pytest.raises(Exception, match="closed"):
        await dl.create_step(step(tid))
    again = make_layer(backend, tmp_path / "files")
    try:
        thread = await again.get_thread(tid)
        assert thread is not None
        assert thread["name"] == "persisted"
        assert [s["output"] for s in thread["steps"]] == [f"m{i}" for i in range(50)]
    finally:
        await again.close()


async def test_history_export(layer: QueuedDataLayer) -> None:
    ann = await layer.create_user(User("ann"))
    tid = new_id()
    await layer.update_thread(tid, name="t", user_id=ann.id)
    s = step(tid, type="assistant_message")
    await layer.create_step(s)
    await layer.create_step(step(new_id()))
    await layer.upsert_feedback({"forId": s["id"], "value": 1})
    assert [t["id"] for t in await layer.export_threads(ann.id)] == [tid]
    assert [x["id"] for x in await layer.export_steps(ann.id)] == [s["id"]]
    assert len(await layer.export_steps()) == 2
    [fb] = await layer.export_feedback()
    assert fb["forId"] == s["id"]
    assert fb["value"] == 1
    assert fb["createdAt"]
