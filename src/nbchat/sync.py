"""Between blocking code and the chat's event loop, as Chainlit's `chainlit.sync`.

    text = run_sync(cl.AskUserMessage("Name?").send())   # from a worker thread
    result = await make_async(blocking_call)(arg)          # from a callback

`make_async` runs a blocking function in a worker thread; `run_sync`, called in such a
thread, runs a coroutine on the chat's event loop and waits for its result (what a sync
library callback needs to send a message or ask the user).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from typing import Any, TypeVar

from nbchat.runtime.context import current_session

T = TypeVar("T")
# The loop of the callback that started the worker thread (copied into it with the context).
chat_loop: ContextVar[asyncio.AbstractEventLoop | None] = ContextVar(
    "nbchat_chat_loop", default=None)


def make_async(func: Callable[..., T]) -> Callable[..., Coroutine[Any, Any, T]]:
    """Wrap a blocking function so awaiting it runs it in a worker thread."""

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> T:
        chat_loop.set(asyncio.get_running_loop())  # in this task's context: the thread's copy
        return await asyncio.to_thread(func, *args, **kwargs)

    return wrapper


# Chainlit's `chainlit.sync` re-exports asyncer's `asyncify` under both names.
asyncify = make_async


def _loop_of_chat() -> asyncio.AbstractEventLoop | None:
    loop = chat_loop.get()
    if loop is not None:
        return loop
    session = current_session.get()
    # A thread started with asyncio.to_thread inside a callback has the session but not
    # chat_loop: the session's emitter knows the loop it runs on.
    emitter = getattr(session, "emitter", None)
    found = getattr(emitter, "_loop", None)
    return found if isinstance(found, asyncio.AbstractEventLoop) else None


def run_sync(co: Coroutine[Any, Any, T]) -> T:
    """Run `co` on the chat's event loop from a worker thread and return its result.

    Outside any chat and any loop, it runs `co` on a new loop (a script). On the event
    loop's own thread it cannot wait without blocking that loop: RuntimeError, await
    the coroutine instead."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        co.close()
        raise RuntimeError(
            "run_sync() was called on the event loop's thread, where waiting would block "
            "the chat: `await` the coroutine there, or call run_sync from a thread started "
            "with cl.make_async")
    loop = _loop_of_chat()
    if loop is None or loop.is_closed():
        return asyncio.run(co)
    return asyncio.run_coroutine_threadsafe(co, loop).result()
