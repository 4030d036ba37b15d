"""Turns of a live chat, read from the session's own flushed events.

A turn starts with a user message sent while no callback runs and ends when the last
callback it started is done (an ask answered in between belongs to the same turn). The
steps a turn created or changed are what its reply is made of.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from nbchat.runtime.state import SessionState
from nbchat.types import MESSAGE_STEP_TYPES, StepDict


def touched_steps(events: Iterable[dict[str, Any]], state: SessionState) -> list[StepDict]:
    """The steps `events` created or changed, in the order first touched, as `state` (the
    mirror the events were applied to) has them now."""
    touched: dict[str, None] = {}
    for e in events:
        if e["type"] == "step":
            touched[e["step"]["id"]] = None
        elif e["type"] == "token":
            touched[e["id"]] = None
    return [state.steps[i] for i in touched if i in state.steps]


def replies(steps: Iterable[StepDict]) -> list[StepDict]:
    """The assistant's (and system's) messages among `steps`: not the user's, not tools."""
    return [s for s in steps if s["type"] in MESSAGE_STEP_TYPES and s["type"] != "user_message"]


def reply_text(steps: Iterable[StepDict]) -> str:
    """The text of the replies among `steps`, joined by blank lines: how a turn's answer
    reads, live (`Reply.content`) and stored (`StoredTurn.reply`) alike."""
    return "\n\n".join(m["output"] for m in replies(steps) if m["output"])


@dataclass
class Reply:
    """What the app answered to one user message: `content` is the text of its assistant
    messages (joined by blank lines), `messages` those messages, `steps` every step the
    turn created or changed (tools and messages, the user's own message first)."""

    prompt: str
    steps: list[StepDict] = field(default_factory=list)

    @property
    def messages(self) -> list[StepDict]:
        return replies(self.steps)

    @property
    def content(self) -> str:
        return reply_text(self.steps)

    def __str__(self) -> str:
        return self.content

    def _repr_markdown_(self) -> str:
        return self.content


class TurnWatcher:
    """Listens to a session's flushed batches and calls `on_turn(reply)` at each turn's end."""

    def __init__(self, state: Callable[[], SessionState],
                 on_turn: Callable[[Reply], None]) -> None:
        self._state = state
        self._on_turn = on_turn
        self._events: list[dict[str, Any]] | None = None  # the open turn's events
        self._prompt = ""
        self._ran = False  # a callback started in the open turn

    def on_batch(self, batch: list[dict[str, Any]]) -> None:
        state = self._state()
        for event in batch:
            kind = event["type"]
            step = event.get("step") if kind == "step" else None
            starts = step is not None and step["type"] == "user_message"
            if starts and self._events is not None and not self._ran:
                self._finish(state)  # the last message ran no callback (no on_message)
            if self._events is None:
                if not starts:
                    continue
                assert step is not None
                self._events, self._prompt, self._ran = [], step["output"], False
            assert self._events is not None
            self._events.append(event)
            self._ran = self._ran or kind == "task_start"
        # Its callbacks are done (the user message is often flushed before they start).
        if self._events is not None and self._ran and state.running == 0 and state.ask is None:
            self._finish(state)

    def _finish(self, state: SessionState) -> None:
        assert self._events is not None
        reply = Reply(self._prompt, touched_steps(self._events, state))
        self._events = None
        self._on_turn(reply)
