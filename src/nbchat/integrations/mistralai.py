"""`cl.instrument_mistralai()`: every Mistral chat call made inside a chat becomes an `llm`
step, as `cl.instrument_openai()` does for OpenAI (same metadata, same rules).

    cl.instrument_mistralai()
    client = Mistral(api_key=...)

    @cl.on_message
    async def on_message(msg: cl.Message):
        stream = await client.chat.stream_async(model="mistral-small-latest", messages=[...])

`chat.complete`, `chat.complete_async`, `chat.stream` and `chat.stream_async` are traced
(tool calls included); the step streams the answer's text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from nbchat.integrations.llm_call import ChatChunks, LlmCall, chat_messages
from nbchat.integrations.openai import _ChatCall, wrap_create

__all__ = ["instrument_mistralai"]

PROVIDER = "mistralai"
_done = False


class _MistralChat:
    """How a Mistral chat call is read: OpenAI's chat shapes; stream items carry the
    chunk in `.data`."""

    @staticmethod
    def begin(kwargs: Mapping[str, Any]) -> LlmCall | None:
        return LlmCall.begin(PROVIDER, kwargs, chat_messages(kwargs.get("messages")))

    result = _ChatCall.result

    @staticmethod
    def stream(call: LlmCall) -> tuple[Callable[[Any], None], Callable[[Any], None]]:
        chunks = ChatChunks(call)
        return (lambda event: chunks.add(getattr(event, "data", event))), chunks.finish


def instrument_mistralai() -> None:
    """Trace every Mistral chat call made inside a chat as an `llm` step."""
    global _done
    if _done:
        return
    from mistralai.client.chat import Chat

    Chat.complete = wrap_create(Chat.complete, _MistralChat, is_async=False,  # type: ignore[method-assign]
                                stream_key="stream")
    Chat.complete_async = wrap_create(Chat.complete_async, _MistralChat,  # type: ignore[method-assign]
                                      is_async=True, stream_key="stream")
    Chat.stream = wrap_create(Chat.stream, _MistralChat, is_async=False,  # type: ignore[method-assign]
                              stream_key=None)
    Chat.stream_async = wrap_create(Chat.stream_async, _MistralChat,  # type: ignore[method-assign]
                                    is_async=True, stream_key=None)
    _done = True
