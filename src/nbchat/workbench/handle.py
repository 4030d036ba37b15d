"""`cl.chat()`'s return value: the chat it shows, driven and read from other cells.

    chat = cl.chat()
    reply = await chat.send("hello")     # as if the user typed it; the widget shows it too
    chat.messages                        # the conversation so far, as a DataFrame
    chat.observe(lambda reply: print(reply.content))

Events from the handle go through the widget's own inbox, in order with what the user
types, so a `send` and a click in the widget never race.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nbchat.history import table
from nbchat.protocol import PROTOCOL_VERSION
from nbchat.types import MESSAGE_STEP_TYPES, StepDict
from nbchat.workbench.turns import Reply, TurnWatcher, touched_steps

if TYPE_CHECKING:
    from nbchat.jupyter.widget import ChatWidget
    from nbchat.runtime.session import ChatSession

log = logging.getLogger("nbchat")

MESSAGE_COLUMNS = ["id", "type", "author", "content", "createdAt", "parentId",
                   "feedbackValue", "feedbackComment"]
Observer = Callable[[Reply], Any]


def message_rows(steps: list[StepDict]) -> list[dict[str, Any]]:
    """The message steps of a chat as rows of `MESSAGE_COLUMNS`."""
    rows = []
    for s in steps:
        if s["type"] not in MESSAGE_STEP_TYPES:
            continue
        fb: dict[str, Any] = dict(s.get("feedback") or {})
        rows.append({"id": s["id"], "type": s["type"], "author": s["name"],
                     "content": s["output"], "createdAt": s["createdAt"],
                     "parentId": s["parentId"], "feedbackValue": fb.get("value"),
                     "feedbackComment": fb.get("comment")})
    return rows


class ChatHandle:
    """A chat shown in a cell, to drive and read from other cells (`cl.chat()` returns it)."""

    def __init__(self, widget: ChatWidget, shown_in: int | None = None) -> None:
        self.widget = widget
        self._shown_in = shown_in  # the execution count of the cell that displayed it
        self._observers: list[Observer] = []
        self._capture: list[dict[str, Any]] | None = None
        self._lock = asyncio.Lock()
        self._watcher = TurnWatcher(lambda: self.session.state, self._notify)
        widget.batch_listeners.append(self._on_batch)

    @property
    def session(self) -> ChatSession:
        """The chat session the widget shows now (the History panel can switch it)."""
        return self.widget.session

    @property
    def thread_id(self) -> str:
        """The id of the thread this chat is stored under."""
        return self.session.thread_id

    @property
    def messages(self) -> Any:
        """The conversation so far, one row per message (a pandas DataFrame; a list of
        dicts without pandas): id, type, author, content, createdAt, parentId, feedback."""
        return table(message_rows(list(self.session.state.steps.values())), MESSAGE_COLUMNS)

    async def send(self, content: str, *, command: str | None = None) -> Reply:
        """Send `content` as the user (the widget shows it) and wait for the app: its
        reply, or what it asks, once no callback runs or one waits for an answer (answer
        a question with another `send`). Bound it with `async with asyncio.timeout(s):`."""
        if not isinstance(content, str):
            raise TypeError(f"chat.send() takes the message text, not {type(content).__name__}")
        event: dict[str, Any] = {"type": "user_message", "content": content}
        if command is not None:
            event["command"] = command
        async with self._lock:
            await self._start()
            # Steps it only touches again (an ask closing) are not part of this reply.
            before = {i: s["output"] for i, s in self.session.state.steps.items()}
            self._capture = []
            try:
                await self.widget.deliver(event)
                await self.session.wait_quiet()
                if self.session.recorder is not None:  # stored: exports see this turn
                    await self.session.recorder.written()
                events = self._capture
            finally:
                self._capture = None
            errors = [e["message"] for e in events if e["type"] == "error"]
            steps = [s for s in touched_steps(events, self.session.state)
                     if before.get(s["id"]) != s["output"]]
            if errors and not steps:
                raise ValueError(f"the chat refused the message: {'; '.join(errors)}")
            return Reply(content, steps)

    async def _start(self) -> None:
        """Say hello for the view when none did yet (a kernel without a front end, or a
        cell run before the widget rendered): on_chat_start runs once either way."""
        if not self.session.started:
            await self.widget.deliver({"type": "hello", "protocolVersion": PROTOCOL_VERSION})
            await self.session.wait_quiet()

    def observe(self, fn: Observer) -> Callable[[], None]:
        """Call `fn(reply)` after every turn of this chat (typed in the widget or sent
        with `send`); `fn` may be async. Returns a function that stops observing."""
        self._observers.append(fn)

        def stop() -> None:
            if fn in self._observers:
                self._observers.remove(fn)

        return stop

    def _on_batch(self, batch: list[dict[str, Any]]) -> None:
        if self._capture is not None:
            self._capture.extend(batch)
        self._watcher.on_batch(batch)

    def _notify(self, reply: Reply) -> None:
        for fn in list(self._observers):
            try:
                result = fn(reply)
                if inspect.isawaitable(result):
                    asyncio.ensure_future(result).add_done_callback(_log_failure)
            except Exception:  # the chat goes on; the author sees the traceback in the log
                log.exception("nbchat: a chat.observe() callback raised")

    def _ipython_display_(self) -> None:
        # `chat = cl.chat()` or a bare `cl.chat()` as the cell's value: shown once already.
        from IPython import get_ipython
        from IPython.display import display

        shell = get_ipython()
        if shell is not None and shell.execution_count == self._shown_in:
            return
        display(self.widget)  # type: ignore[no-untyped-call]

    def __repr__(self) -> str:
        return f"<nbchat chat {self.session.thread_id}: {len(self.session.state.steps)} steps>"


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("nbchat: a chat.observe() callback raised", exc_info=task.exception())
