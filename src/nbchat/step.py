"""Steps: the unit of everything shown in a chat (messages are steps too).

`Step` is used as an async (or sync) context manager, through the `@step` decorator, or
by hand with send/update/remove. The current step lives in a context variable, so new
steps and messages nest under it, also across asyncio.gather and create_task.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, overload

from nbchat.generation import BaseGeneration
from nbchat.ids import new_id, utc_now
from nbchat.runtime.context import current_step, get_session
from nbchat.types import StepDict as StepDict  # also Chainlit's chainlit.step path

if TYPE_CHECKING:
    from nbchat.runtime.session import ChatSession

F = TypeVar("F", bound=Callable[..., Any])


def to_text(value: Any) -> tuple[str, str | None]:
    """Render a value for a step's input/output; dicts and lists become JSON."""
    if value is None:
        return "", None
    if isinstance(value, str):
        return value, None
    try:
        return json.dumps(value, indent=4, ensure_ascii=False, default=str), "json"
    except (TypeError, ValueError):
        return str(value), None


class StepBase:
    """What steps and messages share: identity, streaming, and emitting themselves."""

    type: str = "undefined"

    def __init__(
        self,
        *,
        name: str,
        type: str,
        id: str | None = None,
        parent_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        tags: list[str] | None = None,
        language: str | None = None,
        show_input: bool | str = False,
        default_open: bool = False,
    ) -> None:
        self.id = id or new_id()
        self.name = name
        self.type = type
        if parent_id is None:
            parent = current_step.get()
            parent_id = parent.id if parent is not None else None
        self.parent_id = parent_id
        self.metadata: dict[str, Any] = metadata or {}
        self.tags = tags
        self.language = language
        self.show_input = show_input
        self.default_open = default_open
        self.icon: str | None = None
        self.auto_collapse = False
        self._input = ""
        self._parts: list[str] = []
        self.is_error = False
        self.cancelled = False
        self.created_at = utc_now()
        self.start: str | None = None
        self.end: str | None = None
        self.generation: BaseGeneration | dict[str, Any] | None = None
        self.streaming = False
        self.wait_for_answer = False
        self.thread_id: str | None = None
        # A user message's `clientId`: its step events carry it back so the client that
        # sent it can tell which of its messages this is. Not stored.
        self.client_id: str | None = None
        self._sent = False
        # The session it was first shown in: streaming reuses it instead of looking the
        # context variable up once per token.
        self._session: ChatSession | None = None

    @property
    def input(self) -> str:
        """What the step was given; a dict or list is kept as JSON text (cookbook apps set
        `current_step.input = arguments`), so the browser and the store get a string."""
        return self._input

    @input.setter
    def input(self, value: Any) -> None:
        self._input = to_text(value)[0]

    # Text is kept as parts while streaming: joining once per read, not once per token.
    @property
    def output(self) -> str:
        """The step's text so far, streamed tokens included."""
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    @output.setter
    def output(self, value: Any) -> None:
        text, language = to_text(value)
        if language and not self.language:
            self.language = language
        self._parts = [text] if text else []

    def to_dict(self) -> StepDict:
        """The step as sent in the `step` event."""
        generation = self.generation
        if isinstance(generation, BaseGeneration):
            generation = generation.to_dict()
        data: StepDict = {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "threadId": self.thread_id or "",
            "parentId": self.parent_id,
            "input": self.input,
            "output": self.output,
            "isError": self.is_error,
            "createdAt": self.created_at,
            "start": self.start,
            "end": self.end,
            "metadata": self.metadata,
            "tags": self.tags,
            "language": self.language,
            "generation": generation,
            "showInput": self.show_input,
            "defaultOpen": self.default_open,
            "streaming": self.streaming,
            "waitForAnswer": self.wait_for_answer,
        }
        if self.cancelled:
            data["cancelled"] = True
        if self.icon:
            data["icon"] = self.icon
        if self.auto_collapse:
            data["autoCollapse"] = True
        return data

    def _emit(self) -> None:
        session = get_session(f"{type(self).__name__}.send")
        self.thread_id = session.thread_id
        self._sent = True
        self._session = session
        session.step_changed(self)

    def _emit_delete(self) -> None:
        session = get_session(f"{type(self).__name__}.remove")
        session.step_removed(self)

    async def stream_token(self, token: str, is_sequence: bool = False) -> None:
        """Append `token` to the output as it streams (replace it if `is_sequence`). An
        empty token does nothing (as in Chainlit): it would show an empty message."""
        if not token:
            return
        session = self._session
        if session is None or not self._sent:
            await self._start_streaming()
            session = self._session
            assert session is not None
        if is_sequence:
            self._parts = [token]
        else:
            self._parts.append(token)
        if session.emitter.token(self.id, token, is_sequence):
            # Chainlit's emit awaits the socket; a callback doing blocking reads between
            # tokens would otherwise show nothing until it ends. Only when overdue, so
            # tokens still coalesce.
            await asyncio.sleep(0)

    async def _start_streaming(self) -> None:
        """Show the step before its first token (runs once per step)."""
        self.streaming = True
        if self.start is None:
            self.start = utc_now()
        self._emit()


