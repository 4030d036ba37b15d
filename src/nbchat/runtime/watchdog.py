"""Notice an event loop that stopped turning, and say which callback blocks it.

A callback that blocks the loop (a sync `time.sleep`, a blocking HTTP client) stalls every
chat of the process, and nothing else would say so. A daemon thread posts a beat to the
loop every quarter of the threshold; once one waits longer than the threshold it logs a
warning with the loop thread's stack and the callback that was running. The callback is
found by walking that stack to `runtime.callbacks.run_callback`'s frame, so nothing on the hot path
marks it. One warning per stall; one watchdog per loop, gone soon after its loop closes.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sys
import threading
import time
import traceback
from types import FrameType

log = logging.getLogger("nbchat")
_watchdogs: dict[int, LoopWatchdog] = {}
_lock = threading.Lock()
_EMPTY = contextvars.Context()


class LoopWatchdog:
    def __init__(self, loop: asyncio.AbstractEventLoop, threshold: float) -> None:
        self.loop = loop
        self.threshold = threshold
        self.period = threshold / 4
        self.loop_thread = threading.get_ident()  # made on the loop's thread
        self.stalls = 0  # warnings logged (one per stall)
        self._answered = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="nbchat-loop-watchdog",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _watch(self) -> None:
        # The beat is posted from this thread (call_soon_threadsafe), not kept as a loop
        # timer: a timer always due soon would keep cancelled timers (and what they hold)
        # in the loop's heap until they fall due.
        try:
            while not self.loop.is_closed():
                self._answered.clear()
                posted = time.monotonic()
                try:
                    self.loop.call_soon_threadsafe(self._answered.set, context=_EMPTY)
                except RuntimeError:  # closed meanwhile
                    break
                warned = False
                # Until this beat is answered (a stopped loop answers when it runs again):
                while not self._answered.wait(self.period) and not self.loop.is_closed():
                    late = time.monotonic() - posted
                    if not warned and late >= self.threshold and self.loop.is_running():
                        warned = True  # one warning per stall
                        self.stalls += 1
                        self._warn(late)
                time.sleep(self.period)  # the watchdog's own clock, not a synchronization
        finally:
            with _lock:
                if _watchdogs.get(id(self.loop)) is self:
                    del _watchdogs[id(self.loop)]

    def _warn(self, late: float) -> None:
        frame = sys._current_frames().get(self.loop_thread)
        where = running_callback(frame)
        stack = "".join(traceback.format_stack(frame)) if frame is not None else ""
        log.warning("nbchat: the event loop has been blocked for %.1f s%s; every chat of "
                    "this process waits until it returns (run blocking work with "
                    "cl.make_async or asyncio.to_thread). The loop is at:\n%s",
                    late, f" by {where}" if where else "", stack)


def running_callback(frame: FrameType | None) -> str | None:
    """`on_message (session …)` if `frame` is inside an app callback run by the runtime."""
    while frame is not None:
        code = frame.f_code
        if (code.co_name == "run_callback"
                and frame.f_globals.get("__name__") == "nbchat.runtime.callbacks"):
            local = frame.f_locals
            session = getattr(local.get("session"), "id", "?")
            return f"{local.get('hook', 'a callback')} (session {session})"
        frame = frame.f_back
    return None


def watch(loop: asyncio.AbstractEventLoop, threshold_ms: int) -> LoopWatchdog:
    """The watchdog of `loop` (started on first use; call on the loop's thread)."""
    dog = _watchdogs.get(id(loop))
    if dog is None:
        with _lock:
            dog = _watchdogs.get(id(loop))
            if dog is None:
                dog = _watchdogs[id(loop)] = LoopWatchdog(loop, threshold_ms / 1000)
                dog.start()
    return dog
