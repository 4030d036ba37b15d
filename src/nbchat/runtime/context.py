"""Context variables: the current chat session and the current step.

A task started inside a callback (`asyncio.create_task`, `asyncio.gather`) copies the
context, so it keeps its session and nests its steps under the step that was open when it
started, never under a sibling's.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

from nbchat.errors import ContextError

if TYPE_CHECKING:
    from nbchat.runtime.session import ChatSession
    from nbchat.step import Step

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


class _Context:
    """`cl.context`, as in Chainlit: the current session and step."""

    @property
    def session(self) -> ChatSession:
        return get_session("cl.context.session")

    @property
    def current_step(self) -> Step | None:
        return current_step.get()


context = _Context()
