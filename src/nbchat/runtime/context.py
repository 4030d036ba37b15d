"""Context variables: the current chat session and the current step.

A task started inside a callback (`asyncio.create_task`, `asyncio.gather`) copies the
context, so it keeps its session and nests its steps under the step that was open when it
started, never under a sibling's.
"""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Literal

from nbchat.errors import ContextError
from nbchat.ids import new_id
from nbchat.protocol import outbound

if TYPE_CHECKING:
    from nbchat.chat_settings import Mode
    from nbchat.runtime.session import ChatSession
    from nbchat.step import Step

log = logging.getLogger("nbchat")
current_session: ContextVar[ChatSession | None] = ContextVar("nbchat_session", default=None)
current_step: ContextVar[Step | None] = ContextVar("nbchat_step", default=None)


def get_session(what: str = "this") -> ChatSession:
    """The session of the running callback, or a ContextError that says how to fix it."""
    session = current_session.get()
    if session is None:
        raise ContextError(
            f"{what} needs a chat session, but was called outside one. Call it inside an "
            "nbchat callback (@cl.on_chat_start, @cl.on_message, an action callback, …) or "
            "in a task started from one. To exercise an app from a test or a script, use "
            "nbchat.testing.ChatTestClient."
        )
    return session


ToastType = Literal["info", "success", "warning", "error"]


class AuthorEmitter:
    """`cl.context.emitter`: the Chainlit emitter calls apps make directly."""

    async def send_toast(self, message: str, type: ToastType = "info") -> None:
        """Show a short message over the chat (a toast) to this chat's user."""
        if type not in ("info", "success", "warning", "error"):
            raise ValueError(f"toast type must be info, success, warning or error, "
                             f"got {type!r}")
        get_session("context.emitter.send_toast").emit(
            outbound.notice(type, str(message)))

    async def set_commands(self, commands: list[dict[str, Any]]) -> None:
        """Offer composer commands (`cl.set_commands`): dicts with `id`, `description`,
        optional `icon`, `button`."""
        for command in commands:
            if not isinstance(command, dict) or not isinstance(command.get("id"), str):
                raise ValueError(f"each command needs a string 'id', got {command!r}")
        session = get_session("set_commands")
        session.commands = list(commands)
        session.emitter.emit(outbound.commands(session.commands))

    async def set_modes(self, modes: list[Mode]) -> None:
        """Show these mode pickers in the composer (`cl.set_modes`), replacing any; an
        empty list hides them."""
        # (Checked by shape: this module sits below nbchat.chat_settings, which defines Mode.)
        for mode in modes:
            if not callable(getattr(mode, "to_dict", None)) or not getattr(mode, "options", None):
                raise ValueError(f"each mode must be a cl.Mode with options, got {mode!r}")
        session = get_session("set_modes")
        session.modes = list(modes)
        session.emitter.emit(outbound.modes([m.to_dict() for m in modes]))

    async def send_window_message(self, data: Any) -> None:
        """Post `data` to the page embedding the chat (`cl.send_window_message`)."""
        get_session("cl.send_window_message").emit(outbound.window_message(data))

    async def send_call_fn(self, name: str, args: dict[str, Any],
                           timeout: float = 300,  # noqa: ASYNC109 - Chainlit's signature
                           raise_on_timeout: bool = False) -> Any:
        """Have the embedding page run `name(args)` and return its answer
        (`cl.CopilotFunction.acall`); None after `timeout` seconds without one, or
        TimeoutError with `raise_on_timeout`. An error the page reports is raised as
        CopilotFunctionError."""
        session = get_session("CopilotFunction.acall")
        call_id = new_id()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        session.open_call(call_id, future)
        session.emit(outbound.call_fn(call_id, name, dict(args), timeout))
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            if raise_on_timeout:
                raise
            log.warning("nbchat: the embedding page did not answer %s within %s s", name,
                        timeout)
            return None
        finally:
            session.close_call(call_id)

    async def update_token_count(self, count: int) -> None:
        """Tell the client an LLM call used `count` more tokens (it adds them up)."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"token count must be a non-negative int, got {count!r}")
        get_session("context.emitter.update_token_count").emit(outbound.token_usage(count))

    async def task_start(self) -> None:
        """Show the chat as busy (the Stop button), as while a callback runs."""
        get_session("context.emitter.task_start").emit(outbound.task_start())

    async def task_end(self) -> None:
        """Show the chat as idle again."""
        get_session("context.emitter.task_end").emit(outbound.task_end())


class _Context:
    """`cl.context`, as in Chainlit: the current session, step and emitter."""

    emitter = AuthorEmitter()

    @property
    def session(self) -> ChatSession:
        return get_session("cl.context.session")

    @property
    def current_step(self) -> Step | None:
        return current_step.get()


context = _Context()
