"""`cl.chat(fn)`: a plain function as the app's `on_message`, for a one-line prototype.

    def echo(message, history):          # history: [{"role", "content"}], oldest first
        return f"You said {message}"

    async def stream(message, history):  # an (async) generator streams what it yields
        for word in message.split():
            yield word + " "

    cl.chat(stream)

What `fn` returns is the reply (a string, or anything else shown as `str(...)`; None sends
nothing); what it yields is streamed token by token into one reply. A sync function or
generator runs in a worker thread, so a blocking model call does not freeze other chats.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from nbchat.message import Message, chat_context

Respond = Callable[[str, list[dict[str, str]]], Any]
_DONE = object()


def responder(fn: Respond) -> Callable[[Message], Awaitable[None]]:
    """An `on_message` callback that answers with `fn(message.content, history)`."""
    if not callable(fn):
        raise TypeError(f"cl.chat() takes an App or a function fn(message, history), "
                        f"not {type(fn).__name__}")

    async def on_message(message: Message) -> None:
        history = _history(message)
        if inspect.isasyncgenfunction(fn):
            await _stream(fn(message.content, history))
            return
        if inspect.iscoroutinefunction(fn):
            result = await fn(message.content, history)
        else:
            result = await asyncio.to_thread(fn, message.content, history)
        if inspect.isasyncgen(result):
            await _stream(result)
        elif inspect.isgenerator(result):
            await _stream(_threaded(result))
        elif isinstance(result, Message):
            await result.send()
        elif result is not None:
            await Message(content=result if isinstance(result, str) else str(result)).send()

    on_message.__qualname__ = on_message.__name__ = getattr(fn, "__name__", "on_message")
    return on_message


def _history(message: Message) -> list[dict[str, str]]:
    """The conversation before `message`, as OpenAI chat messages."""
    messages = chat_context.get()
    ids = [m.id for m in messages]
    before = chat_context.to_openai()
    return before[:ids.index(message.id)] if message.id in ids else before


async def _threaded(gen: Iterator[Any]) -> AsyncIterator[Any]:
    """A sync generator's items, each pulled in a worker thread."""
    while True:
        item = await asyncio.to_thread(next, gen, _DONE)
        if item is _DONE:
            return
        yield item


async def _stream(chunks: AsyncIterator[Any]) -> None:
    reply = Message(content="")
    async for chunk in chunks:
        if chunk is not None:
            await reply.stream_token(chunk if isinstance(chunk, str) else str(chunk))
    await reply.send()
