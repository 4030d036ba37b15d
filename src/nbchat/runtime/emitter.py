"""Outbound events: sequence numbers, token coalescing, replay buffer.

Every peer sends one wire frame per token; this emitter sends one token delta per step per
flush. Tokens wait at most `interval` seconds (or until `max_chars` are pending); any other
event first moves pending tokens ahead of itself, so order is kept, and is flushed on the
next loop iteration together with whatever else was emitted in the same iteration.

The token wait is kept by one clock per event loop and interval (`FlushClock`), not a
timer per session: a served process streams to hundreds of sessions at once, and one loop
timer with a queue of due emitters costs less than a timer armed, cancelled and fired per
session and flush (benchmarks/README.md, serve_load).

Under load the loop runs timers late, every streaming session adds about one token per
loop turn, and a flush per turn would be a frame per token: the most work when there is
least CPU for it. So when the clock fires late, the next waits stretch to a few times that
lateness (at most `STRETCH` intervals); they are back to `interval` once it runs on time
again. (Waits already queued keep their due time, so right after a stretch a token may wait
that stretched time once more.)

Everything here is synchronous and cheap: it runs once per streamed token. It belongs to
the event loop it was first used on; a call from another thread (a sync `@cl.step` run with
`asyncio.to_thread`, a LangChain callback in a worker) is handed over to that loop.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from nbchat.protocol import outbound
from nbchat.protocol.server_events import ServerEvent
from nbchat.transports.base import Transport

_thread_id = threading.get_ident
_monotonic = time.monotonic
Event = dict[str, Any]
Listener = Callable[[list[Event]], None]
# Under load the token wait is LATE_FACTOR × how late the flush clock last fired, at most
# STRETCH × interval (see the module docstring).
LATE_FACTOR = 4
STRETCH = 8


class FlushClock:
    """The token waits of every emitter on one event loop with the same interval.

    Emitters with pending tokens queue up with their due time; one loop timer, armed for the
    head of the queue, flushes those that are due. Every wait is the same `delay` when
    queued, so the queue stays in due order; an emitter flushed for another reason is
    skipped (its `_due` changed), not removed."""

    __slots__ = ("__weakref__", "delay", "interval", "loop", "queue", "timer", "when")

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float) -> None:
        self.loop = loop
        self.interval = interval
        self.delay = interval  # the current token wait: `interval`, longer under load
        self.queue: deque[tuple[float, Emitter]] = deque()
        self.timer: asyncio.TimerHandle | None = None
        self.when = 0.0

    def wait(self, emitter: Emitter) -> float:
        """Queue `emitter` to be flushed one `delay` from now; return the due time."""
        due = self.loop.time() + self.delay
        self.queue.append((due, emitter))
        if self.timer is None:
            self.when = due
            self.timer = self.loop.call_at(due, self._fire)
        return due

    def forget(self, emitter: Emitter) -> None:
        """Drop a closed emitter's queued waits (a pending one, and stale ones left by a
        flush for another reason), so a finished chat is freed at once instead of when its
        waits come due. A scan of the waiting chats, done only on close."""
        if any(e is emitter for _, e in self.queue):
            # In place: a flush in progress (`_fire`) holds this very deque.
            kept = [entry for entry in self.queue if entry[1] is not emitter]
            self.queue.clear()
            self.queue.extend(kept)

    def _fire(self) -> None:
        now = self.loop.time()
        late = now - self.when
        self.delay = min(self.interval * STRETCH, max(self.interval, late * LATE_FACTOR))
        queue = self.queue
        while queue and queue[0][0] <= now:
            due, emitter = queue.popleft()
            if emitter._due == due:  # still waiting for this very wait
                try:
                    emitter.flush()
                except Exception as exc:  # one chat's failure must not stall the others
                    self.loop.call_exception_handler({
                        "message": "nbchat: flushing a chat's streamed tokens failed",
                        "exception": exc})
        self.timer = None
        if queue:
            self.when = queue[0][0]
            self.timer = self.loop.call_at(self.when, self._fire)


# Held weakly: a clock lives as long as an emitter uses it or its timer is armed, and is
# gone with its loop. (While a clock lives it holds its loop, so the id is not reused.)
_clocks: weakref.WeakValueDictionary[tuple[int, float], FlushClock] = (
    weakref.WeakValueDictionary())


def flush_clock(loop: asyncio.AbstractEventLoop, interval: float) -> FlushClock:
    """The clock of `loop` for waits of `interval` seconds (made on first use)."""
    key = (id(loop), interval)
    clock = _clocks.get(key)
    if clock is None:
        _clocks[key] = clock = FlushClock(loop, interval)
    return clock


class Emitter:
    def __init__(
        self,
        *,
        interval: float = 0.03,
        max_chars: int = 65536,
        replay_size: int = 4096,
    ) -> None:
        self.interval = interval
        self.max_chars = max_chars
        self.seq = 0
        self.transport: Transport | None = None
        self.replay: deque[Event] = deque(maxlen=replay_size)
        # Called with every flushed batch (after seq numbers are set): state mirror, store.
        self.listeners: list[Listener] = []
        self._out: list[Event] = []
        self._tokens: dict[str, list[str]] = {}
        self._replace: set[str] = set()
        self._pending_chars = 0
        self._clock: FlushClock | None = None
        self._due = 0.0  # when the clock flushes pending tokens; 0 when none wait
        self._soon: asyncio.Handle | None = None
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._owner = 0

    def _foreign(self) -> bool:
        """True when called off the owning loop's thread (and then the call must hop).
        The hot paths test `_thread_id() != self._owner` first and only then call this."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._owner = _thread_id()
            return False
        return _thread_id() != self._owner

    # ------------------------------------------------------------------ producing

    def emit(self, event: ServerEvent) -> None:
        """Queue a non-token event; pending tokens go out before it."""
        if _thread_id() != self._owner and self._foreign():
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self.emit, event)
            return
        if self._tokens:
            self._drain_tokens()
        # Typed on the way in; listeners and transports read the batch as plain dicts.
        self._out.append(event)  # type: ignore[arg-type]
        if self._soon is None and not self._closed:
            self._soon = asyncio.get_running_loop().call_soon(self.flush)

    def token(self, step_id: str, delta: str, replace: bool = False) -> bool:
        """Queue streamed text for a step; `replace` discards what is pending for it.

        True when pending tokens are past their flush time: the producer has not let the
        loop run (blocking work between tokens), so the clock could not fire; it should
        yield once (stream_token does). One clock read per token, no more."""
        if _thread_id() != self._owner and self._foreign():
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self.token, step_id, delta, replace)
            return False
        parts = self._tokens.get(step_id)
        if replace or parts is None:
            if replace:
                self._replace.add(step_id)
            self._tokens[step_id] = parts = []
        parts.append(delta)
        self._pending_chars += len(delta)
        if self._pending_chars >= self.max_chars:
            self.flush()
        elif self._due:
            # time.monotonic is the clock of asyncio's loop.time() and of uvloop's (which
            # caches it per loop turn), read without a Python method call.
            return _monotonic() >= self._due
        elif not self._closed:
            clock = self._clock
            if clock is None:
                assert self._loop is not None
                self._clock = clock = flush_clock(self._loop, self.interval)
            self._due = clock.wait(self)
        return False

    def _drain_tokens(self) -> None:
        for step_id, parts in self._tokens.items():
            self._out.append(outbound.token(  # type: ignore[arg-type]
                step_id, "".join(parts), step_id in self._replace))
        self._tokens = {}
        self._replace.clear()
        self._pending_chars = 0

    # ------------------------------------------------------------------ delivering

    def flush(self) -> None:
        """Send everything pending now, as one batch."""
        self._due = 0.0  # a queued wait of the clock, if any, is skipped
        if self._soon is not None:
            self._soon.cancel()
            self._soon = None
        if self._tokens:
            self._drain_tokens()
        if not self._out:
            return
        batch, self._out = self._out, []
        seq = self.seq
        for event in batch:
            seq += 1
            event["seq"] = seq
        self.seq = seq
        self.replay.extend(batch)
        for listener in self.listeners:
            listener(batch)
        if self.transport is not None:
            self.transport.send(batch)

    def missed_since(self, last_seq: int) -> list[Event] | None:
        """Events after `last_seq` from the replay buffer; None if some fell out of it.

        What is still pending is numbered and buffered here but not sent: it is part of
        the replay, and sending it first would put newer events ahead of the replay and
        then repeat them in it."""
        transport, self.transport = self.transport, None
        try:
            self.flush()
        finally:
            self.transport = transport
        if last_seq >= self.seq:
            return []
        if not self.replay or self.replay[0]["seq"] > last_seq + 1:
            return None
        return [e for e in self.replay if e["seq"] > last_seq]

    def send_direct(self, events: list[Event]) -> None:
        """Send already-numbered events (a replay) to the current transport only."""
        if self.transport is not None and events:
            self.transport.send(events)

    def close(self) -> None:
        self.flush()
        if self._clock is not None:
            self._clock.forget(self)
        self._closed = True
        self.transport = None
        self.listeners.clear()
        self.replay.clear()
