"""A Chainlit-style custom layer plugged in as Chainlit does it: `@cl.data_layer` or
`nbchat.data._data_layer`, honoured by ChatTestClient and nbchat.history; a slow layer
does not hold up replies, a failing one is retried, logged and reported.
(`nbchat serve`: tests/serve/test_serve_custom_layer.py; the widget: tests/widget; the
Jupyter extension: tests/server/test_extension.py.)"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

import nbchat as cl
import nbchat.data as cl_data
from memory_layer import MemoryDataLayer, MemoryStore
from nbchat import history
from nbchat.app import App, registering_on
from nbchat.config import Config
from nbchat.data import (
    AdaptedDataLayer,
    BaseDataLayer,
    LocalStorage,
    StoreUnavailableError,
    WriteFailedError,
)
from nbchat.ids import new_id, utc_now
from nbchat.testing import ChatTestClient
from nbchat.types import Feedback, StepDict


def echo_app(made: list[MemoryDataLayer] | None = None) -> App:
    app = App("plug")
    with registering_on(app):
        if made is not None:

            @cl.data_layer
            def layer() -> BaseDataLayer:
                made.append(MemoryDataLayer())
                return made[-1]

        @cl.on_message
        async def echo(message: cl.Message) -> None:
            reply = cl.Message(content="", elements=[cl.File(name="a.txt", content=b"bytes!")])
            for word in ("echo: ", message.content):
                await reply.stream_token(word)
            await reply.send()

    return app


def by_type(store: MemoryStore) -> dict[str, dict[str, Any]]:
    return {s["type"]: s for s in store.steps.values()}


def test_the_base_class_requires_only_chainlits_abstract_methods() -> None:
    # Chainlit 2.x's abstract methods (chainlit/data/base.py), minus the three that some
    # releases made abstract and nbchat gives defaults: build_debug_url, close,
    # get_favorite_steps.
    assert BaseDataLayer.__abstractmethods__ == {
        "get_user", "create_user", "delete_feedback", "upsert_feedback", "create_element",
        "get_element", "delete_element", "create_step", "update_step", "delete_step",
        "get_thread_author", "delete_thread", "list_threads", "get_thread", "update_thread"}


async def test_chat_test_client_stores_the_chat_in_the_apps_layer(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    made: list[MemoryDataLayer] = []
    async with ChatTestClient(echo_app(made), config=Config(app_dir=tmp_path)) as client:
        await client.send("hello")
        reply = client.messages[-1]
        await client.feedback(reply["id"], 1, "good")
    [layer] = made  # the @cl.data_layer function: called once, for this host
    assert not layer.closed  # the app's layer: the client closed its adapter (flushed) only
    [thread] = layer.store.threads.values()
    assert thread["name"] == "hello"
    assert await layer.get_thread_author(thread["id"]) == "local"
    steps = by_type(layer.store)
    assert steps["user_message"]["output"] == "hello"
    assert steps["assistant_message"]["output"] == "echo: hello"
    assert steps["assistant_message"]["streaming"] is False
    # The streamed reply coalesced in the write-behind queue: one write per step.
    assert layer.store.calls.count("create_step") == 2
    [element] = layer.store.elements.values()  # create_element(element) got an object
    assert layer.store.bytes[element["id"]] == b"bytes!"
    assert (element["name"], element["forId"]) == ("a.txt", reply["id"])
    [fb] = layer.store.feedback.values()  # upsert_feedback(Feedback)
    assert (fb["forId"], fb["value"], fb["comment"], fb["threadId"]) == (
        reply["id"], 1, "good", thread["id"])
    assert not (tmp_path / ".nbchat" / "nbchat.db").exists()


async def test_an_explicit_layer_wins_over_the_apps_and_the_global(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shared, explicit = MemoryDataLayer(), MemoryDataLayer()
    monkeypatch.setattr(cl_data, "_data_layer", shared)
    made: list[MemoryDataLayer] = []
    async with ChatTestClient(echo_app(made), config=Config(app_dir=tmp_path),
                              data_layer=explicit) as client:
        await client.send("mine")
    assert made == []  # the app's function was not even called
    assert shared.store.steps == {}
    assert by_type(explicit.store)["user_message"]["output"] == "mine"
    assert not explicit.closed  # the caller's layer: flushed, left open


async def test_the_global_layer_is_used_and_shared(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shared = MemoryDataLayer()
    monkeypatch.setattr(cl_data, "_data_layer", shared)  # Chainlit's older way
    for text in ("one", "two"):
        async with ChatTestClient(echo_app(), config=Config(app_dir=tmp_path)) as client:
            await client.send(text)
    assert sorted(t["name"] for t in shared.store.threads.values()) == ["one", "two"]
    assert not shared.closed  # shared by every host of the process: nobody closes it
    assert not (tmp_path / ".nbchat" / "nbchat.db").exists()


async def test_history_reads_the_apps_layer(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    shared = MemoryDataLayer()
    monkeypatch.setattr(cl_data, "_data_layer", shared)
    async with ChatTestClient(echo_app(), config=Config(app_dir=tmp_path)) as client:
        await client.send("for the record")
        await client.feedback(client.messages[-1]["id"], 0)
    threads = history.threads(tmp_path)
    assert threads["name"].tolist() == ["for the record"]
    steps = history.steps(tmp_path, user="local")
    assert sorted(steps["output"].tolist()) == ["echo: for the record", "for the record"]
    assert history.feedback(tmp_path)["value"].tolist() == [0]
    assert not shared.closed
    assert not (tmp_path / ".nbchat" / "nbchat.db").exists()


async def test_a_slow_layer_does_not_hold_up_the_reply(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    gate = asyncio.Event()
    gate.set()
    slow = MemoryDataLayer(gate=gate)
    app = App("slow")
    with registering_on(app):

        @cl.on_message
        async def reply(message: cl.Message) -> None:
            gate.clear()  # from now on every write of the layer hangs until the gate opens
            await cl.Message(content=f"fast: {message.content}").send()

    async with ChatTestClient(app, config=Config(app_dir=tmp_path), data_layer=slow) as client:
        await client.send("hi")  # the user's own message is stored (durable) before on_message
        assert client.messages[-1]["output"] == "fast: hi"  # shown while the layer hangs
        assert "assistant_message" not in by_type(slow.store)
        assert slow.store.calls[-1] in ("create_step", "update_thread")  # waiting in it
        gate.set()
    assert by_type(slow.store)["assistant_message"]["output"] == "fast: hi"


def step(thread_id: str, output: str) -> StepDict:
    return {"id": new_id(), "threadId": thread_id, "parentId": None, "name": "user",
            "type": "user_message", "input": "", "output": output, "isError": False,
            "createdAt": utc_now(), "start": None, "end": None, "metadata": {}, "tags": None,
            "language": None, "generation": None, "showInput": True, "defaultOpen": False,
            "streaming": False, "waitForAnswer": False}


async def test_a_failing_write_is_retried_with_backoff_and_logged(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    flaky = MemoryDataLayer(fail_writes=2)
    layer = AdaptedDataLayer(flaky, LocalStorage(tmp_path), retries=3, backoff=0.001)
    tid = new_id()
    with caplog.at_level(logging.WARNING, "nbchat.data"):
        await layer.create_step(step(tid, "kept"), durable=True)
    assert flaky.store.calls == ["create_step"] * 3  # two failures, then stored
    assert [s["output"] for s in flaky.store.steps.values()] == ["kept"]
    assert sum("retry in" in r.getMessage() for r in caplog.records) == 2
    assert layer.queue.failed_writes == 0
    await layer.close()


async def test_what_cannot_be_stored_is_reported_never_acknowledged(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # A write the layer refuses (not an outage: the layer answers, with an error) is
    # retried, then dropped, logged and reported to whoever waits for it.
    down = MemoryDataLayer(fail_writes=10_000, failure=ValueError)
    layer = AdaptedDataLayer(down, LocalStorage(tmp_path), retries=1, backoff=0.001)
    tid = new_id()
    with caplog.at_level(logging.ERROR, "nbchat.data"):
        with pytest.raises(WriteFailedError, match="could not store step"):
            await layer.create_step(step(tid, "durable"), durable=True)
        await layer.create_step(step(tid, "queued one"))
        await layer.create_step(step(tid, "queued two"))
        with pytest.raises(WriteFailedError, match="2 queued write"):
            await layer.flush()  # the queued writes that failed are reported here
    assert layer.queue.failed_writes == 3
    assert sum("could not store step" in r.getMessage() for r in caplog.records) == 3
    assert down.store.steps == {}
    down.fail_writes = 0  # the layer takes writes again: later writes go through
    await layer.create_step(step(tid, "after"), durable=True)
    assert [s["output"] for s in down.store.steps.values()] == ["after"]
    await layer.close()


async def test_an_outage_of_a_custom_layer_keeps_the_queued_writes(tmp_path: Path) -> None:
    # The layer cannot be reached (ConnectionError): the durable write is refused at once,
    # the queued ones are kept (never dropped) and stored when the layer is back.
    down = MemoryDataLayer(fail_writes=10_000)
    layer = AdaptedDataLayer(down, LocalStorage(tmp_path), retries=1, backoff=0.001)
    tid = new_id()
    with pytest.raises(StoreUnavailableError):
        await layer.create_step(step(tid, "durable"), durable=True)
    await layer.create_step(step(tid, "queued one"))
    await layer.create_step(step(tid, "queued two"))
    with pytest.raises(StoreUnavailableError, match="kept"):
        await layer.flush()
    available_while_down = layer.available  # (mypy would keep it narrowed to False)
    assert not available_while_down
    assert layer.queue.failed_writes == 0
    down.fail_writes = 0  # back
    await layer.create_step(step(tid, "after"), durable=True)
    await layer.flush()
    assert layer.available
    assert sorted(s["output"] for s in down.store.steps.values()) == [
        "after", "queued one", "queued two"]
    await layer.close()


async def test_a_chat_on_a_failing_layer_is_told_its_message_was_not_stored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The durable write of the user's message fails: the chat gets an error event for that
    # message and stays alive, and on_message never runs on a message that was not stored.
    monkeypatch.chdir(tmp_path)
    ran: list[str] = []
    app = App("down")
    with registering_on(app):

        @cl.on_message
        async def reply(message: cl.Message) -> None:
            ran.append(message.content)

    down = MemoryDataLayer(fail_writes=10_000)
    async with ChatTestClient(app, config=Config(app_dir=tmp_path), data_layer=down) as client:
        await client.send("lost?")
        assert [e["code"] for e in client.errors] == ["store_unavailable"]
        down.fail_writes = 0  # back before the chat closes (which flushes)
    assert ran == []
    assert down.store.steps == {}


async def test_feedback_reaches_the_layer_as_a_feedback_dataclass(tmp_path: Path) -> None:
    seen: list[Any] = []

    class Recording(MemoryDataLayer):
        async def upsert_feedback(self, feedback: Feedback) -> str:
            seen.append(feedback)
            return await super().upsert_feedback(feedback)

    layer = AdaptedDataLayer(Recording(), LocalStorage(tmp_path))
    s = step(new_id(), "rated")
    await layer.create_step(s)
    fid = await layer.upsert_feedback({"forId": s["id"], "value": 1, "comment": "ok"})
    [fb] = seen
    assert fb == Feedback(forId=s["id"], value=1, threadId=s["threadId"], id=fid, comment="ok")
    await layer.close()


async def test_the_documented_custom_layer_runs_as_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = (Path(__file__).resolve().parents[2] / "docs" / "persistence.md").read_text()
    section = text.split("## Custom data layer", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "app.py").write_text(code, encoding="utf-8")
    async with ChatTestClient(tmp_path / "app.py") as client:
        await client.send("hi")
        assert client.messages[-1]["output"] == "echo: hi"
        recorder = client.session.recorder
        assert recorder is not None
        await recorder._queue.join()  # the reply's write reached the layer's queue
        adapted = recorder.data
        assert isinstance(adapted, AdaptedDataLayer)
        await adapted.flush()
        [thread] = adapted.layer.threads.values()  # type: ignore[attr-defined]
        stored = await adapted.get_thread(thread["id"])
        assert stored is not None
        assert [s["output"] for s in stored["steps"]] == ["hi", "echo: hi"]
        assert await adapted.get_thread_author(thread["id"]) == "local"
    assert not (tmp_path / ".nbchat" / "nbchat.db").exists()


async def test_the_apps_function_is_called_once_for_all_its_hosts_in_a_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A notebook: the default app, its chats (here two test clients) and nbchat.history
    # share the one layer the function returned (an in-memory layer would otherwise be
    # empty for history).
    from nbchat.app import default_app

    monkeypatch.chdir(tmp_path)
    made: list[MemoryDataLayer] = []

    def layer() -> BaseDataLayer:
        made.append(MemoryDataLayer())
        return made[-1]

    default_app.register("data_layer", layer)
    try:
        for text in ("one", "two"):
            async with ChatTestClient(default_app, config=Config(app_dir=tmp_path)) as client:
                await client.send(text)
        assert sorted(history.threads(tmp_path)["name"].tolist()) == ["one", "two"]
        assert cl_data.get_data_layer() is made[0]  # Chainlit's accessor: the same one
    finally:
        default_app.hooks.pop("data_layer")
    assert len(made) == 1
    assert not made[0].closed


async def test_an_outage_costs_one_backoff_per_batch_not_one_per_write(tmp_path: Path) -> None:
    down = MemoryDataLayer(fail_writes=10_000)
    layer = AdaptedDataLayer(down, LocalStorage(tmp_path), retries=2, backoff=0.001)
    tid = new_id()
    for i in range(50):
        await layer.create_step(step(tid, f"m{i}"))
    with pytest.raises(StoreUnavailableError, match="50 queued write"):
        await layer.flush()
    # The first write: 1 + 2 retries; then the whole batch is kept for the queue's own
    # retry instead of each of the 49 others trying (and backing off) in turn.
    assert down.store.calls.count("create_step") == 3
    down.fail_writes = 0
    await layer.close()
    assert len(down.store.steps) == 50  # nothing was dropped
