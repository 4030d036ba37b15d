"""The OpenAI Agents SDK's traces as nbchat steps: `cl.OpenAIAgentsTracingProcessor`.

    from agents import Agent, Runner, set_trace_processors

    set_trace_processors([cl.OpenAIAgentsTracingProcessor()])   # once; or add_trace_processor

    @cl.on_message
    async def on_message(msg: cl.Message):
        result = await Runner.run(agent, msg.content)
        await cl.Message(content=result.final_output).send()

A run (a trace) is a `run` step; inside it, each agent is a `run` step, each model call
(a Responses or chat-completions span) an `llm` step with `ChatGeneration` metadata (model,
messages, the completion, tokens), each function tool a `tool` step (arguments in, result
out), handoffs and guardrails `run` steps; they nest as the SDK's spans do. Runs started
outside a chat are left alone. The SDK calls the processor in the run's own task (or a
task it started from it), so each step finds its chat in the context.
"""

from __future__ import annotations

import json
from typing import Any

from agents.tracing import Span, Trace, TracingProcessor

from nbchat.generation import ChatGeneration
from nbchat.ids import utc_now
from nbchat.integrations.llm_call import as_dict, plain
from nbchat.integrations.openai import _response_message, _response_usage
from nbchat.runtime.context import current_session, current_step
from nbchat.step import Step

__all__ = ["OpenAIAgentsTracingProcessor"]

# Spans not shown: the run's task (the trace is shown already) and each turn of an agent;
# what they contain attaches to the nearest shown ancestor.
HIDDEN = frozenset({"task", "turn"})
STEP_TYPES = {"agent": "run", "response": "llm", "generation": "llm", "function": "tool",
              "handoff": "run", "guardrail": "run", "mcp_tools": "tool", "custom": "undefined"}


def _name(data: Any) -> str:
    kind = data.type
    if kind == "handoff":
        return f"handoff → {data.to_agent or '?'}"
    if kind == "response":
        response = data.response
        return str(getattr(response, "model", None) or "response")
    if kind == "generation":
        return str(data.model or "generation")
    if kind == "mcp_tools":
        return f"list tools ({data.server or 'mcp'})"
    return str(getattr(data, "name", None) or kind)


def _messages(given: Any, instructions: Any = None) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if isinstance(instructions, str) and instructions:
        messages.append({"role": "system", "content": instructions})
    if isinstance(given, str):
        messages.append({"role": "user", "content": given})
    else:
        messages.extend(as_dict(item) for item in given or ())
    return messages


def _generation(data: Any) -> ChatGeneration | None:
    if data.type == "response" and data.response is not None:
        response = data.response
        tokens = _response_usage(response)
        return ChatGeneration(
            provider="openai", model=getattr(response, "model", None),
            messages=_messages(data.input, getattr(response, "instructions", None)),
            message_completion={k: v for k, v in _response_message(response).items()
                                if v is not None},
            input_token_count=tokens[0], output_token_count=tokens[1], token_count=tokens[2])
    if data.type == "generation":
        usage = data.usage or {}
        output = [as_dict(o) for o in data.output or ()]
        return ChatGeneration(
            provider="openai", model=data.model, messages=_messages(data.input),
            settings=plain(dict(data.model_config or {})), message_completion=(
                output[0] if output else None),
            input_token_count=usage.get("input_tokens"),
            output_token_count=usage.get("output_tokens"))
    return None


def _output(data: Any, generation: ChatGeneration | None) -> Any:
    if generation is not None and generation.message_completion:
        completion = generation.message_completion
        return completion.get("content") or completion.get("tool_calls")
    if data.type == "function":
        return data.output
    if data.type == "guardrail":
        return {"triggered": data.triggered}
    if data.type == "custom":
        return plain(data.data)
    return None


class OpenAIAgentsTracingProcessor(TracingProcessor):
    """An Agents SDK `TracingProcessor` that shows traces and spans as nbchat steps."""

    def __init__(self) -> None:
        self._steps: dict[str, tuple[Any, Step]] = {}  # trace or span id -> (session, step)
        self._hidden: dict[str, str | None] = {}  # a hidden span's id -> its parent's

    def _open(self, key: str, parent_key: str | None, name: str, step_type: str) -> None:
        session = current_session.get()
        if session is None or session.closed:
            return
        while parent_key in self._hidden:
            parent_key = self._hidden[parent_key]
        parent = self._steps.get(parent_key) if parent_key else None
        here = current_step.get()
        parent_id = parent[1].id if parent is not None else (here.id if here else None)
        step = Step(name=name, type=step_type, parent_id=parent_id)
        step.start = utc_now()
        step.thread_id = session.thread_id
        self._steps[key] = (session, step)
        session.step_changed(step)

    def _close(self, key: str) -> Step | None:
        entry = self._steps.pop(key, None)
        if entry is None:
            return None
        session, step = entry
        step.end = utc_now()
        session.step_changed(step)
        return step

    def on_trace_start(self, trace: Trace) -> None:
        """A run starts: its `run` step opens (inside a chat only)."""
        self._open(trace.trace_id, None, trace.name or "Agent workflow", "run")

    def on_trace_end(self, trace: Trace) -> None:
        """A run ends: its step closes."""
        self._close(trace.trace_id)

    def on_span_start(self, span: Span[Any]) -> None:
        """An agent, model call, tool, handoff or guardrail starts: its step opens."""
        data = span.span_data
        if data.type in HIDDEN:
            self._hidden[span.span_id] = span.parent_id or span.trace_id
            return
        self._open(span.span_id, span.parent_id or span.trace_id, _name(data),
                   STEP_TYPES.get(data.type, "undefined"))
        entry = self._steps.get(span.span_id)
        if entry is not None and data.type == "function" and data.input:
            entry[1].input = data.input

    def on_span_end(self, span: Span[Any]) -> None:
        """It ends: its step closes with its input, output, generation or error."""
        self._hidden.pop(span.span_id, None)
        entry = self._steps.get(span.span_id)
        if entry is None:
            return
        step, data = entry[1], span.span_data
        step.name = _name(data)
        generation = _generation(data)
        if generation is not None:
            step.generation = generation
            step.input = json.dumps(generation.messages, ensure_ascii=False, default=str)
        elif data.type == "function" and data.input:
            step.input = data.input
        output = _output(data, generation)
        if output is not None:
            step.output = output
        error = span.error
        if error:
            step.is_error = True
            step.output = str(error.get("message") or "error")
            if generation is not None:
                generation.error = step.output
        self._close(span.span_id)

    def shutdown(self) -> None:
        """Forget open runs (the SDK's shutdown)."""
        self._steps.clear()
        self._hidden.clear()

    def force_flush(self) -> None:
        """Steps are sent as they change; nothing is buffered here."""
