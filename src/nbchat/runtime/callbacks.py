"""Running an app's callbacks inside its session: errors become a chat message, a callback
over `runtime.callback_timeout` is stopped, the steps a callback left open are closed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nbchat.app import call_user
from nbchat.ids import utc_now
from nbchat.message import ErrorMessage
from nbchat.protocol import outbound
from nbchat.runtime import callback_errors
from nbchat.runtime.watchdog import watch

if TYPE_CHECKING:
    from nbchat.runtime.session import ChatSession

log = logging.getLogger("nbchat")


async def run_callback(session: ChatSession, hook: str, *args: Any,
                       func: Callable[..., Any] | None = None, busy: bool = True) -> Any:
    """Run an app callback inside the session: errors become a chat message, a callback
    over `runtime.callback_timeout` is stopped and the user told, and steps it left open
    (an error, a stop, a timeout) are closed. Cancellation is re-raised. `busy=False`
    leaves out task_start/task_end (the chat does not show it as running)."""
    func = func or session.app.get(hook)
    if func is None:
        return None
    runtime = session.config.runtime
    if runtime.stall_warning_ms is not None:
        watch(asyncio.get_running_loop(), runtime.stall_warning_ms)
    if busy:
        session.emit(outbound.task_start())
    already_open = set(session.open_steps)
    try:
        if runtime.callback_timeout is None:
            return await call_user(func, *args)
        deadline = asyncio.timeout(runtime.callback_timeout)
        try:
            async with deadline:
                return await call_user(func, *args)
        except TimeoutError:
            if not deadline.expired():
                raise  # the callback's own TimeoutError: an error like any other
        log.warning("nbchat: %s ran over runtime.callback_timeout (%d s) and was stopped",
                    hook, runtime.callback_timeout)
        close_open_steps(session, already_open)
        await ErrorMessage(content=f"{hook} did not finish within "
                           f"{runtime.callback_timeout} s and was stopped.").send()
        return None
    except asyncio.CancelledError:
        close_open_steps(session)
        raise
    except Exception as exc:
        log.exception("nbchat: %s raised", hook)
        close_open_steps(session, already_open, error=True)
        await callback_errors.report(session, hook, exc)
        return None
    finally:
        if busy:
            session.emit(outbound.task_end())


def close_open_steps(session: ChatSession, keep: set[str] | frozenset[str] = frozenset(),
                      *, error: bool = False) -> None:
    """End the open steps (but those in `keep`, open before the callback started: another
    callback's): as failed when the callback raised, else as cancelled (stopped)."""
    for step_id, step in list(session.open_steps.items()):
        if step_id in keep:
            continue
        if error:
            step.is_error = True
        else:
            step.cancelled = True
        step.streaming = False
        step.end = utc_now()
        session.step_changed(step)
        del session.open_steps[step_id]


async def serialized(session: ChatSession, hook: str, *args: Any) -> None:
    async with session.message_lock:
        await run_callback(session, hook, *args)
