"""LLM generation metadata attached to `llm` steps (Chainlit / Literal AI shapes)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal, TypedDict


class GenerationMessage(TypedDict, total=False):
    """One message of a chat generation's prompt (Literal AI's shape, re-exported by
    Chainlit 2.x as `cl.GenerationMessage`): a dict with these keys, all optional."""

    uuid: str | None
    templated: bool | None
    name: str | None
    role: Literal["user", "assistant", "tool", "function", "system"] | None
    content: str | list[dict[str, Any]] | None
    function_call: dict[str, Any] | None
    tool_calls: list[dict[str, Any]] | None
    tool_call_id: str | None
    placeholderSize: int | None


@dataclass
class BaseGeneration:
    """Metadata of an LLM call shared by chat and completion generations."""

    provider: str | None = None
    model: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    tools: list[dict[str, Any]] | None = None
    input_token_count: int | None = None
    output_token_count: int | None = None
    token_count: int | None = None
    duration: float | None = None
    tt_first_token: float | None = None
    token_throughput_in_s: float | None = None
    error: str | None = None
    tags: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The generation with Literal AI's camelCase keys, None values left out."""
        # Shallow (dataclasses.asdict deep-copies every message: most of an instrumented
        # call's cost); the event is serialized at the next flush, nothing mutates it.
        data = {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}
        # Literal AI's camelCase keys, so exported history reads the same as Chainlit's.
        renames = {
            "input_token_count": "inputTokenCount",
            "output_token_count": "outputTokenCount",
            "token_count": "tokenCount",
            "tt_first_token": "ttFirstToken",
            "token_throughput_in_s": "tokenThroughputInSeconds",
            "message_completion": "messageCompletion",
        }
        return {renames.get(k, k): v for k, v in data.items()}


@dataclass
class ChatGeneration(BaseGeneration):
    """A chat model call: `messages` are {role, content} dicts, roles user/assistant/…"""

    messages: list[dict[str, Any]] = field(default_factory=list)
    message_completion: dict[str, Any] | None = None
    type: str = "CHAT"


@dataclass
class CompletionGeneration(BaseGeneration):
    """A completion model call: the `prompt` and the `completion` text."""

    prompt: str | None = None
    completion: str | None = None
    type: str = "COMPLETION"
