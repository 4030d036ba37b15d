"""Data shapes shared by the runtime, the protocol and the data layer.

The dict shapes keep Chainlit's names (camelCase keys) so custom data layers and code
reading history port over unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Literal, NotRequired, TypedDict, TypeVar

StepType = Literal[
    "run",
    "tool",
    "llm",
    "embedding",
    "retrieval",
    "rerank",
    "undefined",
    "user_message",
    "assistant_message",
    "system_message",
]
MESSAGE_STEP_TYPES: frozenset[str] = frozenset(
    {"user_message", "assistant_message", "system_message"}
)
ElementDisplay = Literal["inline", "side", "page"]
ElementType = Literal[
    "text",
    "image",
    "file",
    "pdf",
    "audio",
    "video",
    "plotly",
    "pyplot",
    "dataframe",
    "tasklist",
    "custom",
]


class StepDict(TypedDict):
    """A step (message, tool call, run, …) as sent to the browser and stored."""

    id: str
    name: str
    type: str
    threadId: str
    parentId: str | None
    input: str
    output: str
    isError: bool
    createdAt: str
    start: str | None
    end: str | None
    metadata: dict[str, Any]
    tags: list[str] | None
    language: str | None
    generation: dict[str, Any] | None
    showInput: bool | str
    defaultOpen: bool
    streaming: bool
    waitForAnswer: bool
    # nbchat extension: the step was open when its task was stopped.
    cancelled: NotRequired[bool]
    command: NotRequired[str | None]
    # The option chosen in each composer mode picker, {mode id: option id} (user messages).
    modes: NotRequired[dict[str, str] | None]
    icon: NotRequired[str | None]
    autoCollapse: NotRequired[bool]
    feedback: NotRequired[FeedbackDict | None]


class ElementDict(TypedDict):
    """An element as sent to the browser and stored; the bytes are at `url` or `objectKey`."""

    id: str
    threadId: str | None
    type: str
    name: str
    display: str
    forId: str | None
    mime: str | None
    size: str | None
    language: str | None
    url: str | None
    # Server-held bytes: fetched through the transport's file route, never a client path.
    objectKey: str | None
    # Inline content for text-like elements (text, plotly JSON, dataframe JSON, tasklist).
    content: NotRequired[str | None]
    props: NotRequired[dict[str, Any]]
    page: NotRequired[int | None]
    autoPlay: NotRequired[bool | None]
    playerConfig: NotRequired[dict[str, Any] | None]
    chainlitKey: NotRequired[str | None]


class FeedbackDict(TypedDict):
    """A rating of a step: `value` 1 (up) or 0 (down), with an optional comment."""

    forId: str
    id: NotRequired[str | None]
    value: Literal[0, 1]
    comment: NotRequired[str | None]
    threadId: NotRequired[str | None]


@dataclass
class Feedback:
    """A rating as Chainlit's data layers receive it in `upsert_feedback` (chainlit.types)."""

    forId: str
    value: Literal[0, 1]
    threadId: str | None = None
    id: str | None = None
    comment: str | None = None


class ThreadDict(TypedDict):
    """A stored conversation, with its steps and elements when read whole."""

    id: str
    createdAt: str
    name: str | None
    userId: str | None
    userIdentifier: str | None
    tags: list[str] | None
    metadata: dict[str, Any] | None
    steps: list[StepDict]
    elements: list[ElementDict] | None


@dataclass
class User:
    """An app user. `identifier` is unique (login name, e-mail, OAuth subject)."""

    identifier: str
    display_name: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The user as sent in `welcome` and stored."""
        return {
            "identifier": self.identifier,
            "display_name": self.display_name,
            "metadata": self.metadata,
        }


@dataclass
class PersistedUser(User):
    """A user as stored by a data layer."""

    id: str = ""
    createdAt: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The stored user, with its id and creation time."""
        return {**super().to_dict(), "id": self.id, "createdAt": self.createdAt}


@dataclass
class Pagination:
    """Which page of a list to read: `first` items after `cursor`."""

    first: int = 20
    cursor: str | None = None


@dataclass
class ThreadFilter:
    """What threads to list: by feedback, user or a search in their text."""

    feedback: Literal[0, 1] | None = None
    userId: str | None = None
    search: str | None = None


@dataclass
class PageInfo:
    """Where a page is in its list."""

    hasNextPage: bool
    startCursor: str | None
    endCursor: str | None

    def to_dict(self) -> dict[str, Any]:
        """The page info in the REST API's camelCase shape."""
        return {
            "hasNextPage": self.hasNextPage,
            "startCursor": self.startCursor,
            "endCursor": self.endCursor,
        }


T = TypeVar("T")


@dataclass
class PaginatedResponse(Generic[T]):
    """One page of a list and where it is."""

    pageInfo: PageInfo
    data: list[T]

    def to_dict(self) -> dict[str, Any]:
        """The page as the REST API returns it."""
        return {"pageInfo": self.pageInfo.to_dict(), "data": self.data}
