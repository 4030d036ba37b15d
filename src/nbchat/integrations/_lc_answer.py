"""Final-answer streaming: find the answer prefix in an LLM's tokens, stream what follows
into a chat message.

The prefix is matched on text, not on token boundaries, so "Final Answer:" is found however
the model splits it ("Final", " Answer", ":" or "Final", " ", "Answer:").
"""

from __future__ import annotations

from collections.abc import Sequence

from nbchat.integrations._lc_relay import run_now
from nbchat.message import Message
from nbchat.runtime.session import ChatSession

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
    """A chat message the answer streams into, opened with the answer's first text.

    Its first write runs in a session task: it resolves the author (an `author_rename`
    callback may await). Text arriving meanwhile is buffered; after it, tokens are written
    straight from the callback, since writing to a sent message never waits."""

    def __init__(self, session: ChatSession, first: str) -> None:
        self._session = session
        self.message = Message(content="")
        self._buffer = [first]
        self._live = False
        self._closed = False
        self.task = session.spawn(self._open())

    async def _open(self) -> None:
        while self._buffer:
            text = "".join(self._buffer)
            self._buffer.clear()
            await self.message.stream_token(text)
        self._live = True
        if self._closed:
            await self.message.send()

    def put(self, text: str) -> None:
        if self._live:
            run_now(self.message.stream_token(text))
        else:
            self._buffer.append(text)

    def close(self) -> None:
        """Finish the message (now, or when its first write is done)."""
        if self._closed:
            return
        self._closed = True
        if self._live:
            run_now(self.message.send())
