"""cl.run_graph: a real LangGraph graph (InMemorySaver checkpointer) in a chat, its
interrupt() asked to the user and resumed with Command(resume=...)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, TypedDict

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.config import Config, DataConfig
from nbchat.testing import ChatTestClient


class State(TypedDict, total=False):
    city: str
    decision: str
    result: str


def build() -> Any:
    def ask_city(state: State) -> State:
        return {"city": interrupt("Which city?")}

    def approve(state: State) -> State:
        decision = interrupt({"question": f"Run get_weather({state['city']})?",
                              "options": ["approve", "deny"]})
        return {"decision": decision}

    def act(state: State) -> State:
        if state["decision"] != "approve":
            return {"result": "Not run."}
        return {"result": f"Rain in {state['city']}."}

    builder = StateGraph(State)
    builder.add_node("ask_city", ask_city)
    builder.add_node("approve", approve)
    builder.add_node("act", act)
    builder.add_edge(START, "ask_city")
    builder.add_edge("ask_city", "approve")
    builder.add_edge("approve", "act")
    builder.add_edge("act", END)
    return builder.compile(checkpointer=InMemorySaver())


def graph_app(graph: Any, results: list[Any]) -> App:
    app = App("graph")
    with registering_on(app):

        @cl.on_message
        async def on_message(_: cl.Message) -> None:
            state = await cl.run_graph(graph, {}, ask_timeout=30)
            results.append(state)
            await cl.Message(content=state.get("result", "(interrupted)")).send()

    return app


CONFIG = Config(data=DataConfig(enabled=False))


async def test_interrupts_are_asked_and_resume_the_graph() -> None:
    graph, results = build(), list[Any]()
    async with ChatTestClient(graph_app(graph, results), config=CONFIG) as client:
        await client.send("weather please")
        ask = client.pending_ask
        assert ask is not None
        assert ask["kind"] == "text"
        await client.answer("Paris")
        ask = client.pending_ask
        assert ask is not None
        assert ask["kind"] == "action"
        assert [a["label"] for a in ask["spec"]["actions"]] == ["approve", "deny"]
        approve = next(a for a in ask["spec"]["actions"] if a["label"] == "approve")
        await client.send_event({"type": "ask_response", "askId": ask["askId"],
                                 "actionId": approve["id"]})
        thread_id = client.session.thread_id
    assert results[-1]["result"] == "Rain in Paris."
    assert client.messages[-1]["output"] == "Rain in Paris."
    # The graph's nodes were shown as steps.
    names = {s["name"] for s in client.steps}
    assert {"ask_city", "approve", "act"} <= names
    # The checkpoint thread is the chat's.
    snapshot = graph.get_state({"configurable": {"thread_id": thread_id}})
    assert snapshot.values["decision"] == "approve"


async def test_deny_and_a_timed_out_ask_leaves_the_graph_interrupted() -> None:
    graph, results = build(), list[Any]()
    async with ChatTestClient(graph_app(graph, results), config=CONFIG) as client:
        await client.send("go")
        await client.answer("Oslo")
        ask = client.pending_ask
        assert ask is not None
        deny = next(a for a in ask["spec"]["actions"] if a["label"] == "deny")
        await client.send_event({"type": "ask_response", "askId": ask["askId"],
                                 "actionId": deny["id"]})
    assert results[-1]["result"] == "Not run."

    app = App("timeout")
    seen: list[Any] = []
    with registering_on(app):

        @cl.on_message
        async def on_message(_: cl.Message) -> None:
            seen.append(await cl.run_graph(build(), {}, ask_timeout=0.05))

    async with ChatTestClient(app, config=CONFIG) as client:
        await client.send("go")  # returns once the ask is pending
        await asyncio.wait_for(asyncio.gather(*client.session.tasks), 10)  # it times out
    assert "__interrupt__" in seen[0]
    assert "result" not in seen[0]


async def test_the_example_notebook_asks_before_its_tool_call() -> None:
    notebook = Path(__file__).parents[2] / "notebooks" / "langgraph.ipynb"
    async with ChatTestClient(notebook, config=CONFIG) as client:
        await client.send("What is the weather in Lyon?")
        ask = client.pending_ask
        assert ask is not None
        question = next(s for s in client.steps if s["id"] == ask["stepId"])
        assert "get_weather('Lyon')" in question["output"]
        approve = next(a for a in ask["spec"]["actions"] if a["label"] == "approve")
        await client.send_event({"type": "ask_response", "askId": ask["askId"],
                                 "actionId": approve["id"]})
    assert client.messages[-1]["output"] == "It is 14 °C and cloudy in Lyon."
