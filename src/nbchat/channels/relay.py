"""A chat session's server events as messages on a chat platform.

`ChannelRelay` is the session's Transport: it keeps the session's state mirror (the same
`SessionState` the runtime keeps) and, after each batch, renders what changed through a
`PlatformOutput`: an assistant message is posted, then edited while it streams (at most
once per `update_interval`, so a platform's rate limit holds), split over several posts
when longer than the platform allows; the steps that ran before it are a one-line
summary at its top; its actions, an action ask's choices and the feedback thumbs are
buttons; errors and toasts are posts of their own. Nothing here blocks the session: the
platform calls run in one task per relay, in the order the events came.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from nbchat.channels.mrkdwn import split_text
from nbchat.runtime.state import SessionState
from nbchat.transports.base import Transport
from nbchat.types import MESSAGE_STEP_TYPES

log = logging.getLogger("nbchat")


@dataclass(frozen=True)
class Button:
    """A platform button; a click sends `value` back (see `click_event`)."""

    value: str
    label: str


class PlatformOutput(Protocol):
    """What a platform does with the chat's output. `limit`: characters per post."""

    limit: int
    update_interval: float

    def format(self, markdown: str) -> str:
        """The platform's spelling of Markdown text."""

    async def post(self, text: str, buttons: Sequence[Button]) -> str:
        """Post a message; returns its reference (for later edits)."""

    async def update(self, ref: str, text: str, buttons: Sequence[Button]) -> None:
        """Replace a posted message's text and buttons."""

    async def delete(self, ref: str) -> None:
        """Remove a posted message."""


def click_event(value: str) -> dict[str, Any] | None:
    """The client event a button's `value` stands for, or None when it is not one of ours."""
    kind, _, rest = value.partition(":")
    if kind == "action" and rest:
        return {"type": "action", "id": rest}
    if kind == "ask":
        ask_id, _, action_id = rest.partition(":")
        if ask_id and action_id:
            return {"type": "ask_response", "askId": ask_id, "actionId": action_id}
    if kind == "feedback":
        step_id, _, score = rest.rpartition(":")
        if step_id and score in ("0", "1"):
            return {"type": "feedback", "stepId": step_id, "value": int(score)}
    return None


@dataclass
class _Shown:
    refs: list[str] = field(default_factory=list)
    pieces: list[str] = field(default_factory=list)
    buttons: tuple[Button, ...] = ()
    summary: str = ""
    updated_at: float = 0.0


