"""The part of the SQL data layers that does not depend on the SQL dialect.

`QueuedDataLayer` validates every write, puts it on the write-behind queue, flushes
before reads (so reads see every earlier write: a no-op when nothing is queued) and
runs deletes as queue barriers. A backend implements the `_db_*` primitives and `_apply`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
from abc import abstractmethod
from pathlib import Path
from typing import Any, cast

from nbchat.data.native import NativeDataLayer
from nbchat.data.storage import BlobStorage, LocalStorage
from nbchat.data.validation import (
    STEP_DROPPED_KEYS,
    STEP_KEYS,
    STEP_REQUIRED,
    DataLayerError,
    InvalidDataError,
    Limits,
    NotFoundError,
    check_id,
    check_json,
    check_mapping,
    check_str,
    check_tags,
    normalize_element,
    normalize_feedback,
    normalize_step,
)
from nbchat.data.writebehind import Batch, ThreadPatch, WriteBehindQueue
from nbchat.ids import new_id
from nbchat.types import (
    ElementDict,
    FeedbackDict,
    PageInfo,
    PaginatedResponse,
    Pagination,
    PersistedUser,
    StepDict,
    ThreadDict,
    ThreadFilter,
    User,
)

MAX_PAGE = 200


def encode_cursor(updated_at: str, thread_id: str) -> str:
    raw = json.dumps([updated_at, thread_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if (isinstance(value, list) and len(value) == 2
                and all(isinstance(v, str) for v in value)):
            return value[0], value[1]
    except (ValueError, binascii.Error, UnicodeDecodeError):
        pass
    raise InvalidDataError(f"cursor {cursor[:40]!r} was not made by list_threads; start over")


def search_terms(text: str) -> list[str]:
    """Words of a search box, lower-cased; punctuation never reaches the query syntax."""
    return re.findall(r"\w+", text.lower())[:16]


class QueuedDataLayer(NativeDataLayer):
    def __init__(
        self,
        storage: BlobStorage | Path | None = None,
        *,
        storage_provider: BlobStorage | None = None,
        limits: Limits | None = None,
        interval: float = 0.02,
        max_batch: int = 2000,
    ) -> None:
        # `storage_provider=` is Chainlit's keyword for the same thing (any storage client).
        if storage is not None and storage_provider is not None:
            raise InvalidDataError("give storage or storage_provider, not both")
        storage = storage if storage is not None else storage_provider
        self.limits = limits or Limits()
        self.storage: BlobStorage | None = (
            LocalStorage(storage) if isinstance(storage, Path) else storage
        )
        self.queue = WriteBehindQueue(self._apply, interval=interval, max_batch=max_batch,
                                      is_outage=self._is_outage)

    @property
    def available(self) -> bool:
        return self.queue.down is None

    def _is_outage(self, exc: BaseException) -> bool:
        """Whether a failed commit means the database cannot be reached (then the writes
        are kept and retried) rather than a bad operation (then it is dropped and logged).
        Backends add their driver's connection errors."""
        return isinstance(exc, OSError | TimeoutError) or (
            isinstance(exc, DataLayerError) and isinstance(exc.__cause__, OSError))

    # -- backend primitives ------------------------------------------------------------------

    @abstractmethod
    async def _apply(self, batch: Batch) -> None:
        """Commit the batch in one transaction (threads, steps, elements, feedback)."""

    @abstractmethod
    async def _db_step(self, step_id: str) -> StepDict | None: ...

    @abstractmethod
    async def _db_step_owner(self, step_id: str) -> tuple[str, str | None] | None:
        """(thread id, existing feedback id) of a stored step."""

    @abstractmethod
    async def _db_user_exists(self, user_id: str) -> bool: ...

    @abstractmethod
    async def _db_delete_thread(self, thread_id: str) -> list[str]:
        """Delete; return the object keys of its elements."""

    @abstractmethod
    async def _db_delete_step(self, step_id: str) -> None: ...

    @abstractmethod
    async def _db_delete_feedback(self, feedback_id: str) -> bool: ...

    @abstractmethod
    async def _db_delete_element(self, element_id: str, thread_id: str | None) -> str | None:
        """Delete; return its object key ('' when it had none, None when not found)."""

    @abstractmethod
    async def _db_get_thread(self, thread_id: str) -> ThreadDict | None: ...

    @abstractmethod
    async def _db_list_threads(
        self, first: int, after: tuple[str, str] | None, user_id: str | None,
        feedback: int | None, terms: list[str],
    ) -> list[tuple[ThreadDict, str]]:
        """Up to `first` threads after the cursor key, each with its updated_at."""

    @abstractmethod
    async def _db_get_element(self, thread_id: str, element_id: str) -> ElementDict | None: ...

    @abstractmethod
    async def _db_thread_author(self, thread_id: str) -> str | None: ...

    @abstractmethod
    async def _db_close(self) -> None: ...

    # -- writes ------------------------------------------------------------------------------

    async def update_thread(
        self,
        thread_id: str,
        name: str | None = None,
        user_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        tags: list[str] | None = None,
    ) -> None:
        lim = self.limits
        patch = ThreadPatch(
            id=check_id(thread_id, "thread_id", lim),
            name=check_str(name, "thread name", lim.max_name, optional=True),
            user_id=None if user_id is None else check_id(user_id, "user_id", lim),
            tags=check_tags(tags, "thread tags", lim),
            metadata=None if metadata is None else dict(check_mapping(metadata, "metadata")),
        )
        check_json(metadata, "thread metadata", lim)
        if patch.user_id is not None and not await self._db_user_exists(patch.user_id):
            raise NotFoundError(f"no user with id {user_id!r}; create it with create_user first")
        self.queue.put_thread(patch)

    async def create_step(self, step_dict: StepDict, *, durable: bool = False) -> None:
        step = normalize_step(check_mapping(step_dict, "step"), self.limits)
        await self._put_step(step, durable)

    async def update_step(self, step_dict: StepDict, *, durable: bool = False) -> None:
        given = check_mapping(step_dict, "step")
        unknown = set(given) - STEP_KEYS - STEP_DROPPED_KEYS
        if unknown:
            raise InvalidDataError(f"unknown step keys {sorted(unknown)}; see StepDict")
        step_id = check_id(given.get("id"), "step.id", self.limits)
        base: StepDict | None = None
        if not set(given) >= STEP_REQUIRED:  # partial update: merge into the stored step
            base = self.queue.find_step(step_id) or await self._db_step(step_id)
            if base is None and "threadId" not in given:
                raise NotFoundError(f"no step {step_id!r} to update; give threadId to create it")
        merged: dict[str, Any] = {**cast(dict[str, Any], base or {}), **given}
        for dropped in STEP_DROPPED_KEYS:
            merged.pop(dropped, None)
        await self._put_step(normalize_step(merged, self.limits), durable)

    async def _put_step(self, step: StepDict, durable: bool) -> None:
        batch = self.queue.put_step(step)
        if durable:
            await self.queue.durable(batch, ("step", step["id"]))

    async def upsert_feedback(self, feedback: FeedbackDict) -> str:
        fb = normalize_feedback(feedback, self.limits)
        step = self.queue.find_step(fb["forId"])
        queued = self.queue.find_feedback(fb["forId"])
        owner = None if step else await self._db_step_owner(fb["forId"])
        if step is None and owner is None:
            raise NotFoundError(f"no step {fb['forId']!r} to attach feedback to")
        thread_id = step["threadId"] if step else cast(tuple[str, str | None], owner)[0]
        stored_id = queued.get("id") if queued else (owner[1] if owner else None)
        feedback_id = stored_id or fb.get("id") or new_id()  # one feedback per step
        fb["id"] = feedback_id
        fb["threadId"] = thread_id
        batch = self.queue.put_feedback(fb)
        await self.queue.durable(batch, ("feedback", fb["forId"]))
        return feedback_id

    async def create_element(
        self, element_dict: ElementDict, content: bytes | None = None
    ) -> ElementDict:
        el = normalize_element(element_dict, self.limits)
        if content is not None:
            if not isinstance(content, bytes | bytearray):
                raise InvalidDataError(f"content must be bytes, got {type(content).__name__}")
            if self.storage is None:
                raise InvalidDataError("this data layer has no blob storage for element bytes")
            el["objectKey"] = await self.storage.put(bytes(content), el["mime"])
            el["size"] = el["size"] or str(len(content))
        self.queue.put_element(el)
        return el

    async def delete_thread(self, thread_id: str) -> None:
        thread_id = check_id(thread_id, "thread_id", self.limits)
        keys = await self.queue.barrier(lambda: self._db_delete_thread(thread_id))
        for key in keys:
            await self._delete_blob(key)

    async def delete_step(self, step_id: str) -> None:
        step_id = check_id(step_id, "step_id", self.limits)
        await self.queue.barrier(lambda: self._db_delete_step(step_id))

    async def delete_feedback(self, feedback_id: str) -> bool:
        feedback_id = check_id(feedback_id, "feedback_id", self.limits)
        return await self.queue.barrier(lambda: self._db_delete_feedback(feedback_id))

    async def delete_element(self, element_id: str, thread_id: str | None = None) -> None:
        element_id = check_id(element_id, "element_id", self.limits)
        if thread_id is not None:
            thread_id = check_id(thread_id, "thread_id", self.limits)
        key = await self.queue.barrier(lambda: self._db_delete_element(element_id, thread_id))
        if key:
            await self._delete_blob(key)

    async def _delete_blob(self, key: str) -> None:
        # Blobs go after the rows commit: a crash in between leaves an orphan file, never a
        # row pointing at a missing file.
        if self.storage is not None:
            # An objectKey this storage never made (InvalidDataError): nothing of ours.
            with contextlib.suppress(InvalidDataError):
                await self.storage.delete(key)

    async def flush(self) -> None:
        await self.queue.flush()

    async def close(self) -> None:
        try:
            await self.queue.close()
        finally:
            try:
                await self._db_close()
            finally:
                if self.storage is not None:
                    await self.storage.close()

    # -- reads -------------------------------------------------------------------------------

    async def _seen(self) -> None:
        if self.queue.dirty:
            await self.queue.flush()

    async def get_thread(self, thread_id: str) -> ThreadDict | None:
        check_id(thread_id, "thread_id", self.limits)
        await self._seen()
        return await self._db_get_thread(thread_id)

    async def get_thread_author(self, thread_id: str) -> str:
        check_id(thread_id, "thread_id", self.limits)
        await self._seen()
        author = await self._db_thread_author(thread_id)
        if author is None:
            raise NotFoundError(f"thread {thread_id!r} does not exist or has no user")
        return author

    async def get_element(self, thread_id: str, element_id: str) -> ElementDict | None:
        check_id(thread_id, "thread_id", self.limits)
        check_id(element_id, "element_id", self.limits)
        await self._seen()
        return await self._db_get_element(thread_id, element_id)

    def _check_listing(
        self, pagination: Pagination, filters: ThreadFilter
    ) -> tuple[int, str | None, list[str]] | None:
        """Validated (first, userId, search terms); None when the search cannot match."""
        first = pagination.first
        if isinstance(first, bool) or not isinstance(first, int) or not 1 <= first <= MAX_PAGE:
            raise InvalidDataError(f"pagination.first must be an int in 1..{MAX_PAGE}")
        user_id = None if filters.userId is None else check_id(
            filters.userId, "filters.userId", self.limits)
        if filters.feedback not in (None, 0, 1) or isinstance(filters.feedback, bool):
            raise InvalidDataError("filters.feedback must be 0, 1 or None")
        terms: list[str] = []
        if filters.search is not None:
            text = check_str(filters.search, "filters.search", self.limits.max_name)
            terms = search_terms(text or "")
            if not terms:  # only punctuation: nothing can match
                return None
        return first, user_id, terms

    async def list_threads(
        self, pagination: Pagination, filters: ThreadFilter
    ) -> PaginatedResponse[ThreadDict]:
        checked = self._check_listing(pagination, filters)
        after = None if pagination.cursor is None else decode_cursor(pagination.cursor)
        if checked is None:
            return PaginatedResponse(PageInfo(False, None, None), [])
        first, user_id, terms = checked
        await self._seen()
        rows = await self._db_list_threads(first + 1, after, user_id, filters.feedback, terms)
        page = rows[:first]
        cursors = [encode_cursor(updated, t["id"]) for t, updated in page]
        info = PageInfo(len(rows) > first, cursors[0] if cursors else None,
                        cursors[-1] if cursors else None)
        return PaginatedResponse(info, [t for t, _ in page])

    async def get_user(self, identifier: str) -> PersistedUser | None:
        check_str(identifier, "identifier", self.limits.max_name)
        return await self._db_get_user(identifier)

    async def create_user(self, user: User) -> PersistedUser:
        if not isinstance(user, User):
            raise InvalidDataError(f"create_user needs a User, got {type(user).__name__}")
        check_str(user.identifier, "user.identifier", self.limits.max_name)
        if not user.identifier:
            raise InvalidDataError("user.identifier must not be empty")
        check_str(user.display_name, "user.display_name", self.limits.max_name, optional=True)
        meta = check_json(user.metadata or {}, "user.metadata", self.limits) or "{}"
        return await self._db_upsert_user(user, meta)

    @abstractmethod
    async def _db_get_user(self, identifier: str) -> PersistedUser | None: ...

    @abstractmethod
    async def _db_upsert_user(self, user: User, metadata_json: str) -> PersistedUser: ...
