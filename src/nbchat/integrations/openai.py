"""`cl.instrument_openai()`: every OpenAI API call made inside a chat becomes an `llm` step.

    cl.instrument_openai()
    client = AsyncOpenAI()

    @cl.on_message
    async def on_message(msg: cl.Message):
        stream = await client.chat.completions.create(model="gpt-4.1-mini", stream=True,
                                                      messages=[...])

Chat completions and the Responses API, sync and async clients, plain and streamed
(`stream=True`), tool calls included: the step shows the request's messages as its input
and streams the answer's text; it closes with `ChatGeneration` metadata (model, messages,
the completion, token counts, duration, time to first token, the request's settings and
tools). Calls outside a chat, and `with_raw_response` calls, are not traced.

It wraps the `create` methods of the openai library's resource classes, once per process
(calling it again does nothing), so clients made before or after are traced alike.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from nbchat.integrations.llm_call import (
    AsyncTracedStream,
    ChatChunks,
    LlmCall,
    TracedStream,
    as_dict,
    chat_messages,
    chat_usage,
    plain,
)

__all__ = ["instrument_openai"]

PROVIDER = "openai"
_RAW = "X-Stainless-Raw-Response"
_done = False


def _traced(kwargs: Mapping[str, Any]) -> bool:
    headers = kwargs.get("extra_headers")
    return not (isinstance(headers, Mapping) and _RAW.lower() in {str(k).lower() for k in headers})


# ------------------------------------------------------------------ chat completions


def _chat_message(completion: Any) -> tuple[dict[str, Any], str | None, Any]:
    choices = getattr(completion, "choices", None) or []
    message = as_dict(choices[0].message) if choices else {}
    return message, getattr(completion, "model", None), getattr(completion, "usage", None)


class _ChatCall:
    """How a chat.completions.create call is read."""

    @staticmethod
    def begin(kwargs: Mapping[str, Any]) -> LlmCall | None:
        return LlmCall.begin(PROVIDER, kwargs, chat_messages(kwargs.get("messages")))

    @staticmethod
    def result(call: LlmCall, result: Any) -> None:
        message, model, usage = _chat_message(result)
        call.finish(message, model=model, usage=chat_usage(usage))

    @staticmethod
    def stream(call: LlmCall) -> tuple[Callable[[Any], None], Callable[[Any], None]]:
        chunks = ChatChunks(call)
        return chunks.add, chunks.finish


# ------------------------------------------------------------------ Responses API


def _response_input(kwargs: Mapping[str, Any]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    instructions = kwargs.get("instructions")
    if isinstance(instructions, str) and instructions:
        messages.append({"role": "system", "content": instructions})
    given = kwargs.get("input")
    if isinstance(given, str):
        messages.append({"role": "user", "content": given})
    elif isinstance(given, list | tuple):
        messages.extend(as_dict(item) for item in given)
    return messages


def _response_message(response: Any) -> dict[str, Any]:
    """A Response as one assistant message: its text, and its function calls as tool calls."""
    tool_calls = [{"id": getattr(item, "call_id", None), "type": "function",
                   "function": {"name": item.name, "arguments": item.arguments}}
                  for item in getattr(response, "output", None) or ()
                  if getattr(item, "type", None) == "function_call"]
    text = getattr(response, "output_text", None)
    return {"role": "assistant", "content": text if isinstance(text, str) else None,
            "tool_calls": tool_calls or None}


def _response_usage(response: Any) -> tuple[int | None, int | None, int | None]:
    usage = getattr(response, "usage", None)
    if usage is None:
        return (None, None, None)
    return (getattr(usage, "input_tokens", None), getattr(usage, "output_tokens", None),
            getattr(usage, "total_tokens", None))


def _finish_response(call: LlmCall, response: Any, error: BaseException | str | None) -> None:
    failure = getattr(response, "error", None)
    if error is None and failure is not None:
        error = str(getattr(failure, "message", None) or plain(failure))
    call.finish(_response_message(response), model=getattr(response, "model", None),
                usage=_response_usage(response), error=error)


class _ResponseCall:
    """How a responses.create call is read."""

    @staticmethod
    def begin(kwargs: Mapping[str, Any]) -> LlmCall | None:
        return LlmCall.begin(PROVIDER, kwargs, _response_input(kwargs))

    @staticmethod
    def result(call: LlmCall, result: Any) -> None:
        _finish_response(call, result, None)

    @staticmethod
    def stream(call: LlmCall) -> tuple[Callable[[Any], None], Callable[[Any], None]]:
        final: list[Any] = []

        def on_event(event: Any) -> None:
            kind = getattr(event, "type", "")
            if kind == "response.output_text.delta":
                call.token(event.delta)
            elif kind in ("response.completed", "response.failed", "response.incomplete"):
                final.append(event.response)

        def on_end(error: BaseException | None) -> None:
            if final:
                _finish_response(call, final[-1], error)
            else:
                call.finish({"role": "assistant"},
                            error=error or "the stream ended before the response completed")

        return on_event, on_end


# ------------------------------------------------------------------ wrapping


def wrap_create(original: Callable[..., Any], reader: Any, *, is_async: bool,
                stream_key: str | None = "stream") -> Callable[..., Any]:
    """`original` (a resource's create method) traced by `reader` (begin, result, stream).
    Its result is a stream when `kwargs[stream_key]` is True; with `stream_key=None`,
    always (a method that only streams)."""

    def streams(kwargs: Mapping[str, Any]) -> bool:
        return stream_key is None or kwargs.get(stream_key) is True

    if is_async:
        @functools.wraps(original)
        async def acreate(self: Any, *args: Any, **kwargs: Any) -> Any:
            call = reader.begin(kwargs) if _traced(kwargs) else None
            if call is None:
                return await original(self, *args, **kwargs)
            try:
                result = await original(self, *args, **kwargs)
            except BaseException as exc:
                call.finish({}, error=exc)
                raise
            if streams(kwargs):
                return AsyncTracedStream(result, *reader.stream(call))
            reader.result(call, result)
            return result

        return acreate

    @functools.wraps(original)
    def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        call = reader.begin(kwargs) if _traced(kwargs) else None
        if call is None:
            return original(self, *args, **kwargs)
        try:
            result = original(self, *args, **kwargs)
        except BaseException as exc:
            call.finish({}, error=exc)
            raise
        if streams(kwargs):
            return TracedStream(result, *reader.stream(call))
        reader.result(call, result)
        return result

    return create


def instrument_openai() -> None:
    """Trace every OpenAI call made inside a chat as an `llm` step (see the module doc)."""
    global _done
    if _done:
        return
    from openai.resources.chat.completions import AsyncCompletions, Completions
    from openai.resources.responses import AsyncResponses, Responses

    for cls, reader, is_async in ((Completions, _ChatCall, False),
                                  (AsyncCompletions, _ChatCall, True),
                                  (Responses, _ResponseCall, False),
                                  (AsyncResponses, _ResponseCall, True)):
        cls.create = wrap_create(cls.create, reader, is_async=is_async)  # type: ignore[method-assign]
    _done = True