class Step(StepBase):
    """A unit of work shown in the chat: a tool call, a retrieval, an LLM call, …"""

    def __init__(
        self,
        name: str | None = None,
        type: str = "undefined",
        id: str | None = None,
        parent_id: str | None = None,
        elements: list[Any] | None = None,
        metadata: dict[str, Any] | None = None,
        tags: list[str] | None = None,
        language: str | None = None,
        show_input: bool | str = "json",
        default_open: bool = False,
        auto_collapse: bool = False,
        icon: str | None = None,
    ) -> None:
        super().__init__(
            name=name or "Step", type=type, id=id, parent_id=parent_id, metadata=metadata,
            tags=tags, language=language, show_input=show_input, default_open=default_open,
        )
        # A Lucide icon name (or an image URL) shown by the step's name; `auto_collapse`
        # folds the step once it ends, even if it was open.
        self.icon = icon
        self.auto_collapse = auto_collapse
        self.elements = elements or []
        self._ctx_token: Any = None

    async def send(self) -> Step:
        """Show the step (started now unless `start` is set) and its elements. Ends a
        stream started with `stream_token`, as in Chainlit."""
        if self.start is None:
            self.start = utc_now()
        self.streaming = False
        self._emit()
        get_session("Step.send").open_steps[self.id] = self
        self._show_elements()
        return self

    async def update(self) -> bool:
        """Send the step's current state and the elements added since; ends a stream."""
        self.streaming = False
        self._emit()
        self._show_elements()
        await asyncio.sleep(0)  # let the flush run, as Chainlit's awaited emit does
        return True

    def _show_elements(self) -> None:
        for element in self.elements:
            if not element.sent:
                element.show(for_id=self.id)

    async def remove(self) -> bool:
        """Take the step away (its nested steps go with it in the browser)."""
        self._emit_delete()
        return True

    # ------------------------------------------------------------------ lifecycle

    def _enter(self) -> None:
        self.start = utc_now()
        self._ctx_token = current_step.set(self)
        self._emit()
        get_session("Step").open_steps[self.id] = self

    def _exit(self, exc: BaseException | None) -> None:
        self.end = utc_now()
        self.streaming = False
        if isinstance(exc, asyncio.CancelledError):
            self.cancelled = True
        elif exc is not None:
            self.is_error = True
            self.output = str(exc) or type(exc).__name__
        get_session("Step").open_steps.pop(self.id, None)
        self._emit()
        self._show_elements()  # those set inside the block
        if self._ctx_token is not None:
            try:
                current_step.reset(self._ctx_token)
            except ValueError:
                # Exited in another context than it was entered (a task handed it over):
                # restore the parent by hand.
                current_step.set(None)
            self._ctx_token = None

    async def __aenter__(self) -> Step:
        self._enter()
        self._show_elements()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        self._exit(exc)
        return False

    def __enter__(self) -> Step:
        self._enter()
        self._show_elements()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        self._exit(exc)
        return False


def _call_input(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        bound = inspect.signature(func).bind_partial(*args, **kwargs)
        return {k: v for k, v in bound.arguments.items() if k not in ("self", "cls")}
    except TypeError:
        return {"args": list(args), "kwargs": kwargs}


def _set_return(step: Step, result: Any) -> None:
    if result is not None and not step.output:
        step.output = result


@overload
def step(original_function: F) -> F: ...
@overload
def step(
    original_function: None = None, *, name: str | None = None, type: str = "undefined",
    id: str | None = None, parent_id: str | None = None, tags: list[str] | None = None,
    metadata: dict[str, Any] | None = None, language: str | None = None,
    show_input: bool | str = "json", default_open: bool = False,
    auto_collapse: bool = False, icon: str | None = None,
) -> Callable[[F], F]: ...
def step(
    original_function: F | None = None, *, name: str | None = None, type: str = "undefined",
    id: str | None = None, parent_id: str | None = None, tags: list[str] | None = None,
    metadata: dict[str, Any] | None = None, language: str | None = None,
    show_input: bool | str = "json", default_open: bool = False,
    auto_collapse: bool = False, icon: str | None = None,
) -> F | Callable[[F], F]:
    """Show each call of the decorated function (sync or async) as a step: the arguments
    become its input, the return value its output; an exception marks it as an error."""

    def wrap(func: F) -> F:
        def make() -> Step:
            return Step(name=name or func.__name__, type=type, id=id, parent_id=parent_id,
                        tags=tags, metadata=metadata, language=language,
                        show_input=show_input, default_open=default_open,
                        auto_collapse=auto_collapse, icon=icon)

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with make() as s:
                    s.input = _call_input(func, args, kwargs)
                    result = await func(*args, **kwargs)
                    _set_return(s, result)
                    return result

            return cast(F, async_wrapper)

        @functools.wraps(func)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            with make() as s:
                s.input = _call_input(func, args, kwargs)
                result = func(*args, **kwargs)
                _set_return(s, result)
                return result

        return cast(F, sync_wrapper)

    if original_function is not None:
        return wrap(original_function)
    return wrap
