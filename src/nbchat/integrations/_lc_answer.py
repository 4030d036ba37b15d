"""Final-answer streaming: find the answer prefix in an LLM's tokens, stream what follows
into a chat message.

The prefix is matched on text, not on token boundaries, so "Final Answer:" is found however
the model splits it ("Final", " Answer", ":" or "Final", " ", "Answer:").
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from nbchat.message import Message
from nbchat.session import ChatSession

DEFAULT_ANSWER_PREFIX = ("Final", "Answer", ":")


class AnswerPrefix:
    """The prefix that starts the final answer. With `strip` (the default) whitespace is
    ignored on both sides: tokens ["Final", "Answer", ":"] match "Final Answer:" and
    "Final  Answer :". An empty prefix makes every token part of the answer."""

    def __init__(self, tokens: Sequence[str], strip: bool = True) -> None:
        self.strip = strip
        self.text = "".join(t.strip() for t in tokens) if strip else "".join(tokens)

    def find(self, tail: str, token: str) -> tuple[str, int | None]:
        """Feed `token` after the text seen so far (`tail`, its last few characters).
        Return the new tail, and the index in `token` where the answer starts, or None."""
        target = self.text
        if not target:
            return tail, 0
        size = len(target)
        for index, char in enumerate(token):
            if self.strip and char.isspace():
                continue
            tail = (tail + char)[-size:]
            if tail == target:
                return tail, index + 1
        return tail, None


class AnswerStream:
    """A chat message the answer streams into. Tokens are queued and written by a session
    task, so the message's own (async) streaming API is used from synchronous callbacks."""

    def __init__(self, session: ChatSession) -> None:
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.message: Message | None = None
        self.started = False  # leading whitespace of the answer is dropped
        self.closed = False
        self.task = session.spawn(self._pump())

    def put(self, text: str) -> None:
        if not self.started:
            text = text.lstrip()
            if not text:
                return
            self.started = True
        self._queue.put_nowait(text)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._queue.put_nowait(None)

    async def _pump(self) -> None:
        message: Message | None = None
        while True:
            item = await self._queue.get()
            # Write everything queued meanwhile in one go.
            items = [item]
            while item is not None and not self._queue.empty():
                item = self._queue.get_nowait()
                items.append(item)
            text = "".join(i for i in items if i is not None)
            if text:
                if message is None:
                    message = self.message = Message(content="")
                await message.stream_token(text)
            if items[-1] is None:
                if message is not None:
                    await message.send()
                return
