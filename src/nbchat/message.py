"""Chat messages: what the user and the assistant say. Stored and sent as steps."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from nbchat.app import call_user
from nbchat.context import get_session
from nbchat.ids import utc_now
from nbchat.step import StepBase, to_text

if TYPE_CHECKING:
    from nbchat.action import Action
    from nbchat.element import Element


class Message(StepBase):
    """A chat message. `content` may be text, or a dict/list shown as a JSON code block."""

    def __init__(
        self,
        content: Any = "",
        author: str | None = None,
        language: str | None = None,
        parent_id: str | None = None,
        actions: list[Action] | None = None,
        elements: list[Element] | None = None,
        type: str = "assistant_message",
        metadata: dict[str, Any] | None = None,
        tags: list[str] | None = None,
        id: str | None = None,
        created_at: str | None = None,
    ) -> None:
        super().__init__(
            name=author or "", type=type, id=id, parent_id=parent_id, metadata=metadata,
            tags=tags, language=language,
        )
        self.content = content
        self.actions: list[Action] = list(actions or [])
        self.elements: list[Element] = list(elements or [])
        self.command: str | None = None
        if created_at:
            self.created_at = created_at

    @property
    def author(self) -> str:
        """Who wrote the message (Chainlit's name for the step's `name`)."""
        return self.name

    @author.setter
    def author(self, value: str) -> None:
        self.name = value

    @property
    def content(self) -> str:
        """The message text (the step's `output`)."""
        return self.output

    @content.setter
    def content(self, value: Any) -> None:
        text, language = to_text(value)
        if language:
            self.language = language
        self._parts = [text] if text else []

    def to_dict(self) -> Any:
        """The message as a step dict, with the slash command it was sent with."""
        data = super().to_dict()
        if self.command:
            data["command"] = self.command
        return data

    async def _resolve_author(self) -> None:
        session = get_session("Message.send")
        if not self.name:
            self.name = "User" if self.type == "user_message" else session.config.ui.name
        rename = session.app.get("author_rename")
        if rename is not None and self.type != "user_message":
            self.name = str(await call_user(rename, self.name))

    async def send(self) -> Message:
        """Show the message (or finish streaming it), with its elements and actions."""
        if not self._sent:
            await self._resolve_author()
        if self.start is None:
            self.start = self.created_at
        self.end = utc_now()
        self.streaming = False
        self._emit()
        get_session("Message.send").open_steps.pop(self.id, None)
        for element in self.elements:
            await element.send(for_id=self.id)
        for action in self.actions:
            await action.send(for_id=self.id)
        return self

    async def _start_streaming(self) -> None:
        await self._resolve_author()
        await super()._start_streaming()
        get_session("Message.stream_token").open_steps[self.id] = self

    async def update(self) -> bool:
        """Show the changed message (and any new elements); ends a stream, as in Chainlit."""
        self.streaming = False
        self._emit()
        for element in self.elements:
            if not element.sent:
                await element.send(for_id=self.id)
        for action in self.actions:
            if not action.sent:
                await action.send(for_id=self.id)
        await asyncio.sleep(0)  # let the flush run, as Chainlit's awaited emit does
        return True

    async def remove(self) -> bool:
        """Take the message and its actions away."""
        for action in self.actions:
            await action.remove()
        self._emit_delete()
        return True


class ErrorMessage(Message):
    """A message shown as an error."""

    def __init__(self, content: str, author: str = "Error", **kwargs: Any) -> None:
        super().__init__(content=content, author=author, **kwargs)
        self.is_error = True
