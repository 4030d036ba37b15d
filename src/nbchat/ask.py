"""Ask the user and await the answer: text, an action, files, or a custom element's values.

An ask is a request/response on top of events: it has an id, a timeout, and it is
cancelled (an `ask_cancel` event) when it times out, is stopped, or the session closes.
While it is pending, the user's reply answers it and does not reach `on_message`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Literal

from nbchat.action import Action
from nbchat.element import CustomElement
from nbchat.errors import AskTimeoutError
from nbchat.ids import new_id
from nbchat.message import Message
from nbchat.protocol import outbound
from nbchat.protocol.server_events import AskEvent, AskSpec
from nbchat.runtime.context import get_session
from nbchat.uploads.files import Accept, UploadedFile, UploadLimits

AskKind = Literal["text", "action", "file", "element"]
# The ask message's metadata key for the answer it got, stored with the thread so a replay
# (nbchat.replay) or an exported test can give the same answer again.
ANSWER_KEY = "nbchatAskAnswer"


@dataclass
class PendingAsk:
    """An ask the session waits on: the future is resolved by the matching `ask_response`."""

    id: str
    kind: AskKind
    step_id: str
    future: asyncio.Future[Any]
    actions: dict[str, Action] = field(default_factory=dict)
    limits: UploadLimits | None = None
    event: AskEvent | None = None  # set once the ask is sent


class _Ask(Message):
    kind: AskKind = "text"

    def __init__(self, content: str, author: str | None = None, timeout: float = 60,
                 raise_on_timeout: bool = False, **kwargs: Any) -> None:
        super().__init__(content=content, author=author, **kwargs)
        self.timeout = timeout
        self.raise_on_timeout = raise_on_timeout
        self._waiting: PendingAsk | None = None
        self._removed = False

    def _spec(self) -> AskSpec:
        return {}

    def _pending(self, future: asyncio.Future[Any]) -> PendingAsk:
        return PendingAsk(id=new_id(), kind=self.kind, step_id=self.id, future=future)

    async def _ask(self) -> Any:
        session = get_session(f"{type(self).__name__}.send")
        self.wait_for_answer = True
        await super().send()
        pending = self._pending(asyncio.get_running_loop().create_future())
        pending.event = outbound.ask(pending.id, self.kind, self.id, self.timeout,
                                     self._spec())
        session.open_ask(pending)
        self._waiting = pending
        try:
            answer = await asyncio.wait_for(asyncio.shield(pending.future), self.timeout)
            if answer is not None:
                self.metadata = {**self.metadata, ANSWER_KEY: self._answer_record(answer)}
            return answer
        except TimeoutError:
            if self.raise_on_timeout:
                raise AskTimeoutError(
                    f"no answer to {type(self).__name__} within {self.timeout} s"
                ) from None
            return None
        finally:
            self._waiting = None
            session.close_ask(pending)
            self.wait_for_answer = False
            if not self._removed:
                await self.update()

    def _answer_record(self, answer: Any) -> dict[str, Any]:
        """What to store of `answer` (JSON)."""
        return {"kind": "text", "stepId": answer["id"], "content": answer["output"]}

    async def remove(self) -> bool:
        """Take the question away; a `send` still waiting for the answer returns None
        (the client stops offering the ask, as Chainlit's `clear_ask`)."""
        self._removed = True
        pending = self._waiting
        if pending is not None and not pending.future.done():
            get_session(f"{type(self).__name__}.remove").answer_ask(pending, None)
        return await super().remove()


class AskUserMessage(_Ask):
    """Ask for a text reply; returns the user's message as a step dict (text in `output`)."""

    kind = "text"

    async def send(self) -> Any:
        """Ask and wait: the user's reply as a step dict, or None on timeout."""
        return await self._ask()


class AskActionMessage(_Ask):
    """Ask the user to click one of `actions`; returns {name, payload, label, …}."""

    kind = "action"

    def __init__(self, content: str, actions: list[Action], author: str | None = None,
                 timeout: float = 90, raise_on_timeout: bool = False, **kwargs: Any) -> None:
        if not actions:
            raise ValueError("AskActionMessage needs at least one Action")
        super().__init__(content, author, timeout, raise_on_timeout, **kwargs)
        self.ask_actions = actions
        for action in actions:
            action.for_id = self.id

    def _spec(self) -> AskSpec:
        return {"actions": [a.to_dict() for a in self.ask_actions]}

    def _pending(self, future: asyncio.Future[Any]) -> PendingAsk:
        pending = super()._pending(future)
        pending.actions = {a.id: a for a in self.ask_actions}
        return pending

    def _answer_record(self, answer: Any) -> dict[str, Any]:
        return {"kind": "action", "name": answer["name"], "payload": answer["payload"]}

    async def send(self) -> Any:
        """Show the actions and wait: the chosen one as a dict, or None on timeout."""
        session = get_session("AskActionMessage.send")
        for action in self.ask_actions:
            session.actions[action.id] = action
        try:
            return await self._ask()
        finally:
            for action in self.ask_actions:
                session.actions.pop(action.id, None)


class AskFileMessage(_Ask):
    """Ask for files; returns a list of UploadedFile (id, name, path, size, type)."""

    kind = "file"

    def __init__(self, content: str, accept: Accept, max_size_mb: int = 2,
                 max_files: int = 1, author: str | None = None, timeout: float = 90,
                 raise_on_timeout: bool = False, **kwargs: Any) -> None:
        super().__init__(content, author, timeout, raise_on_timeout, **kwargs)
        self.accept = accept
        self.max_size_mb = max_size_mb
        self.limits = UploadLimits.in_mb(accept, max_size_mb, max_files)

    def _spec(self) -> AskSpec:
        return {"accept": self.accept or ["*/*"], "maxSizeMb": self.max_size_mb,
                "maxFiles": self.limits.max_files}

    def _pending(self, future: asyncio.Future[Any]) -> PendingAsk:
        pending = super()._pending(future)
        pending.limits = self.limits
        return pending

    def _answer_record(self, answer: Any) -> dict[str, Any]:
        return {"kind": "file", "names": [f.name for f in answer]}

    async def send(self) -> list[UploadedFile] | None:  # type: ignore[override]
        """Ask for files and wait: the uploaded files, or None on timeout."""
        result: list[UploadedFile] | None = await self._ask()
        return result


class AskElementMessage(_Ask):
    """Show a custom element as a form and return the values the user submits."""

    kind = "element"

    def __init__(self, content: str, element: CustomElement, author: str | None = None,
                 timeout: float = 90, raise_on_timeout: bool = False, **kwargs: Any) -> None:
        super().__init__(content, author, timeout, raise_on_timeout, **kwargs)
        self.element = element

    def _spec(self) -> AskSpec:
        return {"element": self.element.to_dict()}

    def _answer_record(self, answer: Any) -> dict[str, Any]:
        return {"kind": "element", "values": answer}

    async def send(self) -> dict[str, Any] | None:  # type: ignore[override]
        """Show the element and wait: the values submitted with it, or None on timeout."""
        self.element.for_id = self.id
        result: dict[str, Any] | None = await self._ask()
        return result
