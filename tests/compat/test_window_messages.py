"""Window messages and CopilotFunction through ChatTestClient: the Chainlit app of
window_app.py, with the test client playing the embedding page."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.testing import ChatTestClient

APP = Path(__file__).with_name("window_app.py")


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[ChatTestClient]:
    shutil.copy(APP, tmp_path / "app.py")
    async with ChatTestClient(tmp_path / "app.py") as chat:
        yield chat


async def test_the_app_posts_to_the_page_and_reacts_to_what_it_posts(
        client: ChatTestClient) -> None:
    assert client.window_messages == [{"type": "ready"}]
    mark = len(client.events)
    turn = await client.post_window_message(json.dumps({"type": "VIEW_CONTEXT",
                                                        "areaId": "A7"}))
    assert [s["output"] for s in turn] == ["context: area A7"]
    assert client.window_messages[-1] == json.dumps({"type": "EMBEDDED_ACK"})
    # As on Chainlit, a window message does not show the chat as running.
    assert client.state.running == 0
    assert not [e for e in client.events[mark:] if e["type"] in ("task_start", "task_end")]


async def test_a_copilot_function_waits_for_the_pages_answer(client: ChatTestClient) -> None:
    await client.post_window_message({"type": "VIEW_CONTEXT", "areaId": "B2"})
    await client.send("where am I")
    # The app waits on the page: the chat counts as idle, the call is pending.
    [call] = client.call_fns
    assert (call["name"], call["args"], call["timeout"]) == ("getContext",
                                                             {"q": "where am I"}, 300)
    turn = await client.answer_call_fn({"page": "/orders/7"})
    assert turn[-1]["output"] == "where am I in /orders/7, area B2"
    assert client.call_fns == []
    assert client.token_count == 42


async def test_an_answer_nobody_asked_for_is_refused(client: ChatTestClient) -> None:
    await client.send_event({"type": "call_fn_result", "callId": "nope", "result": 1})
    assert client.errors[-1]["code"] == "unknown_call"
    with pytest.raises(AssertionError, match="no CopilotFunction call"):
        await client.answer_call_fn(1)


async def test_the_pages_error_is_raised_in_the_app_and_a_timeout_returns_none(
        tmp_path: Path) -> None:
    app = App("calls")
    seen: list[object] = []
    timed_out = asyncio.Event()
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            if message.content == "timeout":
                seen.append(await cl.context.emitter.send_call_fn("slow", {}, timeout=0.01))
                timed_out.set()
                return
            try:
                await cl.CopilotFunction(name="broken", args={}).acall()
            except cl.CopilotFunctionError as exc:
                seen.append(str(exc))

    async with ChatTestClient(app) as chat:
        await chat.send("error")
        await chat.answer_call_fn(name="broken", error="no such function")
        await chat.send("timeout")  # returns at once: waiting on the page is idle
        await asyncio.wait_for(timed_out.wait(), 5)
        assert chat.call_fns == []
    assert seen == ["no such function", None]


async def test_bad_token_counts_are_refused() -> None:
    app = App("tokens")
    refused: list[str] = []
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            for bad in (-1, 1.5, True):
                try:
                    await cl.context.emitter.update_token_count(bad)  # type: ignore[arg-type]
                except ValueError as exc:
                    refused.append(str(exc))
            await cl.context.emitter.update_token_count(7)

    async with ChatTestClient(app) as chat:
        await chat.send("x")
        assert chat.token_count == 7
    assert len(refused) == 3
    assert all("token count must be a non-negative int" in r for r in refused)
