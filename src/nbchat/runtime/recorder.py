"""Persist a chat as it happens: the bridge from a session's events to a data layer.

The recorder listens to every flushed batch of the session's emitter (after the session's
own state mirror applied it), turns it into data-layer writes, and hands them to one writer
task, in order. The data layer batches them (write-behind). A streaming step's text is
checkpointed at most every `data.checkpoint_ms` (default 1 s), so a crash mid-reply loses
at most that much of it; every other change, and the end of the stream, is written at once.
(Writing every flush made a thousand streaming chats write ten thousand rows a second.)

The thread is created lazily, on the first user message, and named after it; what happened
before (the welcome message of on_chat_start) is written then. The user's own message is
made durable before `on_message` runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from functools import partial
from typing import TYPE_CHECKING, Any

from nbchat.data import NativeDataLayer
from nbchat.ids import utc_now
from nbchat.protocol import outbound
from nbchat.types import StepDict, ThreadDict, User
from nbchat.user_session import storable_values, thread_tags

if TYPE_CHECKING:
    from nbchat.runtime.session import ChatSession

log = logging.getLogger("nbchat")
Write = Callable[[], Coroutine[Any, Any, Any]]
# Whose threads a session without a logged-in user writes: the notebook's owner.
LOCAL_USER = User(identifier="local", display_name="Notebook user")
THREAD_NAME_LENGTH = 80


def thread_name(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= THREAD_NAME_LENGTH else line[: THREAD_NAME_LENGTH - 1] + "…"


def _left_open(step: StepDict) -> bool:
    if step.get("streaming"):
        return True
    return bool(step.get("start")) and not step.get("end") and step["type"] != "user_message"


class ThreadRecorder:
    def __init__(self, session: ChatSession, data: NativeDataLayer) -> None:
        self.session = session
        self.data = data
        self.thread_created = False
        self._before_thread: list[Write] = []
        self._queue: asyncio.Queue[Write] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._feedback_ids: dict[str, str] = {}
        # objectKeys of stored elements this chat may read back (resumed threads).
        self.stored_keys: set[str] = set()
        # Set while a resumed thread's history is replayed to the client.
        self.muted = False
        # Streaming steps: when each was last written, and those held back until then.
        self.checkpoint_s = session.config.data.checkpoint_ms / 1000
        self._checkpointed: dict[str, float] = {}
        self._held: set[str] = set()
        self._held_timer: asyncio.TimerHandle | None = None
        # The thread metadata and tags last written: the end of the chat writes them again
        # only when they changed (user_session values set later).
        self._stored_metadata: tuple[dict[str, Any], list[str] | None] | None = None

    @classmethod
    def attach(cls, session: ChatSession, data: NativeDataLayer) -> ThreadRecorder:
        """A recorder listening to the session's batches (the session keeps it as its
        `recorder`: made in its constructor, or anew for a new chat)."""
        recorder = cls(session, data)
        session.emitter.listeners.append(recorder.on_batch)
        return recorder

    @property
    def user(self) -> User:
        return self.session.user or LOCAL_USER

    # ------------------------------------------------------------------ events → writes

    def on_batch(self, batch: list[dict[str, Any]]) -> None:
        if self.muted:
            return
        steps: dict[str, StepDict] = {}
        writes: list[Write] = []

        def flush_steps() -> None:
            for step_id, step in steps.items():
                if self._hold(step_id, step):
                    continue
                writes.append(partial(self.data.update_step, dict(step)))  # type: ignore[arg-type]
            steps.clear()

        for event in batch:
            kind = event["type"]
            if kind in ("step", "token"):
                step_id = event["step"]["id"] if kind == "step" else event["id"]
                current = self.session.state.steps.get(step_id)
                if current is not None:
                    steps[step_id] = current  # several updates of one step: one write
                continue
            flush_steps()
            if kind == "step_delete":
                writes.append(partial(self.data.delete_step, event["id"]))
            elif kind == "element":
                writes.append(partial(self._store_element, event["element"]))
            elif kind == "element_delete":
                writes.append(partial(self.data.delete_element, event["id"]))
            elif kind == "feedback":
                writes.append(partial(self._store_feedback, event))
            elif kind == "settings":
                writes.append(self._store_metadata)
        flush_steps()
        for write in writes:
            if self.thread_created:
                self._enqueue(write)
            else:
                self._before_thread.append(write)

    def _hold(self, step_id: str, step: StepDict) -> bool:
        """Whether a streaming step's write waits for its next checkpoint (and arrange it)."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        if not step.get("streaming"):
            self._checkpointed.pop(step_id, None)
            self._held.discard(step_id)
            return False
        last = self._checkpointed.get(step_id)
        # (a timer may fire up to the clock's resolution early: 1 ms of slack)
        if last is None or now - last >= self.checkpoint_s - 0.001:
            self._checkpointed[step_id] = now
            self._held.discard(step_id)
            return False
        self._held.add(step_id)
        if self._held_timer is None:
            self._held_timer = loop.call_at(last + self.checkpoint_s, self._write_held)
        return True

    def _write_held(self) -> None:
        """Checkpoint the streaming steps whose writes were held back."""
        self._held_timer = None
        held, self._held = self._held, set()
        now = asyncio.get_running_loop().time()
        for step_id in held:
            step = self.session.state.steps.get(step_id)
            if step is None:
                continue
            self._checkpointed[step_id] = now
            write = partial(self.data.update_step, dict(step))  # type: ignore[arg-type]
            if self.thread_created:
                self._enqueue(write)
            else:
                self._before_thread.append(write)

    def _enqueue(self, write: Write) -> None:
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write_loop())
        self._queue.put_nowait(write)

    async def _write_loop(self) -> None:
        while True:
            write = await self._queue.get()
            try:
                await write()
            except Exception:  # a bad write must not stop the chat or the later writes
                log.exception("nbchat: persisting the chat failed")
            finally:
                self._queue.task_done()

    async def _store_element(self, element: dict[str, Any]) -> None:
        data = None
        if element.get("objectKey"):
            blob = await self.session.load_blob(element["objectKey"])
            data = blob[0] if blob else None
        stored = dict(element, threadId=self.session.thread_id)
        if data is not None:
            stored["objectKey"] = None
        await self.data.create_element(stored, data)  # type: ignore[arg-type]

    async def _store_feedback(self, event: dict[str, Any]) -> None:
        step_id = event["stepId"]
        if event["feedback"] is None:
            feedback_id = self._feedback_ids.pop(step_id, None)
            if feedback_id is not None:
                await self.data.delete_feedback(feedback_id)
            return
        self._feedback_ids[step_id] = await self.data.upsert_feedback(event["feedback"])

    def _metadata(self) -> dict[str, Any]:
        # The app's user_session values too, as Chainlit keeps them (restored on resume).
        return {**storable_values(self.session.user_data),
                "chat_profile": self.session.chat_profile,
                "chat_settings": dict(self.session.chat_settings)}

    def _tags(self) -> list[str] | None:
        return thread_tags(self.session.user_data, self.session.chat_profile,
                           self.session.config.features.auto_tag_thread)

    async def _store_metadata(self) -> None:
        metadata, tags = self._metadata(), self._tags()
        self._stored_metadata = (metadata, tags)
        await self.data.update_thread(self.session.thread_id, metadata=metadata, tags=tags)

    def settings_changed(self) -> None:
        """The user changed the chat settings (no event of ours says so): store them, in
        order with the other writes, or with the thread when it is created."""
        if self.thread_created and self._stored_metadata != (self._metadata(), self._tags()):
            self._enqueue(self._store_metadata)
        # Before the thread exists, before_message writes the metadata as it is then.

    # ------------------------------------------------------------------ lifecycle

    async def before_message(self, step: StepDict) -> None:
        """Create the thread on the first message; make the message durable."""
        if not self.thread_created:
            persisted = await self.data.create_user(self.user)
            metadata, tags = self._metadata(), self._tags()
            self._stored_metadata = (metadata, tags)
            await self.data.update_thread(
                self.session.thread_id, name=thread_name(step["output"]) or "New chat",
                user_id=persisted.id, metadata=metadata, tags=tags)
            self.thread_created = True
            self.session.emit(outbound.thread(self.session.thread_id,
                                              thread_name(step["output"])))
            for write in self._before_thread:
                self._enqueue(write)
            self._before_thread.clear()
        await self._queue.join()
        await self.data.create_step(step, durable=True)

    async def persist_now(self, step: StepDict) -> None:
        """Write `step` now, after the queued writes, raising what the data layer raises
        (`ErrorMessage(fail_on_persist_error=True)`). Before the thread exists there is
        nothing to attach it to: it goes with the thread's first writes, as usual."""
        if not self.thread_created:
            return
        await self._queue.join()
        await self.data.update_step(step)

    async def load(self, thread_id: str) -> ThreadDict | None:
        """The stored thread if this chat's user owns it, else None (as if it did not
        exist: a denied read looks like a missing one)."""
        thread = await self.data.get_thread(thread_id)
        if thread is None or thread.get("userIdentifier") != self.user.identifier:
            return None
        self.thread_created = True
        for step in thread["steps"]:
            if _left_open(step):
                self._mark_interrupted(step)
        self.stored_keys = {str(e["objectKey"]) for e in thread.get("elements") or []
                            if e.get("objectKey")}
        for step in thread["steps"]:
            feedback = step.get("feedback")
            if feedback and feedback.get("id"):
                self._feedback_ids[step["id"]] = str(feedback["id"])
        return thread

    def _mark_interrupted(self, step: StepDict) -> None:
        """A step stored open (streaming, or started and never ended) that no live callback
        of this chat holds: a dead process (kill -9, a crash) left it. Shown and stored as
        stopped, not as streaming forever."""
        step["streaming"] = False
        step["cancelled"] = True
        step["end"] = step.get("end") or utc_now()
        stored = {k: v for k, v in step.items() if k != "feedback"}
        self._enqueue(partial(self.data.update_step, stored))  # type: ignore[arg-type]

    async def read_stored_blob(self, key: str) -> bytes | None:
        if key not in self.stored_keys:
            return None
        storage = getattr(self.data, "storage", None)
        return None if storage is None else bytes(await storage.get(key))

    async def close(self) -> None:
        """Write what is queued (the data layer's own close flushes the rest), and the
        chat's user_session values and tags as they are at its end."""
        if self.thread_created and self._stored_metadata != (self._metadata(), self._tags()):
            self._enqueue(self._store_metadata)
        if self._held_timer is not None:
            self._held_timer.cancel()
            self._write_held()  # text streamed since the last checkpoint
        if self._writer is not None:
            await self._queue.join()
            self._writer.cancel()
            self._writer = None
