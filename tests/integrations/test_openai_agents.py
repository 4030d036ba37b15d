"""OpenAIAgentsTracingProcessor: a real OpenAI Agents SDK run (an agent with a function
tool) against the local server speaking the Responses API (llm_server.py), traced into a
real chat session. Nothing of the SDK or the client is patched."""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pytest
from agents import Agent, OpenAIResponsesModel, Runner, function_tool, set_trace_processors
from openai.types.responses import ResponseTextDeltaEvent

import nbchat as cl
from integrations.llm_server import ANSWER, LlmServer
from nbchat.app import App, registering_on
from nbchat.config import Config, DataConfig
from nbchat.testing import ChatTestClient
from nbchat.types import StepDict

CALLS: list[str] = []


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    CALLS.append(city)
    return f"Rain in {city}, 12 °C."


@pytest.fixture(scope="module")
def server() -> Iterator[LlmServer]:
    set_trace_processors([cl.OpenAIAgentsTracingProcessor()])
    with LlmServer() as running:
        yield running
    set_trace_processors([])


def weather_agent(server: LlmServer) -> Agent:
    client = openai.AsyncOpenAI(base_url=f"{server.url}/v1", api_key="test", max_retries=0)
    return Agent(name="Forecaster", instructions="Answer about the weather.",
                 model=OpenAIResponsesModel(model="gpt-test", openai_client=client),
                 tools=[get_weather])


async def chat(server: LlmServer, streamed: bool) -> ChatTestClient:
    agent = weather_agent(server)
    app = App("agents")
    with registering_on(app):

        @cl.on_message
        async def on_message(msg: cl.Message) -> None:
            if not streamed:
                result = await Runner.run(agent, msg.content)
                await cl.Message(content=str(result.final_output)).send()
                return
            reply = cl.Message(content="")
            run = Runner.run_streamed(agent, msg.content)
            async for event in run.stream_events():
                if event.type == "raw_response_event" and isinstance(event.data,
                                                                     ResponseTextDeltaEvent):
                    await reply.stream_token(event.data.delta)
            await reply.send()

    async with ChatTestClient(app, config=Config(data=DataConfig(enabled=False)),
                              timeout=30) as client:
        await client.send("weather in Paris?")
    return client


def children(client: ChatTestClient, parent: StepDict) -> list[StepDict]:
    return [s for s in client.steps if s["parentId"] == parent["id"]]


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_run_with_a_tool_becomes_nested_steps(server: LlmServer, streamed: bool) -> None:
    CALLS.clear()
    client = await chat(server, streamed)
    assert CALLS == ["Paris"]
    (workflow,) = [s for s in client.steps if s["parentId"] is None and s["type"] == "run"]
    (agent,) = children(client, workflow)
    assert (agent["type"], agent["name"]) == ("run", "Forecaster")
    kinds = [(s["type"], s["name"]) for s in children(client, agent)]
    assert kinds == [("llm", "gpt-test"), ("tool", "get_weather"), ("llm", "gpt-test")], kinds
    first, tool, second = children(client, agent)
    assert json.loads(tool["input"]) == {"city": "Paris"}
    assert tool["output"] == "Rain in Paris, 12 °C."
    assert first["generation"] is not None
    assert second["generation"] is not None
    call = first["generation"]["messageCompletion"]["tool_calls"][0]
    assert call["function"]["name"] == "get_weather"
    assert first["generation"]["messages"][0] == {"role": "system",
                                                  "content": "Answer about the weather."}
    assert second["output"] == ANSWER
    assert second["generation"]["inputTokenCount"] == 12
    assert all(s["end"] is not None for s in (workflow, agent, first, tool, second))
    assert client.messages[-1]["output"] == ANSWER


async def test_runs_outside_a_chat_are_not_shown(server: LlmServer) -> None:
    CALLS.clear()
    result = await Runner.run(weather_agent(server), "weather in Paris?")
    assert result.final_output == ANSWER
    assert CALLS == ["Paris"]
