"""A step as OpenInference span attributes: the span kind from the step type, input and
output values, the chat's session and user, and for an `llm` step with generation
metadata its model, provider, messages, tools, invocation parameters and token counts.
(OpenInference is what Phoenix, Langfuse and Arize read; the keys are written out here
so that nbchat does not need the openinference package at run time.)"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["span_attributes", "span_kind"]

KINDS = {"llm": "LLM", "tool": "TOOL", "retrieval": "RETRIEVER", "embedding": "EMBEDDING",
         "rerank": "RERANKER", "run": "CHAIN", "assistant_message": "AGENT"}
AttributeValue = str | bool | int | float


def span_kind(step_type: str) -> str:
    return KINDS.get(step_type, "CHAIN")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _mime(text: str, language: str | None) -> str:
    if language == "json" or (text[:1] in "[{" and text[-1:] in "]}"):
        return "application/json"
    return "text/plain"


def _message(prefix: str, message: Mapping[str, Any], out: dict[str, AttributeValue]) -> None:
    if message.get("role"):
        out[f"{prefix}.message.role"] = str(message["role"])
    content = message.get("content")
    if isinstance(content, str):
        out[f"{prefix}.message.content"] = content
    elif content is not None:
        out[f"{prefix}.message.content"] = _json(content)
    if message.get("tool_call_id"):
        out[f"{prefix}.message.tool_call_id"] = str(message["tool_call_id"])
    for j, call in enumerate(message.get("tool_calls") or ()):
        base = f"{prefix}.message.tool_calls.{j}.tool_call"
        if isinstance(call, Mapping):
            function = call.get("function") or {}
            if call.get("id"):
                out[f"{base}.id"] = str(call["id"])
            out[f"{base}.function.name"] = str(function.get("name", ""))
            arguments = function.get("arguments", "")
            out[f"{base}.function.arguments"] = (
                arguments if isinstance(arguments, str) else _json(arguments))


def _generation(gen: Mapping[str, Any], content: bool, out: dict[str, AttributeValue]) -> None:
    if gen.get("model"):
        out["llm.model_name"] = str(gen["model"])
    if gen.get("provider"):
        out["llm.provider"] = str(gen["provider"])
    for key, name in (("inputTokenCount", "prompt"), ("outputTokenCount", "completion"),
                      ("tokenCount", "total")):
        if isinstance(gen.get(key), int):
            out[f"llm.token_count.{name}"] = gen[key]
    if gen.get("settings"):
        out["llm.invocation_parameters"] = _json(gen["settings"])
    if not content:
        return
    for i, message in enumerate(gen.get("messages") or ()):
        if isinstance(message, Mapping):
            _message(f"llm.input_messages.{i}", message, out)
    completion = gen.get("messageCompletion")
    if isinstance(completion, Mapping):
        _message("llm.output_messages.0", completion, out)
    for i, tool in enumerate(gen.get("tools") or ()):
        out[f"llm.tools.{i}.tool.json_schema"] = _json(tool)
    if isinstance(gen.get("prompt"), str):
        out["llm.prompts.0.prompt.text"] = gen["prompt"]


def span_attributes(step: Mapping[str, Any], *, thread_id: str, user_id: str | None,
                    content: bool) -> dict[str, AttributeValue]:
    """The attributes of the span that shows `step` (a StepDict as the events carry it)."""
    kind = span_kind(step["type"])
    out: dict[str, AttributeValue] = {
        "openinference.span.kind": kind, "session.id": thread_id,
        "nbchat.step.id": step["id"], "nbchat.step.type": step["type"],
    }
    if user_id:
        out["user.id"] = user_id
    if kind == "TOOL":
        out["tool.name"] = step["name"]
    if step.get("tags"):
        out["tag.tags"] = _json(step["tags"])
    if content:
        if step.get("metadata"):
            out["metadata"] = _json(step["metadata"])
        for key, value in (("input", step.get("input")), ("output", step.get("output"))):
            if isinstance(value, str) and value:
                out[f"{key}.value"] = value
                out[f"{key}.mime_type"] = _mime(value, step.get("language")
                                                if key == "output" else None)
    generation = step.get("generation")
    if isinstance(generation, Mapping):
        _generation(generation, content, out)
    return out
