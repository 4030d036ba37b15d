"""LangGraph in a chat, human in the loop included: `await cl.run_graph(graph, input)`.

    graph = builder.compile(checkpointer=InMemorySaver())   # any checkpointer

    @cl.on_message
    async def on_message(msg: cl.Message):
        state = await cl.run_graph(graph, {"messages": [("user", msg.content)]})

The graph's nodes, LLM calls and tools are shown as steps (a `LangchainCallbackHandler`).
Each `interrupt(value)` a node raises is asked to the user, and the answer resumes the
graph with `Command(resume=answer)`:

- `interrupt("Which city?")`: an `AskUserMessage`; the answer is the reply's text.
- `interrupt({"question": "Run get_weather(Paris)?", "options": ["approve", "deny"]})`:
  an `AskActionMessage` with one button per option; the answer is the option chosen.
- any other value: shown as JSON, answered with text.

Several interrupts at once are asked in turn and resumed together (by interrupt id). The
checkpoint thread is the chat's thread id unless the config names one, so a chat resumed
later (`on_chat_resume`) continues the same graph thread with a persistent checkpointer.
An ask that times out leaves the graph interrupted; the state is returned as it is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from langgraph.types import Command

from nbchat.action import Action
from nbchat.ask import AskActionMessage, AskUserMessage
from nbchat.integrations.langchain import LangchainCallbackHandler
from nbchat.runtime.context import get_session

__all__ = ["run_graph"]

_NO_ANSWER = object()


async def _ask(value: Any, wait: float) -> Any:
    """Ask the user what `value` (an interrupt's payload) asks; _NO_ANSWER on timeout."""
    if isinstance(value, Mapping) and isinstance(value.get("options"), list | tuple):
        question = str(value.get("question") or value.get("content") or "Choose:")
        options = [str(o) for o in value["options"]]
        actions = [Action(name="interrupt_option", payload={"value": o}, label=o)
                   for o in options]
        chosen = await AskActionMessage(content=question, actions=actions,
                                        timeout=wait).send()
        return _NO_ANSWER if chosen is None else chosen["payload"]["value"]
    if isinstance(value, str):
        question = value
    elif isinstance(value, Mapping) and isinstance(value.get("question"), str):
        question = value["question"]
    else:
        question = "```json\n" + json.dumps(value, indent=2, default=str) + "\n```"
    reply = await AskUserMessage(content=question, timeout=wait).send()
    return _NO_ANSWER if reply is None else reply["output"]


def _interrupts(state: Any) -> list[Any]:
    if isinstance(state, Mapping):
        return list(state.get("__interrupt__") or ())
    return []


async def run_graph(graph: Any, input: Any, config: Mapping[str, Any] | None = None, *,
                    ask_timeout: float = 600, show_steps: bool = True) -> Any:
    """Run a compiled LangGraph graph until it ends, asking the user at each interrupt
    (see the module doc). Returns the graph's final state (`ainvoke`'s result)."""
    session = get_session("run_graph")
    settings: dict[str, Any] = dict(config or {})
    configurable = dict(settings.get("configurable") or {})
    configurable.setdefault("thread_id", session.thread_id)
    settings["configurable"] = configurable
    if show_steps:
        settings["callbacks"] = [*(settings.get("callbacks") or []), LangchainCallbackHandler()]
    payload = input
    while True:
        state = await graph.ainvoke(payload, settings)
        pending = _interrupts(state)
        if not pending:
            return state
        answers: dict[str, Any] = {}
        for item in pending:
            answer = await _ask(getattr(item, "value", item), ask_timeout)
            if answer is _NO_ANSWER:
                return state
            answers[str(getattr(item, "id", ""))] = answer
        payload = Command(resume=next(iter(answers.values())) if len(answers) == 1
                          else answers)
