"""One LLM API call as an `llm` step: shown when the call starts, its tokens streamed in,
closed with `ChatGeneration` metadata (model, messages, completion, tokens, latency, time
to first token). Shared by `instrument_openai` and `instrument_mistralai`.

A call may run on the chat's event loop (an async client, or a sync one called from an
async callback) or in a worker thread (`cl.make_async`, `asyncio.to_thread`: the context,
hence the session and the current step, is copied there). Each call's step is touched by
that call's thread only; its events go through the session's emitter, which hands calls
from other threads to its loop in order.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

from nbchat.generation import ChatGeneration
from nbchat.ids import utc_now
from nbchat.runtime.context import current_session, current_step
from nbchat.step import Step

__all__ = ["AsyncTracedStream", "ChatChunks", "LlmCall", "TracedStream", "as_dict", "chat_messages",
           "chat_usage", "plain"]

# Request arguments that are the call's content or plumbing, not its settings.
NOT_SETTINGS = frozenset({"messages", "input", "instructions", "tools", "stream",
                          "stream_options", "extra_headers", "extra_query", "extra_body",
                          "timeout", "http_headers", "retries", "server_url"})


def plain(value: Any) -> Any:
    """A request or response value as JSON-ready data (SDK models are pydantic)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return plain(dump(mode="json", exclude_none=True))
    return str(value)


def as_dict(value: Any) -> dict[str, Any]:
    data = plain(value)
    return data if isinstance(data, dict) else {"value": data}


def _settings(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: plain(v) for k, v in kwargs.items()
            if k not in NOT_SETTINGS and v is not None and not callable(v)
            and type(v).__name__ not in ("NotGiven", "Omit", "Unset")}


class LlmCall:
    """The step of one call. `begin` returns None outside a chat: the call is not traced."""

    __slots__ = ("first_token", "generation", "session", "started", "step")

    def __init__(self, session: Any, step: Step, generation: ChatGeneration) -> None:
        self.session = session
        self.step = step
        self.generation = generation
        self.started = time.monotonic()
        self.first_token: float | None = None

    @classmethod
    def begin(cls, provider: str, kwargs: Mapping[str, Any],
              messages: list[dict[str, Any]]) -> LlmCall | None:
        session = current_session.get()
        if session is None or session.closed:
            return None
        model = kwargs.get("model")
        model = model if isinstance(model, str) else None
        tools = kwargs.get("tools")
        generation = ChatGeneration(
            provider=provider, model=model, settings=_settings(kwargs), messages=messages,
            tools=plain(tools) if isinstance(tools, list | tuple) and tools else None)
        parent = current_step.get()
        step = Step(name=model or provider, type="llm",
                    parent_id=parent.id if parent is not None else None)
        # Compact JSON (the C encoder; `indent` falls back to Python's, ~10x slower on a
        # long history); the UI lays JSON input out itself. The generation is attached
        # when the call ends.
        step._input = json.dumps(messages, ensure_ascii=False, default=str)
        step.start = utc_now()
        step.thread_id = session.thread_id
        session.step_changed(step)
        return cls(session, step, generation)

    def token(self, text: str) -> None:
        """One streamed piece of the answer's text."""
        if not text:
            return
        step = self.step
        if self.first_token is None:
            self.first_token = time.monotonic()
            step.streaming = True
            self.session.step_changed(step)
        step._parts.append(text)
        self.session.emitter.token(step.id, text)

    def finish(self, message: Mapping[str, Any], *, model: str | None = None,
               usage: tuple[int | None, int | None, int | None] = (None, None, None),
               error: BaseException | str | None = None) -> None:
        """Close the step: the completion message ({role, content, tool_calls}), usage as
        (input, output, total) tokens, or the error the call ended with."""
        step, gen = self.step, self.generation
        if step.end is not None:
            return
        ended = time.monotonic()
        gen.duration = ended - self.started
        if self.first_token is not None:
            gen.tt_first_token = (self.first_token - self.started) * 1000
        if model:
            gen.model = model
        gen.input_token_count, gen.output_token_count, gen.token_count = usage
        if gen.output_token_count and gen.duration > 0:
            gen.token_throughput_in_s = gen.output_token_count / gen.duration
        # (False: a vendor's default flag, like Mistral's `prefix`, says nothing here.)
        completion = {k: v for k, v in message.items()
                      if v is not False and v not in (None, [], "")}
        gen.message_completion = completion or None
        content = message.get("content")
        if isinstance(content, str) and content:
            step.output = content
        elif message.get("tool_calls"):
            step.output = message["tool_calls"]
        if error is not None:
            gen.error = error if isinstance(error, str) else (
                str(error) or type(error).__name__)
            step.is_error = True
            if not step.output:
                step.output = gen.error
        step.generation = gen
        step.streaming = False
        step.end = utc_now()
        self.session.step_changed(step)


