"""LangChain values to what steps show: messages with chat roles, documents, usage, names.

Pure functions, safe to call on any thread: the handler converts in the thread that runs
the callback and only hands plain data to the event loop.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.documents import Document
from langchain_core.messages import BaseMessage
from langchain_core.outputs import LLMResult
from langchain_core.prompt_values import ChatPromptValue, PromptValue
from pydantic import BaseModel

# LangChain message types to the roles chat APIs (and Literal AI's generations) use.
ROLES = {
    "human": "user",
    "ai": "assistant",
    "system": "system",
    "developer": "system",
    "tool": "tool",
    "function": "function",
}
# Invocation parameters that are not settings: shown elsewhere or internal.
NOT_SETTINGS = frozenset({"_type", "tools", "functions", "messages", "prompts"})


def role(message: BaseMessage) -> str:
    kind = message.type
    if kind.endswith("MessageChunk"):  # AIMessageChunk, HumanMessageChunk, …
        kind = kind[: -len("MessageChunk")].lower()
    if kind in ("chat", "chatmessage", "chat_message"):
        return str(getattr(message, "role", "user"))
    return ROLES.get(kind, kind)


def content_text(content: Any) -> str:
    """The text of a message content: a string, or a list of content blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, Mapping) and isinstance(block.get("text"), str):
                parts.append(block["text"])
        return "".join(parts)
    return "" if content is None else str(content)


def tool_calls(message: BaseMessage) -> list[dict[str, Any]]:
    """A message's tool calls in the chat-API shape {id, type, function{name, arguments}}."""
    calls = getattr(message, "tool_calls", None) or []
    return [
        {
            "id": call.get("id"),
            "type": "function",
            "function": {
                "name": call.get("name"),
                "arguments": json.dumps(call.get("args", {}), ensure_ascii=False, default=str),
            },
        }
        for call in calls
    ]


def message_dict(message: BaseMessage, role_name: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "role": role_name or role(message),
        "content": message.content if isinstance(message.content, str)
        else plain(message.content),
    }
    if message.name:
        data["name"] = message.name
    calls = tool_calls(message)
    if calls:
        data["tool_calls"] = calls
    tool_call_id = getattr(message, "tool_call_id", None)
    if tool_call_id:
        data["tool_call_id"] = tool_call_id
    return data


def plain(value: Any, depth: int = 0) -> Any:
    """Messages, documents, prompt values and models as JSON-friendly data."""
    if depth > 20 or value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, BaseMessage):
        return message_dict(value)
    if isinstance(value, Document):
        return {"page_content": value.page_content, "metadata": plain(value.metadata, depth + 1)}
    if isinstance(value, ChatPromptValue):
        return [message_dict(m) for m in value.messages]
    if isinstance(value, PromptValue):
        return value.to_string()
    if isinstance(value, Mapping):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, BaseModel):
        return plain(value.model_dump(), depth + 1)
    return value


def shown(value: Any) -> Any:
    """What a step shows for a run's input or output: the lone text of a one-key dict
    (`{"input": "hi"}` shows `hi`), else the value as plain data."""
    if isinstance(value, Mapping) and len(value) == 1:
        (only,) = value.values()
        if isinstance(only, str):
            return only
    if isinstance(value, BaseMessage) and not tool_calls(value):
        return content_text(value.content)
    return plain(value)


def run_name(serialized: Mapping[str, Any] | None, kwargs: Mapping[str, Any],
             default: str) -> str:
    name = kwargs.get("name")
    if name:
        return str(name)
    if serialized:
        if serialized.get("name"):
            return str(serialized["name"])
        ids = serialized.get("id")
        if isinstance(ids, list) and ids:
            return str(ids[-1])
    return default


def provider_model(params: Mapping[str, Any], metadata: Mapping[str, Any] | None,
                   ) -> tuple[str | None, str | None]:
    meta = metadata or {}
    provider = meta.get("ls_provider") or params.get("_type")
    model = (meta.get("ls_model_name") or params.get("model") or params.get("model_name")
             or params.get("model_id") or params.get("deployment_name"))
    return (str(provider) if provider else None), (str(model) if model else None)


def settings(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: plain(v) for k, v in params.items() if k not in NOT_SETTINGS and v is not None}


def tools(params: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    found = params.get("tools") or params.get("functions")
    if not isinstance(found, Sequence) or isinstance(found, str):
        return None
    return [plain(t) for t in found] or None


def usage(result: LLMResult) -> tuple[int | None, int | None, int | None]:
    """(input, output, total) token counts from usage metadata, or the provider's
    `llm_output["token_usage"]`; None where the model did not say."""
    for generations in result.generations:
        for generation in generations:
            meta = getattr(getattr(generation, "message", None), "usage_metadata", None)
            if meta:
                return meta.get("input_tokens"), meta.get("output_tokens"), \
                    meta.get("total_tokens")
    output = result.llm_output or {}
    counts = output.get("token_usage") or output.get("usage")
    if isinstance(counts, Mapping):
        inp = counts.get("prompt_tokens", counts.get("input_tokens"))
        out = counts.get("completion_tokens", counts.get("output_tokens"))
        total = counts.get("total_tokens")
        if total is None and inp is not None and out is not None:
            total = inp + out
        return inp, out, total
    return None, None, None


def documents_shown(documents: Sequence[Document]) -> list[dict[str, Any]]:
    return [plain(d) for d in documents]
