"""Chat messages: what the user and the assistant say. Stored and sent as steps.

`cl.chat_context` is the chat's conversation so far (every message sent or received, in
order), kept per session and dropped when the chat ends.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from nbchat.app import call_user
from nbchat.ids import utc_now
from nbchat.runtime.context import current_session, get_session
from nbchat.step import StepBase, to_text
from nbchat.types import StepDict

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
        actions: list[Action] | None = None,
        elements: list[Element] | None = None,
        type: str = "assistant_message",
        metadata: dict[str, Any] | None = None,
        tags: list[str] | None = None,
        id: str | None = None,
        parent_id: str | None = None,
        command: str | None = None,
        modes: dict[str, str] | None = None,
        created_at: str | None = None,
    ) -> None:
        super().__init__(
            name=author or "", type=type, id=id, parent_id=parent_id, metadata=metadata,
            tags=tags, language=language,
        )
        self.content = content
        self.actions: list[Action] = list(actions or [])
        self.elements: list[Element] = list(elements or [])
        self.command: str | None = command
        # The option chosen in each composer mode picker: {mode id: option id}.
        self.modes: dict[str, str] | None = modes
        self.fail_on_persist_error = False
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
        if self.modes:
            data["modes"] = dict(self.modes)
        return data

    @classmethod
    def from_dict(cls, _dict: StepDict) -> Message:
        """A message from a step dict (as in a ThreadDict's steps, e.g. in on_chat_resume)."""
        return cls(
            content=_dict.get("output") or "", author=_dict.get("name") or None,
            language=_dict.get("language"), type=_dict.get("type") or "assistant_message",
            metadata=_dict.get("metadata") or {}, tags=_dict.get("tags"), id=_dict["id"],
            parent_id=_dict.get("parentId"), command=_dict.get("command"),
            modes=_dict.get("modes"), created_at=_dict.get("createdAt"))

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
        session = get_session("Message.send")
        session.open_steps.pop(self.id, None)
        chat_context.add(self)
        if self.fail_on_persist_error and session.recorder is not None:
            session.emitter.flush()
            await session.recorder.persist_now(self.to_dict())
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
        chat_context.add(self)
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
        await self.remove_actions()
        chat_context.remove(self)
        self._emit_delete()
        return True

    async def remove_actions(self) -> None:
        """Take the message's action buttons away; the message stays."""
        for action in self.actions:
            await action.remove()


class ErrorMessage(Message):
    """A message shown as an error."""

    def __init__(self, content: str, author: str = "Error",
                 fail_on_persist_error: bool = False, **kwargs: Any) -> None:
        super().__init__(content=content, author=author, **kwargs)
        self.is_error = True
        # Stored at once (not write-behind) and a data layer error raised from send().
        self.fail_on_persist_error = fail_on_persist_error


class ChatContext:
    """`cl.chat_context`: this chat's messages so far, user's and assistant's, in order."""

    def get(self) -> list[Message]:
        """A copy of the chat's messages (empty outside a chat)."""
        session = current_session.get()
        return list(session.chat_context.values()) if session is not None else []

    def add(self, message: Message) -> Message:
        """Append `message` unless it is already there (sending does this)."""
        session = current_session.get()
        if session is not None:
            # Keyed by id: every send and update adds, so a scan would make a chat O(n²).
            session.chat_context.setdefault(message.id, message)
        return message

    def remove(self, message: Message) -> bool:
        """Drop `message`; False if it was not there."""
        session = current_session.get()
        if session is None or session.chat_context.get(message.id) is not message:
            return False
        del session.chat_context[message.id]
        return True

    def clear(self) -> None:
        """Forget the chat's messages (the chat itself is unchanged)."""
        session = current_session.get()
        if session is not None:
            session.chat_context.clear()

    def to_openai(self) -> list[dict[str, str]]:
        """The messages as OpenAI chat messages: [{"role", "content"}], user/assistant
        (other step types as "system")."""
        roles = {"user_message": "user", "assistant_message": "assistant"}
        return [{"role": roles.get(m.type, "system"), "content": m.content}
                for m in self.get()]


chat_context = ChatContext()
