"""A custom data layer written against Chainlit 2.x's BaseDataLayer, as a user would.

It follows Chainlit's docs' custom data layer page: subclass `BaseDataLayer`, implement the
abstract methods with Chainlit's signatures (`create_element(element)`, `create_step(step_dict)`
without keywords, `upsert_feedback(Feedback)`, …), keep everything in dicts. Only the
imports say nbchat. A `MemoryStore` outlives a layer instance (as a database would), so a
"reopened" layer sees what an earlier one wrote. `gate` (an asyncio.Event) makes every
write wait for it (a slow layer); `fail_writes` makes that many writes raise (an outage).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

# Chainlit's import paths, with chainlit → nbchat.
from nbchat.data import BaseDataLayer, InvalidDataError, queue_until_user_message
from nbchat.element import Element, ElementDict
from nbchat.ids import new_id, utc_now
from nbchat.step import StepDict
from nbchat.types import (
    Feedback,
    PageInfo,
    PaginatedResponse,
    Pagination,
    ThreadDict,
    ThreadFilter,
)
from nbchat.user import PersistedUser, User

_clock = itertools.count(1)
# Layers an app file made with @cl.data_layer (tests/serve reads it back).
MADE: list[MemoryDataLayer] = []


@dataclass
class MemoryStore:
    users: dict[str, PersistedUser] = field(default_factory=dict)  # by identifier
    threads: dict[str, dict[str, Any]] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    elements: dict[str, dict[str, Any]] = field(default_factory=dict)
    feedback: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id
    bytes: dict[str, bytes] = field(default_factory=dict)  # element id → content received
    calls: list[str] = field(default_factory=list)


class MemoryDataLayer(BaseDataLayer):
    def __init__(self, store: MemoryStore | None = None, *, gate: asyncio.Event | None = None,
                 fail_writes: int = 0,
                 failure: type[Exception] = ConnectionError) -> None:
        self.store = store or MemoryStore()
        self.gate = gate
        self.fail_writes = fail_writes
        self.failure = failure  # ConnectionError: an outage; anything else: a bad write
        self.closed = False

    async def _write(self, name: str) -> None:
        self.store.calls.append(name)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_writes > 0:
            self.fail_writes -= 1
            raise self.failure(f"{name}: the database is unreachable")

    # -- users

    async def get_user(self, identifier: str) -> PersistedUser | None:
        return self.store.users.get(identifier)

    async def create_user(self, user: User) -> PersistedUser | None:
        old = self.store.users.get(user.identifier)
        persisted = PersistedUser(
            identifier=user.identifier,
            display_name=user.display_name or (old.display_name if old else None),
            metadata=dict(user.metadata), id=old.id if old else new_id(),
            createdAt=old.createdAt if old else utc_now())
        self.store.users[user.identifier] = persisted
        return persisted

    # -- threads

    def _touch(self, thread_id: str) -> dict[str, Any]:
        thread = self.store.threads.setdefault(thread_id, {
            "id": thread_id, "createdAt": utc_now(), "name": None, "userId": None,
            "tags": None, "metadata": {}})
        thread["activity"] = next(_clock)
        return thread

    async def update_thread(self, thread_id: str, name: str | None = None,
                            user_id: str | None = None, metadata: dict[str, Any] | None = None,
                            tags: list[str] | None = None) -> None:
        await self._write("update_thread")
        thread = self._touch(thread_id)
        for key, value in (("name", name), ("userId", user_id), ("tags", tags)):
            if value is not None:
                thread[key] = value
        if metadata is not None:
            thread["metadata"] = copy.deepcopy(metadata)

    async def get_thread_author(self, thread_id: str) -> str:
        thread = self.store.threads.get(thread_id)
        if thread is None:
            raise ValueError(f"Thread {thread_id} not found")
        return self._identifier(thread.get("userId")) or ""

    def _identifier(self, user_id: str | None) -> str | None:
        return next((u.identifier for u in self.store.users.values() if u.id == user_id), None)

    def _thread(self, thread: dict[str, Any], *, full: bool) -> ThreadDict:
        out = {k: copy.deepcopy(v) for k, v in thread.items() if k != "activity"}
        out["userIdentifier"] = self._identifier(thread.get("userId"))
        out["steps"] = [self._step(s) for s in self._steps_of(thread["id"])] if full else []
        out["elements"] = [copy.deepcopy(e) for e in self.store.elements.values()
                           if e["threadId"] == thread["id"]] if full else None
        return out  # type: ignore[return-value]

    def _steps_of(self, thread_id: str) -> list[dict[str, Any]]:
        return sorted((s for s in self.store.steps.values() if s["threadId"] == thread_id),
                      key=lambda s: (s["createdAt"], s["order"]))

    def _step(self, step: dict[str, Any]) -> StepDict:
        out = {k: copy.deepcopy(v) for k, v in step.items() if k != "order"}
        fb = next((f for f in self.store.feedback.values() if f["forId"] == step["id"]), None)
        out["feedback"] = dict(fb) if fb else None
        return out  # type: ignore[return-value]

    async def get_thread(self, thread_id: str) -> ThreadDict | None:
        thread = self.store.threads.get(thread_id)
        return None if thread is None else self._thread(thread, full=True)

    async def delete_thread(self, thread_id: str) -> None:
        await self._write("delete_thread")
        self.store.threads.pop(thread_id, None)
        for s in self._steps_of(thread_id):
            self._drop_step(s["id"])
        for eid in [e["id"] for e in self.store.elements.values() if e["threadId"] == thread_id]:
            del self.store.elements[eid]

    def _text(self, thread: dict[str, Any]) -> list[str]:
        words = re.findall(r"\w+", (thread.get("name") or "").lower())
        for s in self._steps_of(thread["id"]):
            words += re.findall(r"\w+", f"{s['input']} {s['output']}".lower())
        return words

    def _matches(self, thread: dict[str, Any], terms: list[str]) -> bool:
        words = self._text(thread)
        *whole, last = terms
        return all(t in words for t in whole) and any(w.startswith(last) for w in words)

    async def list_threads(self, pagination: Pagination,
                           filters: ThreadFilter) -> PaginatedResponse[ThreadDict]:
        after: tuple[int, str] | None = None
        if pagination.cursor is not None:
            try:
                raw = json.loads(base64.urlsafe_b64decode(pagination.cursor.encode()))
                after = (int(raw[0]), str(raw[1]))
            except (ValueError, TypeError, IndexError) as exc:
                raise InvalidDataError(f"bad cursor {pagination.cursor!r}") from exc
        terms = re.findall(r"\w+", (filters.search or "").lower())
        rows = []
        for t in self.store.threads.values():
            key = (t["activity"], t["id"])
            if after is not None and key >= after:
                continue
            if filters.userId is not None and t.get("userId") != filters.userId:
                continue
            if terms and not self._matches(t, terms):
                continue
            if filters.feedback is not None and not any(
                    f["value"] == filters.feedback and f["threadId"] == t["id"]
                    for f in self.store.feedback.values()):
                continue
            rows.append((key, t))
        rows.sort(key=lambda r: r[0], reverse=True)
        page = rows[:pagination.first]
        cursors = [base64.urlsafe_b64encode(json.dumps(list(k)).encode()).decode()
                   for k, _ in page]
        return PaginatedResponse(
            PageInfo(len(rows) > pagination.first, cursors[0] if cursors else None,
                     cursors[-1] if cursors else None),
            [self._thread(t, full=False) for _, t in page])

    # -- steps

    @queue_until_user_message()
    async def create_step(self, step_dict: StepDict) -> None:
        await self._write("create_step")
        self._put_step(step_dict)

    def _put_step(self, step_dict: StepDict) -> None:
        old = self.store.steps.get(step_dict["id"])
        self.store.steps[step_dict["id"]] = {
            **copy.deepcopy(dict(step_dict)), "order": old["order"] if old else next(_clock)}
        self._touch(step_dict["threadId"])

    async def update_step(self, step_dict: StepDict) -> None:
        await self._write("update_step")
        self._put_step(step_dict)

    async def delete_step(self, step_id: str) -> None:
        await self._write("delete_step")
        self._drop_step(step_id)

    def _drop_step(self, step_id: str) -> None:
        self.store.steps.pop(step_id, None)
        for fid in [f["id"] for f in self.store.feedback.values() if f["forId"] == step_id]:
            del self.store.feedback[fid]

    # -- feedback

    async def upsert_feedback(self, feedback: Feedback) -> str:
        await self._write("upsert_feedback")
        fid = feedback.id or new_id()
        self.store.feedback[fid] = {"id": fid, "forId": feedback.forId,
                                    "threadId": feedback.threadId, "value": feedback.value,
                                    "comment": feedback.comment}
        return fid

    async def delete_feedback(self, feedback_id: str) -> bool:
        await self._write("delete_feedback")
        return self.store.feedback.pop(feedback_id, None) is not None

    # -- elements

    @queue_until_user_message()
    async def create_element(self, element: Element) -> None:
        await self._write("create_element")
        if isinstance(element.content, bytes):
            self.store.bytes[element.id] = element.content
        elif element.path is not None:
            self.store.bytes[element.id] = element.path.read_bytes()
        self.store.elements[element.id] = element.to_dict()  # type: ignore[assignment]
        if element.thread_id:
            self._touch(element.thread_id)

    async def get_element(self, thread_id: str, element_id: str) -> ElementDict | None:
        el = self.store.elements.get(element_id)
        return copy.deepcopy(el) if el and el["threadId"] == thread_id else None  # type: ignore[return-value]

    async def delete_element(self, element_id: str, thread_id: str | None = None) -> None:
        await self._write("delete_element")
        el = self.store.elements.get(element_id)
        if el is not None and (thread_id is None or el["threadId"] == thread_id):
            del self.store.elements[element_id]

    async def build_debug_url(self) -> str:
        return ""

    async def close(self) -> None:
        self.closed = True