class ChannelRelay(Transport):
    def __init__(self, output: PlatformOutput, *, feedback: bool = False) -> None:
        self.output = output
        self.feedback = feedback  # offer thumbs on finished replies (a data layer keeps them)
        # Set while a stored thread is resumed: the history it replays, up to its `thread`
        # event, was posted when it happened.
        self.resuming = False
        self.state = SessionState()
        self._shown: dict[str, _Shown] = {}
        self._dirty: dict[str, None] = {}
        self._posts: list[str] = []  # errors and notices, posted in order
        self._ran: list[str] = []  # names of the steps finished since the last reply
        self._summarised: set[str] = set()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self.failures = 0  # platform calls that failed (logged, counted for /health-style checks)

    # ------------------------------------------------------------------ Transport

    def send(self, events: list[dict[str, Any]]) -> None:
        self.state.apply(events)
        for event in events:
            if self.resuming:  # a resumed thread's history: on the platform already
                self.resuming = event["type"] != "thread"
                continue
            self._note(event)
        if self._dirty or self._posts:
            self._idle.clear()
            self._wake.set()
            if self._task is None or self._task.done():
                self._task = asyncio.get_running_loop().create_task(self._run())

    def close(self) -> None:
        if self._task is not None and not self._dirty and not self._posts:
            self._task.cancel()

    def posted(self, ref: str) -> bool:
        """True when `ref` is one of the messages this relay posted."""
        return any(ref in shown.refs for shown in self._shown.values())

    async def drained(self) -> None:
        """Wait until everything received so far is on the platform."""
        await self._idle.wait()

    # ------------------------------------------------------------------ what changed

    def _note(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "step":
            step = event["step"]
            if step["type"] in MESSAGE_STEP_TYPES:
                if step["type"] != "user_message":
                    self._dirty[step["id"]] = None
            elif step.get("end") and step["id"] not in self._summarised and step.get("name"):
                self._summarised.add(step["id"])
                self._ran.append(str(step["name"]))
        elif kind == "token":
            if event["id"] in self._shown or self._is_reply(event["id"]):
                self._dirty[event["id"]] = None
        elif kind == "step_delete":
            self._dirty[event["id"]] = None
        elif kind in ("action", "action_delete"):
            for_id = event["action"]["forId"] if kind == "action" else None
            self._touch_buttons(for_id)
        elif kind in ("ask", "ask_cancel"):
            step_id = event.get("stepId")
            self._touch_buttons(step_id if isinstance(step_id, str) else None)
        elif kind == "error":
            self._posts.append(f":warning: {event['message']}")
        elif kind == "notice":
            self._posts.append(str(event["message"]))

    def _is_reply(self, step_id: str) -> bool:
        step = self.state.steps.get(step_id)
        return step is not None and step["type"] in MESSAGE_STEP_TYPES and (
            step["type"] != "user_message")

    def _touch_buttons(self, step_id: str | None) -> None:
        if step_id is not None:
            self._dirty[step_id] = None
        else:  # a removed action or cancelled ask: redraw every message with buttons
            self._dirty.update(dict.fromkeys(k for k, v in self._shown.items() if v.buttons))

    def _buttons(self, step_id: str, finished: bool) -> tuple[Button, ...]:
        buttons = [Button(f"action:{a['id']}", a.get("label") or a["name"])
                   for a in self.state.actions.values() if a.get("forId") == step_id]
        ask = self.state.ask
        if ask is not None and ask["kind"] == "action" and ask["stepId"] == step_id:
            buttons += [Button(f"ask:{ask['askId']}:{a['id']}", a.get("label") or a["name"])
                        for a in ask["spec"].get("actions", [])]
        step = self.state.steps.get(step_id)
        asking = ask is not None and ask["stepId"] == step_id
        if self.feedback and finished and not asking and step is not None and (
                step["type"] == "assistant_message"):
            buttons += [Button(f"feedback:{step_id}:1", ":thumbsup:"),
                        Button(f"feedback:{step_id}:0", ":thumbsdown:")]
        return tuple(buttons)

    # ------------------------------------------------------------------ rendering

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._dirty or self._posts:
            self._wake.clear()
            while self._posts:
                await self._call(self.output.post(self._posts.pop(0), ()))
            wait = 0.0
            for step_id in list(self._dirty):
                due = self._due(step_id, loop.time())
                if due > 0:
                    wait = min(wait, due) if wait else due
                    continue
                self._dirty.pop(step_id, None)
                await self._render(step_id, loop.time())
            if wait:
                # New events may make a message due sooner (its stream ended).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
        self._idle.set()

    def _due(self, step_id: str, now: float) -> float:
        """Seconds until this message may be edited again (0: now)."""
        shown, step = self._shown.get(step_id), self.state.steps.get(step_id)
        if shown is None or not shown.refs or step is None or not step.get("streaming"):
            return 0.0
        return max(0.0, shown.updated_at + self.output.update_interval - now)

    async def _render(self, step_id: str, now: float) -> None:
        step = self.state.steps.get(step_id)
        shown = self._shown.setdefault(step_id, _Shown())
        if step is None:  # deleted
            for ref in shown.refs:
                await self._call(self.output.delete(ref))
            self._shown.pop(step_id, None)
            return
        finished = not step.get("streaming")
        text = str(step.get("output") or "")
        if not shown.refs and not text.strip():
            return  # Chainlit posts no empty message; its first token will
        if not shown.refs and self._ran:
            shown.summary = "_" + " · ".join(dict.fromkeys(self._ran)) + "_\n"
            self._ran.clear()
        body = shown.summary + self.output.format(text)
        pieces = split_text(body, self.output.limit)
        buttons = self._buttons(step_id, finished)
        for i, piece in enumerate(pieces):
            # The buttons sit under the last post: a post that stops (or starts) being the
            # last one, or whose buttons changed, is edited even when its text is the same.
            own = buttons if i == len(pieces) - 1 else ()
            if i < len(shown.refs):
                had = shown.buttons if i == len(shown.refs) - 1 else ()
                if piece != shown.pieces[i] or own != had:
                    await self._call(self.output.update(shown.refs[i], piece, own))
            else:
                ref = await self._call(self.output.post(piece, own))
                if ref is None:
                    break
                shown.refs.append(ref)
        for ref in shown.refs[len(pieces):]:
            await self._call(self.output.delete(ref))
        del shown.refs[len(pieces):]
        shown.pieces, shown.buttons, shown.updated_at = pieces[:len(shown.refs)], buttons, now

    async def _call(self, call: Any) -> Any:
        # A failing platform call is logged and counted; the chat goes on (the next edit
        # of the same message carries the whole text again).
        try:
            return await call
        except Exception:  # any client error: the platform's, not the app's
            self.failures += 1
            log.exception("nbchat: a chat platform call failed")
            return None
