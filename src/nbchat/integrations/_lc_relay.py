"""Run a callback handler's updates on the chat's event loop thread, in call order.

Steps and the emitter belong to the event loop and are not thread-safe. LangChain calls a
handler on the loop for async runs, but in its own threads for sync runs (`invoke`,
`stream`, `batch`, executors). Calls on the loop thread run at once; calls from other
threads are queued and applied on the loop by `_drain`. Starts and ends wake the loop at
once (`loop.call_soon_threadsafe`); tokens wake it at most once per `token_delay` (half the
emitter's flush interval: the chat shows tokens no faster anyway), so a sync stream costs
a loop wake-up per burst, not per token. Consecutive tokens of one run queued meanwhile
merge into one update.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar
from uuid import UUID

from nbchat.runtime.context import current_session
from nbchat.runtime.session import ChatSession

T = TypeVar("T")
Op = Callable[..., None]
TokenOp = Callable[[UUID, str, float, int], None]


def run_now(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (sending, updating or streaming into a step
    that is already shown) to its end, right here. Raises if it would wait. A bare yield
    (`asyncio.sleep(0)`: stream_token and update let the loop flush) is passed over: the
    callback returns to the loop soon anyway."""
    while True:
        try:
            waited = coro.send(None)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        if waited is not None:  # a future: real waiting
            coro.close()
            raise RuntimeError("a step operation waited on I/O; it cannot run from a callback")


class _Tokens:
    """Tokens of one run queued by a thread, not yet applied."""

    __slots__ = ("count", "first", "parts", "run_id")

    def __init__(self, run_id: UUID, text: str, first: float) -> None:
        self.run_id = run_id
        self.parts = [text]
        self.first = first
        self.count = 1


class LoopRelay:
    """Must be made on the loop thread, inside the session (it keeps the context)."""

    def __init__(self, session: ChatSession, loop: asyncio.AbstractEventLoop,
                 token_op: TokenOp) -> None:
        self.session = session
        self.loop = loop
        self.thread = threading.get_ident()
        self.context = contextvars.copy_context()
        self._token_op = token_op
        self._pending: list[tuple[Op, tuple[Any, ...]] | _Tokens] = []
        self._lock = threading.Lock()
        self._wake_now = False     # a drain is scheduled to run at once
        self._wake_later = False   # a drain is scheduled to run after token_delay
        self.token_delay = session.emitter.interval / 2

    def call(self, op: Op, *args: Any) -> None:
        """`op(*args)` on the loop thread, within the session, after every earlier call."""
        if threading.get_ident() == self.thread:
            self._here(op, args)
            return
        with self._lock:
            self._pending.append((op, args))
            if self._wake_now:
                return
            self._wake_now = True
        self.loop.call_soon_threadsafe(self._drain, context=self.context)

    def token(self, run_id: UUID, text: str, now: float) -> None:
        """`token_op(run_id, text, now, 1)`, merged with the tokens queued just before."""
        if threading.get_ident() == self.thread:
            self._here(self._token_op, (run_id, text, now, 1))
            return
        with self._lock:
            pending = self._pending
            last = pending[-1] if pending else None
            if isinstance(last, _Tokens) and last.run_id == run_id:
                last.parts.append(text)
                last.count += 1
                return
            pending.append(_Tokens(run_id, text, now))
            if self._wake_now or self._wake_later:
                return
            self._wake_later = True
        self.loop.call_soon_threadsafe(self._drain_later, context=self.context)

    def _drain_later(self) -> None:
        self.loop.call_later(self.token_delay, self._drain, context=self.context)

    def _here(self, op: Op, args: tuple[Any, ...]) -> None:
        if self._pending:  # what threads queued before comes first
            self._drain()
        if current_session.get() is self.session:
            op(*args)
        else:
            self.context.run(op, *args)

    def _drain(self) -> None:
        if current_session.get() is not self.session:
            self.context.run(self._drain)
            return
        with self._lock:
            batch, self._pending = self._pending, []
            self._wake_now = self._wake_later = False
        for item in batch:
            if isinstance(item, _Tokens):
                self._token_op(item.run_id, "".join(item.parts), item.first, item.count)
            else:
                item[0](*item[1])