class ChatChunks:
    """Streamed chat-completion chunks (OpenAI's and Mistral's shape), folded into the
    answer: text to the step as it comes, tool calls by index, usage, the model."""

    __slots__ = ("call", "model", "parts", "role", "tool_calls", "usage")

    def __init__(self, call: LlmCall) -> None:
        self.call = call
        self.parts: list[str] = []
        self.tool_calls: dict[int, dict[str, Any]] = {}
        self.usage: Any = None
        self.model: str | None = None
        self.role = "assistant"

    def add(self, chunk: Any) -> None:
        self.model = getattr(chunk, "model", None) or self.model
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.usage = usage
        for choice in getattr(chunk, "choices", None) or ():
            delta = getattr(choice, "delta", None)
            if delta is None:
                continue
            content = getattr(delta, "content", None)
            if isinstance(content, list):  # Mistral's content chunks
                content = "".join(getattr(c, "text", "") or "" for c in content)
            if isinstance(content, str) and content:
                self.parts.append(content)
                self.call.token(content)
            for call in getattr(delta, "tool_calls", None) or ():
                self._tool_delta(call)

    def _tool_delta(self, call: Any) -> None:
        index = getattr(call, "index", None)
        index = index if isinstance(index, int) else len(self.tool_calls)
        entry = self.tool_calls.setdefault(
            index, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}})
        if getattr(call, "id", None):
            entry["id"] = call.id
        function = getattr(call, "function", None)
        if function is not None:
            if getattr(function, "name", None):
                entry["function"]["name"] += function.name
            arguments = getattr(function, "arguments", None)
            if isinstance(arguments, str):
                entry["function"]["arguments"] += arguments
            elif arguments is not None:
                entry["function"]["arguments"] += json.dumps(plain(arguments))

    def finish(self, error: BaseException | None = None) -> None:
        message: dict[str, Any] = {"role": self.role, "content": "".join(self.parts)}
        if self.tool_calls:
            message["tool_calls"] = [self.tool_calls[i] for i in sorted(self.tool_calls)]
        self.call.finish(message, model=self.model, usage=chat_usage(self.usage), error=error)


def chat_usage(usage: Any) -> tuple[int | None, int | None, int | None]:
    """(prompt, completion, total) tokens of a chat-completions `usage`."""
    if usage is None:
        return (None, None, None)
    return (getattr(usage, "prompt_tokens", None), getattr(usage, "completion_tokens", None),
            getattr(usage, "total_tokens", None))


def chat_messages(messages: Iterable[Any] | None) -> list[dict[str, Any]]:
    """A chat request's messages as {role, content, …} dicts."""
    return [as_dict(m) for m in messages or ()]


class TracedStream:
    """A vendor's sync stream, passed through item by item; `on_item` sees each, `on_end`
    runs once when it is exhausted, fails, or is closed early. Everything else (`response`,
    `close`, the context manager) is the vendor stream's."""

    def __init__(self, inner: Any, on_item: Any, on_end: Any) -> None:
        self._inner = inner
        self._it = iter(inner)
        self._on_item = on_item
        self._on_end = on_end

    def __iter__(self) -> TracedStream:
        return self

    def __next__(self) -> Any:
        try:
            item = next(self._it)
        except StopIteration:
            self._on_end(None)
            raise
        except BaseException as exc:
            self._on_end(exc)
            raise
        self._on_item(item)
        return item

    def __enter__(self) -> TracedStream:
        enter = getattr(self._inner, "__enter__", None)
        if enter is not None:
            enter()
        return self

    def __exit__(self, *exc: Any) -> Any:
        self._on_end(exc[1])
        exit_ = getattr(self._inner, "__exit__", None)
        return exit_(*exc) if exit_ is not None else None

    def close(self) -> None:
        self._on_end(None)
        self._inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class AsyncTracedStream:
    """TracedStream for a vendor's async stream."""

    def __init__(self, inner: Any, on_item: Any, on_end: Any) -> None:
        self._inner = inner
        self._it = inner.__aiter__()
        self._on_item = on_item
        self._on_end = on_end

    def __aiter__(self) -> AsyncTracedStream:
        return self

    async def __anext__(self) -> Any:
        try:
            item = await self._it.__anext__()
        except StopAsyncIteration:
            self._on_end(None)
            raise
        except BaseException as exc:
            self._on_end(exc)
            raise
        self._on_item(item)
        return item

    async def __aenter__(self) -> AsyncTracedStream:
        enter = getattr(self._inner, "__aenter__", None)
        if enter is not None:
            await enter()
        return self

    async def __aexit__(self, *exc: Any) -> Any:
        self._on_end(exc[1])
        exit_ = getattr(self._inner, "__aexit__", None)
        return await exit_(*exc) if exit_ is not None else None

    async def close(self) -> None:
        self._on_end(None)
        await self._inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
