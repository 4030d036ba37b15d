"""Chainlit's data layer contract, `nbchat.data.BaseDataLayer`: write a layer against it.

The abstract methods, their names and parameters are Chainlit 2.x's
(`chainlit.data.base.BaseDataLayer`), so a layer written for Chainlit works by changing
its imports from `chainlit` to `nbchat`. It receives what Chainlit gives it:
`create_element(element)` an element object (`id`, `thread_id`, `for_id`, `name`, `type`,
`mime`, `url`, bytes in `content` or a file at `path`, `to_dict()`), `create_step(step_dict)`
and `update_step(step_dict)` a StepDict, `upsert_feedback(feedback)` a `Feedback` dataclass.

Hosts never call such a layer directly: `nbchat.data.adapter.AdaptedDataLayer` puts the
write-behind queue in front of it (writes return at once, are ordered, retried with
backoff, logged, and a failed durable write is reported to its caller), validates input,
and checks ownership through `get_thread_author`. `build_debug_url`, `close` and
`get_favorite_steps` have defaults here (abstract in some Chainlit releases), so nbchat
requires no method that Chainlit does not.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from nbchat.types import (
    ElementDict,
    Feedback,
    PaginatedResponse,
    Pagination,
    PersistedUser,
    StepDict,
    ThreadDict,
    ThreadFilter,
    User,
)

if TYPE_CHECKING:
    from nbchat.element import Element


class BaseDataLayer(ABC):
    """Base class for a custom data layer, as in Chainlit. All methods are coroutines."""

    # -- users ---------------------------------------------------------------------------

    @abstractmethod
    async def get_user(self, identifier: str) -> PersistedUser | None:
        """The stored user with this identifier, or None."""

    @abstractmethod
    async def create_user(self, user: User) -> PersistedUser | None:
        """Store the user (or update an existing identifier) and return it with its id."""

    @abstractmethod
    async def delete_feedback(self, feedback_id: str) -> bool:
        """Delete the feedback; False when there was none with this id."""

    @abstractmethod
    async def upsert_feedback(self, feedback: Feedback) -> str:
        """Store the feedback of step `feedback.forId` (replacing `feedback.id`); its id."""

    @abstractmethod
    async def create_element(self, element: Element) -> Any:
        """Store the element; its bytes are in `element.content` (or at `element.path`)."""

    @abstractmethod
    async def get_element(self, thread_id: str, element_id: str) -> ElementDict | None:
        """The stored element as an ElementDict, or None."""

    @abstractmethod
    async def delete_element(self, element_id: str, thread_id: str | None = None) -> Any:
        """Delete the element (of that thread, when given)."""

    @abstractmethod
    async def create_step(self, step_dict: StepDict) -> Any:
        """Store a new step (its thread may not exist yet: create it)."""

    @abstractmethod
    async def update_step(self, step_dict: StepDict) -> Any:
        """Store the step's new version (a complete StepDict)."""

    @abstractmethod
    async def delete_step(self, step_id: str) -> Any:
        """Delete the step and its feedback."""

    @abstractmethod
    async def get_thread_author(self, thread_id: str) -> str:
        """The identifier of the user who owns the thread."""

    @abstractmethod
    async def delete_thread(self, thread_id: str) -> Any:
        """Delete the thread with its steps, elements and feedback."""

    @abstractmethod
    async def list_threads(
        self, pagination: Pagination, filters: ThreadFilter
    ) -> PaginatedResponse[ThreadDict]:
        """A page of threads, newest activity first, filtered (userId, search, feedback)."""

    @abstractmethod
    async def get_thread(self, thread_id: str) -> ThreadDict | None:
        """The thread with its steps and elements, or None."""

    @abstractmethod
    async def update_thread(
        self,
        thread_id: str,
        name: str | None = None,
        user_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        tags: list[str] | None = None,
    ) -> Any:
        """Create or update the thread; None arguments leave the stored value as is."""

    async def build_debug_url(self) -> str:
        """A link to the layer's own debugging UI; '' when it has none."""
        return ""

    async def close(self) -> None:  # noqa: B027 - a no-op default, as most layers need
        """Release connections; the layer is not used afterwards."""

    async def get_favorite_steps(self, user_id: str) -> list[StepDict]:
        """The user's favorite steps (metadata.favorite); none unless the layer stores them."""
        return []

    async def set_step_favorite(self, step_dict: StepDict, favorite: bool) -> StepDict:
        """Mark the step as a favorite (metadata.favorite) and store it with update_step."""
        metadata = step_dict.get("metadata") or {}
        metadata["favorite"] = favorite
        step_dict["metadata"] = metadata
        await self.update_step(step_dict)
        return step_dict
