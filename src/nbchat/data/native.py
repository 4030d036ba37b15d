"""The native data layer interface: what every nbchat host calls.

It is Chainlit's contract (nbchat.data.NativeDataLayer) made richer where a host needs
more: `durable=` on step writes, element bytes passed next to the element dict, feedback
as a dict, `flush()`, search, sharing and the history export. nbchat's own SQLite and
PostgreSQL layers implement it on top of the write-behind queue; a plain Chainlit-style
layer gets it from `nbchat.data.adapter.AdaptedDataLayer`, which wraps it.

Semantics every implementation follows (tests/data/test_contract.py checks them):

* Unknown ids: `get_*` return None, `delete_*` do nothing (delete_feedback returns False),
  `get_thread_author` and feedback for an unknown step raise NotFoundError.
* Bad input raises InvalidDataError before anything is stored.
* `update_thread` creates the thread when missing; `metadata` is merged key by key into
  the stored metadata; other None arguments leave the stored value as is.
* `create_step` of an existing id replaces it; `update_step` merges the given keys into
  the stored step (an unknown id with a `threadId` is created, Chainlit's upsert).
* Writes return once queued; `durable=True` or `flush()` waits for the commit. Reads see
  every write made before them.
* A thread is shared (read-only link) when `metadata["is_shared"]` is true, as in Chainlit.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from nbchat.types import (
    ElementDict,
    FeedbackDict,
    PaginatedResponse,
    Pagination,
    PersistedUser,
    StepDict,
    ThreadDict,
    ThreadFilter,
    User,
)

SHARED_KEY = "is_shared"


def is_shared(thread: ThreadDict) -> bool:
    """True when the thread's owner turned its read-only share link on."""
    return bool((thread.get("metadata") or {}).get(SHARED_KEY))


class NativeDataLayer(ABC):
    """The interface hosts use (write-behind, durable writes, bytes, search). Coroutines
    (but `available`)."""

    @property
    def available(self) -> bool:
        """False while the database cannot be reached (an outage seen by a write); shown
        by the served app's /health. A layer that cannot tell says True."""
        return True

    # -- users ---------------------------------------------------------------------------

    @abstractmethod
    async def get_user(self, identifier: str) -> PersistedUser | None: ...

    @abstractmethod
    async def create_user(self, user: User) -> PersistedUser:
        """Create the user, or update display name and metadata of an existing identifier."""

    # -- threads -------------------------------------------------------------------------

    @abstractmethod
    async def get_thread_author(self, thread_id: str) -> str:
        """The identifier of the thread's user; NotFoundError if no thread or no user."""

    @abstractmethod
    async def list_threads(
        self, pagination: Pagination, filters: ThreadFilter
    ) -> PaginatedResponse[ThreadDict]:
        """Threads, most recently active first, `pagination.first` at a time.

        `filters.search` is full-text over thread names and step input/output. Items have
        `steps == []` and `elements is None`; call get_thread for the content. The cursor
        is `pageInfo.endCursor` of the previous page; pages stay stable under inserts.
        """

    @abstractmethod
    async def get_thread(self, thread_id: str) -> ThreadDict | None:
        """The thread with its steps (oldest first, each with `feedback`) and elements."""

    @abstractmethod
    async def update_thread(
        self,
        thread_id: str,
        name: str | None = None,
        user_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        tags: list[str] | None = None,
    ) -> None: ...

    @abstractmethod
    async def delete_thread(self, thread_id: str) -> None:
        """Delete the thread with its steps, elements (and their blobs) and feedback."""

    async def set_thread_shared(self, thread_id: str, shared: bool) -> None:
        """Turn the thread's read-only share link on or off."""
        await self.update_thread(thread_id, metadata={SHARED_KEY: shared})

    # -- steps ---------------------------------------------------------------------------

    @abstractmethod
    async def create_step(self, step_dict: StepDict, *, durable: bool = False) -> None: ...

    @abstractmethod
    async def update_step(self, step_dict: StepDict, *, durable: bool = False) -> None: ...

    @abstractmethod
    async def delete_step(self, step_id: str) -> None: ...

    # -- feedback ------------------------------------------------------------------------

    @abstractmethod
    async def upsert_feedback(self, feedback: FeedbackDict) -> str:
        """Store the (one) feedback of step `forId`; return its id."""

    @abstractmethod
    async def delete_feedback(self, feedback_id: str) -> bool: ...

    # -- elements ------------------------------------------------------------------------

    @abstractmethod
    async def create_element(
        self, element_dict: ElementDict, content: bytes | None = None
    ) -> ElementDict:
        """Store the element; `content` goes to blob storage under a new `objectKey`."""

    @abstractmethod
    async def get_element(self, thread_id: str, element_id: str) -> ElementDict | None: ...

    @abstractmethod
    async def delete_element(self, element_id: str, thread_id: str | None = None) -> None: ...

    # -- lifecycle -----------------------------------------------------------------------

    async def flush(self) -> None:  # noqa: B027 - a no-op default for unbuffered layers
        """Make every write made so far durable."""

    @abstractmethod
    async def close(self) -> None:
        """Flush and release connections. The layer cannot be used afterwards."""

    # -- history export (nbchat.history); generic, backends override with one query ------

    async def export_threads(self, user_id: str | None = None) -> list[ThreadDict]:
        out: list[ThreadDict] = []
        cursor: str | None = None
        while True:
            page = await self.list_threads(Pagination(100, cursor), ThreadFilter(userId=user_id))
            out += page.data
            if not page.pageInfo.hasNextPage:
                return out
            cursor = page.pageInfo.endCursor

    async def export_steps(self, user_id: str | None = None) -> list[StepDict]:
        steps: list[StepDict] = []
        for t in await self.export_threads(user_id):
            full = await self.get_thread(t["id"])
            steps += full["steps"] if full else []
        return steps

    async def export_feedback(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """Feedback rows with the step they rate: forId, threadId, value, comment, …"""
        return [
            {**fb, "threadId": s["threadId"], "stepType": s["type"], "stepCreatedAt":
             s["createdAt"], "createdAt": fb.get("createdAt", s["createdAt"])}
            for s in await self.export_steps(user_id)
            if (fb := s.get("feedback"))
        ]
