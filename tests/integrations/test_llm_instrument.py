"""cl.instrument_openai() and cl.instrument_mistralai(): the vendors' real client libraries,
pointed by base URL at a local server speaking their wire formats (llm_server.py), inside
a real chat session (ChatTestClient). Nothing of the clients is patched by the tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from mistralai.client import Mistral

import nbchat as cl
from integrations.llm_server import ANSWER, TOKENS, TOOL_ARGS, LlmServer
from nbchat.app import App, registering_on
from nbchat.config import Config, DataConfig
from nbchat.testing import ChatTestClient
from nbchat.types import StepDict

MESSAGES: Any = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
WEATHER_QUESTION: Any = [{"role": "user", "content": "weather in Paris?"}]
RESPONSES_TOOL: Any = {"type": "function", "name": "get_weather",
                       "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}
WEATHER_TOOL: Any = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}

Body = Callable[[str], Awaitable[Any]]


@pytest.fixture(scope="module")
def server() -> Iterator[LlmServer]:
    cl.instrument_openai()
    cl.instrument_mistralai()
    with LlmServer() as running:
        yield running


async def run_chat(body: Body, text: str = "hi") -> ChatTestClient:
    """Send `text` to an app whose on_message runs `body(text)`; the client, closed."""
    app = App("llm")
    with registering_on(app):

        @cl.on_message
        async def on_message(msg: cl.Message) -> None:
            await body(msg.content)

    async with ChatTestClient(app, config=Config(data=DataConfig(enabled=False)),
                              timeout=30) as client:
        await client.send(text)
    return client


def llm_steps(client: ChatTestClient) -> list[StepDict]:
    return [s for s in client.steps if s["type"] == "llm"]


def the_llm_step(client: ChatTestClient) -> tuple[StepDict, Any]:
    (step,) = llm_steps(client)
    assert step["generation"] is not None
    return step, step["generation"]


def streamed(client: ChatTestClient, step_id: str) -> str:
    return "".join(e["delta"] for e in client.events if e["type"] == "token" and e["id"] == step_id)


def assert_answer(step: StepDict, gen: Any, provider: str = "openai") -> None:
    assert step["name"] == ("gpt-test" if provider == "openai" else "mistral-test")
    assert step["output"] == ANSWER
    assert step["end"] is not None
    assert not step["isError"]
    assert not step["streaming"]
    assert gen["provider"] == provider
    assert gen["messageCompletion"] == {"role": "assistant", "content": ANSWER}
    assert (gen["inputTokenCount"], gen["outputTokenCount"], gen["tokenCount"]) == (12, 5, 17)
    assert gen["duration"] > 0
    assert gen["type"] == "CHAT"


# ------------------------------------------------------------------ OpenAI chat completions


def openai_async(server: LlmServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{server.url}/v1", api_key="test", max_retries=0)


def openai_sync(server: LlmServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="test", max_retries=0)


async def test_an_async_chat_completion_is_an_llm_step_with_its_generation(
        server: LlmServer) -> None:
    async def body(_: str) -> None:
        reply = await openai_async(server).chat.completions.create(
            model="gpt-test", messages=MESSAGES, temperature=0.2)
        await cl.Message(content=reply.choices[0].message.content or "").send()

    client = await run_chat(body)
    step, gen = the_llm_step(client)
    assert_answer(step, gen)
    assert gen["messages"] == MESSAGES
    assert gen["settings"] == {"model": "gpt-test", "temperature": 0.2}
    assert json.loads(step["input"]) == MESSAGES
    assert "ttFirstToken" not in gen  # nothing streamed
    assert client.messages[-1]["output"] == ANSWER


async def test_an_async_stream_streams_into_the_step_with_time_to_first_token(
        server: LlmServer) -> None:
    async def body(_: str) -> None:
        stream = await openai_async(server).chat.completions.create(
            model="gpt-test", messages=MESSAGES, stream=True,
            stream_options={"include_usage": True})
        reply = cl.Message(content="")
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                await reply.stream_token(chunk.choices[0].delta.content)
        await reply.send()

    client = await run_chat(body)
    step, gen = the_llm_step(client)
    assert_answer(step, gen)
    assert streamed(client, step["id"]) == ANSWER
    assert 0 <= gen["ttFirstToken"] <= gen["duration"] * 1000
    assert gen["tokenThroughputInSeconds"] > 0
    assert client.messages[-1]["output"] == ANSWER


async def test_a_sync_client_in_a_worker_thread_is_traced_too(server: LlmServer) -> None:
    def call() -> str:
        stream = openai_sync(server).chat.completions.create(
            model="gpt-test", messages=MESSAGES, stream=True)
        with stream:
            return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    async def body(_: str) -> None:
        text = await asyncio.to_thread(call)
        await cl.Message(content=text).send()

    client = await run_chat(body)
    step, gen = the_llm_step(client)
    assert_answer(step, gen)
    assert streamed(client, step["id"]) == ANSWER


async def test_a_sync_call_on_the_loop_and_the_step_it_nests_in(server: LlmServer) -> None:
    async def body(_: str) -> None:
        async with cl.Step(name="agent", type="run"):
            openai_sync(server).chat.completions.create(model="gpt-test", messages=MESSAGES)

    client = await run_chat(body)
    step, gen = the_llm_step(client)
    assert_answer(step, gen)
    parent = next(s for s in client.steps if s["name"] == "agent")
    assert step["parentId"] == parent["id"]


@pytest.mark.parametrize("stream", [False, True])
async def test_tool_calls_are_the_completion(server: LlmServer, stream: bool) -> None:
    async def body(_: str) -> None:
        result: Any = await openai_async(server).chat.completions.create(
            model="gpt-test", messages=[{"role": "user", "content": "weather in Paris?"}],
            tools=[WEATHER_TOOL], stream=stream)
        if stream:
            async for _chunk in result:
                pass

    client = await run_chat(body)
    step, gen = the_llm_step(client)
    (call,) = gen["messageCompletion"]["tool_calls"]
    assert call["id"] == "call_1"
    assert call["function"] == {"name": "get_weather", "arguments": TOOL_ARGS}
    assert gen["tools"] == [WEATHER_TOOL]
    assert json.loads(step["output"])[0]["function"]["name"] == "get_weather"


async def test_a_failed_call_is_a_failed_step_and_still_raises(server: LlmServer) -> None:
    raised: list[BaseException] = []

    async def body(_: str) -> None:
        try:
            await openai_async(server).chat.completions.create(
                model="gpt-test", messages=[{"role": "user", "content": "fail please"}])
        except openai.InternalServerError as exc:
            raised.append(exc)

    client = await run_chat(body)
    step, gen = the_llm_step(client)
    assert raised
    assert step["isError"]
    assert "overloaded" in gen["error"]


async def test_calls_outside_a_chat_are_not_traced(server: LlmServer) -> None:
    reply = await openai_async(server).chat.completions.create(model="gpt-test",
                                                               messages=MESSAGES)
    assert reply.choices[0].message.content == ANSWER


async def test_with_raw_response_is_left_alone(server: LlmServer) -> None:
    async def body(_: str) -> None:
        raw = await openai_async(server).chat.completions.with_raw_response.create(
            model="gpt-test", messages=MESSAGES)
        assert raw.parse().choices[0].message.content == ANSWER

    client = await run_chat(body)
    assert llm_steps(client) == []
    assert not client.errors


# ------------------------------------------------------------------ OpenAI Responses API


@pytest.mark.parametrize("stream", [False, True])
async def test_the_responses_api_is_traced(server: LlmServer, stream: bool) -> None:
    async def body(_: str) -> None:
        result: Any = await openai_async(server).responses.create(
            model="gpt-test", instructions="Be brief.", input="hi", stream=stream)
        if stream:
            async for _event in result:
                pass

    client = await run_chat(body)
    step, gen = the_llm_step(client)
    assert gen["messages"] == MESSAGES
    assert gen["messageCompletion"] == {"role": "assistant", "content": ANSWER}
    assert step["output"] == ANSWER
    assert (gen["inputTokenCount"], gen["outputTokenCount"]) == (12, 5)
    if stream:
        assert streamed(client, step["id"]) == ANSWER
        assert "ttFirstToken" in gen


async def test_a_responses_function_call_and_a_sync_responses_stream(server: LlmServer) -> None:
    def call() -> None:
        events = openai_sync(server).responses.create(
            model="gpt-test", input=[{"role": "user", "content": "weather in Paris?"}],
            tools=[RESPONSES_TOOL], stream=True)
        for _ in events:
            pass

    async def body(_: str) -> None:
        await asyncio.to_thread(call)

    client = await run_chat(body)
    _, gen = the_llm_step(client)
    (tool_call,) = gen["messageCompletion"]["tool_calls"]
    assert tool_call["function"] == {"name": "get_weather", "arguments": TOOL_ARGS}


# ------------------------------------------------------------------ Mistral


def mistral(server: LlmServer) -> Mistral:
    return Mistral(api_key="test", server_url=server.url)


async def test_mistral_complete_async_and_stream_async(server: LlmServer) -> None:
    async def body(_: str) -> None:
        client = mistral(server)
        await client.chat.complete_async(model="mistral-test", messages=MESSAGES)
        stream = await client.chat.stream_async(model="mistral-test", messages=MESSAGES)
        async for _event in stream:
            pass

    client = await run_chat(body)
    plain_call, streamed_call = llm_steps(client)
    for step in (plain_call, streamed_call):
        assert step["generation"] is not None
        assert_answer(step, step["generation"], provider="mistralai")
    assert streamed(client, streamed_call["id"]) == ANSWER
    assert "ttFirstToken" in (streamed_call["generation"] or {})


async def test_mistral_sync_stream_with_a_tool_call(server: LlmServer) -> None:
    def call() -> None:
        with mistral(server).chat.stream(
                model="mistral-test", tools=[WEATHER_TOOL],
                messages=WEATHER_QUESTION) as events:
            for _ in events:
                pass

    async def body(_: str) -> None:
        await asyncio.to_thread(call)

    client = await run_chat(body)
    _, gen = the_llm_step(client)
    (tool_call,) = gen["messageCompletion"]["tool_calls"]
    assert tool_call["function"]["name"] == "get_weather"
    assert json.loads(tool_call["function"]["arguments"]) == {"city": "Paris"}
    assert len(TOKENS) == 5


async def test_the_example_notebook_traces_its_offline_model() -> None:
    notebook = Path(__file__).parents[2] / "notebooks" / "openai.ipynb"
    async with ChatTestClient(notebook, config=Config(data=DataConfig(enabled=False)),
                              timeout=30) as client:
        await client.send("What is the capital of France?")
    step, gen = the_llm_step(client)
    assert step["name"] == "scripted-4o"
    assert gen["messages"][1] == {"role": "user", "content": "What is the capital of France?"}
    assert (gen["inputTokenCount"], gen["outputTokenCount"]) == (9, 7)
    assert "ttFirstToken" in gen
    assert client.messages[-1]["output"] == "Paris is the capital of France."
