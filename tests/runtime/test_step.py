"""Steps: the decorator (sync and async), the context manager, manual send/update/remove,
streaming, generation, nesting through the context variable, and errors."""

from __future__ import annotations

import asyncio
import json

import pytest

import nbchat as cl
from fixture_types import Connect, OfType
from nbchat.app import App, registering_on
from nbchat.types import StepDict


def _by_name(steps: list[StepDict]) -> dict[str, StepDict]:
    return {s["name"]: s for s in steps}


async def test_step_decorator_on_async_function(app: App, connect: Connect) -> None:
    @cl.step(type="tool", name="search", show_input="json", language="markdown",
             default_open=True)
    async def search(query: str, limit: int = 3) -> str:
        return f"found {query} x{limit}"

    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            await cl.Message(await search(message.content, limit=2)).send()

    async with connect() as client:
        turn = await client.send("cats")
        step = _by_name(client.steps)["search"]
        assert step["type"] == "tool"
        assert json.loads(step["input"]) == {"query": "cats", "limit": 2}
        assert step["output"] == "found cats x2"
        assert step["showInput"] == "json"
        assert step["language"] == "markdown"
        assert step["defaultOpen"] is True
        assert step["start"]
        assert step["end"]
        assert step["isError"] is False
        assert turn[-1]["output"] == "found cats x2"


async def test_step_decorator_on_sync_function_and_bare_form(app: App, connect: Connect) -> None:
    @cl.step
    def add(a: int, b: int) -> dict[str, int]:
        return {"sum": a + b}

    with registering_on(app):
        @cl.on_message
        def on_message(message: cl.Message) -> None:
            assert add(2, 3) == {"sum": 5}

    async with connect() as client:
        await client.send("x")
        step = _by_name(client.steps)["add"]
        assert json.loads(step["input"]) == {"a": 2, "b": 3}
        assert json.loads(step["output"]) == {"sum": 5}
        assert step["language"] == "json"
        assert step["type"] == "undefined"


async def test_async_with_step(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            async with cl.Step(name="retrieve", type="retrieval", tags=["t"],
                               metadata={"m": 1}) as step:
                step.input = "the query"
                step.output = ["doc1", "doc2"]

    async with connect() as client:
        await client.send("x")
        step = _by_name(client.steps)["retrieve"]
        assert step["type"] == "retrieval"
        assert step["input"] == "the query"
        assert json.loads(step["output"]) == ["doc1", "doc2"]
        assert step["tags"] == ["t"]
        assert step["metadata"] == {"m": 1}
        assert step["end"] is not None
        assert step["parentId"] is None


async def test_manual_send_update_remove(app: App, connect: Connect, of_type: OfType) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            if message.content == "make":
                step = cl.Step(name="manual", type="run")
                await step.send()
                step.output = "updated"
                await step.update()
                cl.user_session.set("step", step)
            else:
                await cl.user_session.get("step").remove()

    async with connect() as client:
        await client.send("make")
        step = _by_name(client.steps)["manual"]
        assert step["output"] == "updated"
        assert step["start"] is not None
        await client.send("remove")
        assert "manual" not in _by_name(client.steps)
        assert of_type(client, "step_delete")[-1]["id"] == step["id"]


async def test_step_stream_token(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            async with cl.Step(name="llm", type="llm") as step:
                for token in ["a", "b", "c"]:
                    await step.stream_token(token)
                await step.stream_token("z", is_sequence=True)
                await step.stream_token("y")

    async with connect() as client:
        await client.send("x")
        step = _by_name(client.steps)["llm"]
        assert step["output"] == "zy"
        assert step["streaming"] is False


async def test_step_generation(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            async with cl.Step(name="call", type="llm") as step:
                step.generation = cl.ChatGeneration(
                    provider="openai", model="gpt", input_token_count=3,
                    messages=[{"role": "user", "content": "hi"}],
                    message_completion={"role": "assistant", "content": "yo"})

    async with connect() as client:
        await client.send("x")
        generation = _by_name(client.steps)["call"]["generation"]
        assert generation is not None
        assert generation["type"] == "CHAT"
        assert generation["model"] == "gpt"
        assert generation["inputTokenCount"] == 3
        assert generation["messages"] == [{"role": "user", "content": "hi"}]
        assert generation["messageCompletion"] == {"role": "assistant", "content": "yo"}


async def test_nesting_follows_the_context(app: App, connect: Connect) -> None:
    @cl.step(name="leaf")
    async def leaf(n: int) -> int:
        return n

    @cl.step(name="branch")
    async def branch(n: int) -> int:
        return await leaf(n)

    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            async with cl.Step(name="root"):
                await asyncio.gather(branch(1), branch(2))
                await asyncio.create_task(branch(3))
                async with cl.Step(name="child"):
                    pass
            await cl.Message("after").send()

    async with connect() as client:
        await client.send("x")
        steps = client.steps
        ids = {s["id"]: s for s in steps}
        root = next(s for s in steps if s["name"] == "root")
        branches = [s for s in steps if s["name"] == "branch"]
        leaves = [s for s in steps if s["name"] == "leaf"]
        assert len(branches) == 3
        assert len(leaves) == 3
        assert all(b["parentId"] == root["id"] for b in branches)
        # Every leaf hangs under its own branch, never a sibling's.
        assert sorted(ids[str(leaf["parentId"])]["input"] for leaf in leaves) == sorted(
            b["input"] for b in branches)
        assert {leaf["parentId"] for leaf in leaves} == {b["id"] for b in branches}
        for leaf_step in leaves:
            assert ids[str(leaf_step["parentId"])]["output"] == leaf_step["output"]
        assert next(s for s in steps if s["name"] == "child")["parentId"] == root["id"]
        assert client.messages[-1]["parentId"] is None


async def test_exception_in_step_marks_error_and_propagates(app: App, connect: Connect) -> None:
    caught = []

    @cl.step(name="fails")
    def fails() -> None:
        raise ValueError("bad input")

    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            try:
                fails()
            except ValueError as exc:
                caught.append(str(exc))
            with pytest.raises(KeyError):
                async with cl.Step(name="ctx"):
                    raise KeyError("k")

    async with connect() as client:
        await client.send("x")
        steps = _by_name(client.steps)
        assert caught == ["bad input"]
        assert steps["fails"]["isError"] is True
        assert steps["fails"]["output"] == "bad input"
        assert steps["ctx"]["isError"] is True
        assert steps["ctx"]["output"] == "'k'"
        assert steps["ctx"]["end"] is not None


async def test_exception_in_async_step_reaches_the_user_as_an_error(app: App,
                                                                    connect: Connect) -> None:
    @cl.step(name="tool")
    async def tool() -> None:
        raise RuntimeError("tool down")

    with registering_on(app):
        @cl.on_message
        async def on_message() -> None:
            await tool()

    async with connect(debug=True) as client:
        await client.send("x")
        assert _by_name(client.steps)["tool"]["isError"] is True
        assert "RuntimeError: tool down" in client.messages[-1]["output"]


async def test_step_elements_attach_to_the_step(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message() -> None:
            async with cl.Step(name="s", elements=[cl.Text(name="note", content="n")]):
                pass

    async with connect() as client:
        await client.send("x")
        step = _by_name(client.steps)["s"]
        assert client.elements[0]["forId"] == step["id"]
