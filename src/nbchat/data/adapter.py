"""A Chainlit-style layer behind nbchat's write-behind queue: what hosts get for one.

`AdaptedDataLayer(layer)` gives every host the native interface (NativeDataLayer) over a
plain `BaseDataLayer` written against Chainlit's method names, so the custom layer never
sits in a chat's path:

* writes are validated (same limits and errors as the SQL layers), queued and return at
  once; the writer task hands them to the layer in call order, each operation retried
  with exponential backoff; what still fails is logged, counted (`queue.failed_writes`)
  and raised to a caller that waits for it (`durable=True`, `flush()`), so a user message
  that could not be stored is reported, never acknowledged and lost;
* a step's first write is `create_step(step_dict)`, later ones `update_step(step_dict)`
  with the complete, merged step, as Chainlit calls them;
* element bytes go to nbchat's blob storage (the host serves them by `objectKey`) *and*
  to the layer, as an element object with `content` (Chainlit's `create_element(element)`);
* feedback reaches the layer as a `Feedback` dataclass;
* ownership is the layer's `get_thread_author`.

What the layer cannot answer (Chainlit has no "get step" nor "user by id") is known from
what went through this adapter and from threads read back (a resumed thread's steps).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, cast

from nbchat.data.base import BaseDataLayer
from nbchat.data.queued import QueuedDataLayer
from nbchat.data.storage import BlobStorage
from nbchat.data.validation import InvalidDataError, Limits, NormalizedStep, NotFoundError
from nbchat.data.writebehind import Batch, Key
from nbchat.types import (
    ElementDict,
    Feedback,
    PageInfo,
    PaginatedResponse,
    Pagination,
    PersistedUser,
    StepDict,
    ThreadDict,
    ThreadFilter,
    User,
)

log = logging.getLogger("nbchat.data")


def element_object(element: ElementDict, content: bytes | None) -> Any:
    """The nbchat Element (Text, Image, File, …) a Chainlit layer's create_element gets."""
    from nbchat.element import Element, element_class

    cls = element_class(element["type"])
    obj: Element = cls.__new__(cls)  # the stored fields, without the author-side checks
    Element.__init__(
        obj, name=element["name"], content=content, url=element.get("url"),
        display=element.get("display") or cls.default_display, size=element.get("size"),
        language=element.get("language"), mime=element.get("mime"),
        for_id=element.get("forId"), id=element["id"], thread_id=element.get("threadId"))
    obj.object_key = element.get("objectKey")
    for key, attribute in cls.extra_fields.items():
        setattr(obj, attribute, element.get(key))
    if obj.content is None and isinstance(element.get("content"), str):
        obj.content = element.get("content")  # inline text (Text elements)
    # The validated dict the host stored, with every field it has (props, page, …), not
    # only those the class sends; a layer that stores `to_dict()` gets the whole element.
    stored = dict(element)
    setattr(obj, "to_dict", lambda: dict(stored))  # noqa: B010 - an instance override
    return obj


def validated_step(step: StepDict) -> StepDict:
    """A fresh copy of the step as validated: metadata and generation decoded from the JSON
    checked when it was queued (the caller may have mutated its dicts since)."""
    out = cast(dict[str, Any], dict(step))
    if isinstance(step, NormalizedStep):
        out["metadata"] = json.loads(step.metadata_json)
        gen = step.generation_json
        out["generation"] = None if gen is None else json.loads(gen)
    return cast(StepDict, out)


def _steps(thread: ThreadDict | None) -> list[StepDict]:
    return (thread["steps"] or []) if thread else []


class AdaptedDataLayer(QueuedDataLayer):
    """The native interface over a Chainlit-style `BaseDataLayer` (see the module doc)."""

    def __init__(
        self,
        layer: BaseDataLayer,
        storage: BlobStorage | None = None,
        *,
        limits: Limits | None = None,
        retries: int = 3,
        backoff: float = 0.05,
        close_layer: bool = True,
        interval: float = 0.02,
        max_batch: int = 2000,
    ) -> None:
        if not isinstance(layer, BaseDataLayer):
            raise TypeError(
                f"a data layer must subclass nbchat.data.BaseDataLayer, got {type(layer).__name__}")
        super().__init__(storage, limits=limits, interval=interval, max_batch=max_batch)
        self.layer = layer
        self.retries = retries
        self.backoff = backoff
        self.close_layer = close_layer  # False: the layer is shared (nbchat.data._data_layer)
        self._step_threads: dict[str, str] = {}  # step id → thread id, of steps the layer has
        self._user_ids: set[str] = set()
        self._bytes: dict[str, bytes] = {}  # element id → bytes not yet handed to the layer

    # -- writes: the queue's batches, operation by operation ------------------------------

    async def _apply(self, batch: Batch) -> None:
        retries = self.retries
        for key, write in self._writes(batch):
            try:
                await self._retrying(key, write, retries)
            except Exception as exc:
                if len(batch) == 1 or self._is_outage(exc):
                    # The queue records and logs a single failure; an outage (the layer
                    # cannot be reached) keeps the whole batch queued until it is back.
                    raise
                batch.errors[key] = exc
                self.queue._log_failure(key, exc)
                # The layer is down: the rest of this batch gets one attempt each, so an
                # outage costs one backoff per batch, not one per write (a 2000-write
                # batch would otherwise hold the writer, and every durable write, for
                # minutes).
                retries = 0

    def _writes(self, batch: Batch) -> list[tuple[Key, Callable[[], Awaitable[Any]]]]:
        out: list[tuple[Key, Callable[[], Awaitable[Any]]]] = []
        for tid, patch in batch.threads.items():
            out.append((("thread", tid), partial(
                self._write_thread, patch.id, patch.name, patch.user_id, patch.metadata,
                patch.tags)))
        for sid, step in batch.steps.items():
            out.append((("step", sid), partial(self._write_step, step)))
        for eid, element in batch.elements.items():
            out.append((("element", eid), partial(self._write_element, element)))
        for fid, fb in batch.feedback.items():
            out.append((("feedback", fid), partial(self.layer.upsert_feedback, Feedback(
                forId=fb["forId"], value=fb["value"], threadId=fb.get("threadId"),
                id=fb.get("id"), comment=fb.get("comment")))))
        return out

    async def _retrying(self, key: Key, write: Callable[[], Awaitable[Any]],
                        retries: int) -> None:
        for attempt in range(retries + 1):
            try:
                await write()
                return
            except Exception as exc:
                if attempt == retries:
                    raise
                delay = self.backoff * 2 ** attempt
                log.warning("nbchat: the data layer could not store %s %s (%s); retry in %.2fs",
                            key[0], key[1], exc, delay)
                await asyncio.sleep(delay)  # backoff before the retry, not synchronization

    async def _write_thread(self, thread_id: str, name: str | None, user_id: str | None,
                            metadata: dict[str, Any] | None, tags: list[str] | None) -> None:
        if metadata is not None:  # merged key by key, whatever the layer itself does
            stored = await self.layer.get_thread(thread_id)
            metadata = {**((stored["metadata"] if stored else None) or {}), **metadata}
        await self.layer.update_thread(thread_id, name=name, user_id=user_id,
                                       metadata=metadata, tags=tags)

    async def _write_step(self, step: StepDict) -> None:
        given = validated_step(step)
        if step["id"] in self._step_threads:
            await self.layer.update_step(given)
        else:
            await self.layer.create_step(given)
        self._step_threads[step["id"]] = step["threadId"]  # (a step may move thread)

    async def _write_element(self, element: ElementDict) -> None:
        content = self._bytes.get(element["id"])
        await self.layer.create_element(element_object(element, content))
        self._bytes.pop(element["id"], None)

    async def create_element(
        self, element_dict: ElementDict, content: bytes | None = None
    ) -> ElementDict:
        stored = await super().create_element(element_dict, content)
        if content is not None:
            self._bytes[stored["id"]] = bytes(content)
        return stored

    # -- the primitives QueuedDataLayer needs, from Chainlit's methods --------------------

    async def _db_get_thread(self, thread_id: str) -> ThreadDict | None:
        thread = await self.layer.get_thread(thread_id)
        for s in _steps(thread):  # known from now on (feedback, updates)
            self._step_threads.setdefault(s["id"], thread_id)
        return thread

    async def _db_step(self, step_id: str) -> StepDict | None:
        thread_id = self._step_threads.get(step_id)
        thread = None if thread_id is None else await self._db_get_thread(thread_id)
        for s in _steps(thread):
            if s["id"] == step_id:
                found = dict(s)
                found.pop("feedback", None)
                return found  # type: ignore[return-value]
        return None

    async def _db_step_owner(self, step_id: str) -> tuple[str, str | None] | None:
        thread_id = self._step_threads.get(step_id)
        thread = None if thread_id is None else await self._db_get_thread(thread_id)
        for s in _steps(thread):
            if s["id"] == step_id:
                feedback = s.get("feedback")
                return thread_id or "", feedback.get("id") if feedback else None
        return None

    async def _db_user_exists(self, user_id: str) -> bool:
        return user_id in self._user_ids

    async def _db_get_user(self, identifier: str) -> PersistedUser | None:
        user = await self.layer.get_user(identifier)
        if user is not None:
            self._user_ids.add(user.id)
        return user

    async def _db_upsert_user(self, user: User, metadata_json: str) -> PersistedUser:
        stored = await self.layer.create_user(user)
        if stored is None:
            raise NotFoundError(f"the data layer did not store user {user.identifier!r}")
        self._user_ids.add(stored.id)
        return stored

    async def _db_thread_author(self, thread_id: str) -> str | None:
        try:
            author = await self.layer.get_thread_author(thread_id)
        except Exception:
            # Chainlit layers raise (ValueError, …) for an unknown thread: that is "none";
            # anything else about an existing thread is an outage and propagates.
            if await self.layer.get_thread(thread_id) is None:
                return None
            raise
        return author or None

    async def _db_get_element(self, thread_id: str, element_id: str) -> ElementDict | None:
        return await self.layer.get_element(thread_id, element_id)

    async def _db_delete_thread(self, thread_id: str) -> list[str]:
        thread = await self.layer.get_thread(thread_id)
        if thread is None:
            return []
        await self.layer.delete_thread(thread_id)
        return [str(e["objectKey"]) for e in thread.get("elements") or [] if e.get("objectKey")]

    async def _db_delete_step(self, step_id: str) -> None:
        await self.layer.delete_step(step_id)
        self._step_threads.pop(step_id, None)

    async def _db_delete_feedback(self, feedback_id: str) -> bool:
        return bool(await self.layer.delete_feedback(feedback_id))

    async def _db_delete_element(self, element_id: str, thread_id: str | None) -> str | None:
        found = None if thread_id is None else await self.layer.get_element(thread_id, element_id)
        await self.layer.delete_element(element_id, thread_id)
        return None if found is None else (found.get("objectKey") or "")

    async def _db_list_threads(
        self, first: int, after: tuple[str, str] | None, user_id: str | None,
        feedback: int | None, terms: list[str],
    ) -> list[tuple[ThreadDict, str]]:
        raise NotImplementedError("list_threads goes to the layer with its own cursors")

    async def list_threads(
        self, pagination: Pagination, filters: ThreadFilter
    ) -> PaginatedResponse[ThreadDict]:
        # Validated as on every layer; the cursor is the layer's own, passed through.
        if pagination.cursor is not None and not isinstance(pagination.cursor, str):
            raise InvalidDataError("pagination.cursor must be a string from list_threads")
        checked = self._check_listing(pagination, filters)
        if checked is None:
            return PaginatedResponse(PageInfo(False, None, None), [])
        await self._seen()
        return await self.layer.list_threads(pagination, filters)

    async def _db_close(self) -> None:
        if self.close_layer:
            await self.layer.close()

    async def build_debug_url(self) -> str:
        """The layer's debugging link (Chainlit's method), '' when it has none."""
        return await self.layer.build_debug_url()
