"""Server → client events: what the runtime sends, each built as one of these TypedDicts
(carrying a per-session `seq` once flushed)."""

# No `from __future__ import annotations` here: the validator reads these annotations at
# run time, and NotRequired must stay visible to TypedDict.
from typing import Any, Literal, NotRequired, TypedDict, Union

from nbchat.types import ElementDict, FeedbackDict, StepDict


class ActionDict(TypedDict):
    id: str
    name: str
    forId: str | None
    payload: dict[str, Any]
    label: str
    tooltip: str
    icon: str | None


class AskSpec(TypedDict):
    """What the client needs to render an ask. Unused keys are absent."""

    accept: NotRequired[list[str] | dict[str, list[str]]]
    maxSizeMb: NotRequired[int]
    maxFiles: NotRequired[int]
    actions: NotRequired[list[ActionDict]]
    element: NotRequired[ElementDict]


class Welcome(TypedDict):
    type: Literal["welcome"]
    seq: int
    protocolVersion: int
    sessionId: str
    threadId: str
    user: dict[str, Any] | None
    config: dict[str, Any]
    chatProfiles: list[dict[str, Any]]
    chatProfile: str | None
    starters: list[dict[str, Any]]
    # Starters grouped under labels (`@cl.set_starter_categories`); empty when not grouped.
    starterCategories: list[dict[str, Any]]
    commands: list[dict[str, Any]]
    modes: list[dict[str, Any]]
    # The host takes upload bodies over HTTP (`upload_start` with `via: "http"`).
    httpUploads: bool
    # The host stores chats, so a `fork` can copy this one into a new thread.
    forks: NotRequired[bool]


class Snapshot(TypedDict):
    """Full state, sent when a replay cannot cover what a client missed."""

    type: Literal["snapshot"]
    seq: int
    steps: list[StepDict]
    elements: list[ElementDict]
    actions: list[ActionDict]
    ask: "AskEvent | None"
    settings: "SettingsEvent | None"
    running: bool
    # The element sidebar as open now (absent or None: closed).
    sidebar: NotRequired["SidebarDict | None"]


class StepEvent(TypedDict):
    """Create or replace a step (messages are steps). A user message's step carries the
    `clientId` its `user_message` gave, if any."""

    type: Literal["step"]
    seq: int
    step: StepDict
    clientId: NotRequired[str]


class StepDelete(TypedDict):
    type: Literal["step_delete"]
    seq: int
    id: str


class TokenEvent(TypedDict):
    """Coalesced stream tokens for one step; `replace` sets the output instead of appending."""

    type: Literal["token"]
    seq: int
    id: str
    delta: str
    replace: NotRequired[bool]


class ElementEvent(TypedDict):
    type: Literal["element"]
    seq: int
    element: ElementDict


class ElementDelete(TypedDict):
    type: Literal["element_delete"]
    seq: int
    id: str


class SidebarDict(TypedDict):
    """What the element sidebar shows (`cl.ElementSidebar`)."""

    title: str
    elements: list[ElementDict]
    key: str | None


class SidebarEvent(TypedDict):
    """Change the element sidebar: a `title` opens it (keeping its elements); `elements`
    replace what it shows, unless it is open with the same non-null `key`; an empty
    `elements` list closes it (and forgets the title)."""

    type: Literal["sidebar"]
    seq: int
    title: NotRequired[str]
    elements: NotRequired[list[ElementDict]]
    key: NotRequired[str | None]


class CallActionResult(TypedDict):
    """What the action callback a custom element called returned (`response`, made
    JSON-safe), or why it could not run (`error`)."""

    type: Literal["call_action_result"]
    seq: int
    callId: str
    success: bool
    response: NotRequired[Any]
    error: NotRequired[str]


class ActionEvent(TypedDict):
    type: Literal["action"]
    seq: int
    action: ActionDict


class ActionDelete(TypedDict):
    type: Literal["action_delete"]
    seq: int
    id: str


class AskEvent(TypedDict):
    type: Literal["ask"]
    seq: int
    askId: str
    kind: Literal["text", "action", "file", "element"]
    stepId: str
    timeout: float
    spec: AskSpec


class AskCancel(TypedDict):
    type: Literal["ask_cancel"]
    seq: int
    askId: str


class TaskStart(TypedDict):
    type: Literal["task_start"]
    seq: int


class TaskEnd(TypedDict):
    type: Literal["task_end"]
    seq: int


class SettingsEvent(TypedDict):
    """The chat settings form: input widget schemas with their current values."""

    type: Literal["settings"]
    seq: int
    inputs: list[dict[str, Any]]


class CommandsEvent(TypedDict):
    type: Literal["commands"]
    seq: int
    commands: list[dict[str, Any]]


class ModesEvent(TypedDict):
    """The composer's mode pickers (`cl.context.emitter.set_modes`)."""

    type: Literal["modes"]
    seq: int
    modes: list[dict[str, Any]]


class FeedbackEvent(TypedDict):
    """Feedback stored for a step; `feedback` is None when it was deleted."""

    type: Literal["feedback"]
    seq: int
    stepId: str
    feedback: FeedbackDict | None


class ThreadEvent(TypedDict):
    """The thread got a (new) name."""

    type: Literal["thread"]
    seq: int
    id: str
    name: str | None


class UploadTicket(TypedDict):
    """Where the bytes of an `upload_start {via: "http"}` go: one PUT of the whole file to
    `{API root}/uploads/{ticket}`, then `upload_end`."""

    type: Literal["upload_ticket"]
    seq: int
    uploadId: str
    ticket: str


class UploadDone(TypedDict):
    type: Literal["upload_done"]
    seq: int
    uploadId: str
    fileId: str


class Forked(TypedDict):
    """The chat was forked at message `stepId` (a `fork` of this client): the new stored
    thread `threadId` holds it up to there; the client opens it to carry on."""

    type: Literal["forked"]
    seq: int
    threadId: str
    fromThreadId: str
    stepId: str


class Notice(TypedDict):
    """A short message for the user (toast), e.g. "the app was reloaded"."""

    type: Literal["notice"]
    seq: int
    level: Literal["info", "success", "warning", "error"]
    message: str


class ErrorEvent(TypedDict):
    """A rejected client event or a failure that is not a chat message."""

    type: Literal["error"]
    seq: int
    code: str
    message: str


class McpStatus(TypedDict):
    """An MCP server of this chat connected (with its tools' names), failed to, or was
    closed."""

    type: Literal["mcp_status"]
    seq: int
    name: str
    clientType: str
    status: Literal["connected", "failed", "disconnected"]
    tools: list[str]
    error: NotRequired[str]
class WindowMessageEvent(TypedDict):
    """For the page embedding the chat (`cl.send_window_message`): the page posts `data`
    to its parent window, to each origin of `server.embed_origins`."""

    type: Literal["window_message"]
    seq: int
    data: Any


class CallFn(TypedDict):
    """A function the embedding page runs (`cl.CopilotFunction`); the page posts it to its
    parent and relays the answer as `call_fn_result` with the same `callId`."""

    type: Literal["call_fn"]
    seq: int
    callId: str
    name: str
    args: dict[str, Any]
    timeout: float


class TokenUsage(TypedDict):
    """Tokens an LLM call used (`cl.context.emitter.update_token_count`, Chainlit's
    `token_usage`); the client adds them up."""

    type: Literal["token_usage"]
    seq: int
    count: int


ServerEvent = Union[  # noqa: UP007
    Welcome,
    Snapshot,
    StepEvent,
    StepDelete,
    TokenEvent,
    ElementEvent,
    ElementDelete,
    SidebarEvent,
    CallActionResult,
    ActionEvent,
    ActionDelete,
    AskEvent,
    AskCancel,
    TaskStart,
    TaskEnd,
    SettingsEvent,
    CommandsEvent,
    ModesEvent,
    FeedbackEvent,
    ThreadEvent,
    UploadTicket,
    UploadDone,
    Forked,
    Notice,
    ErrorEvent,
    McpStatus,
    WindowMessageEvent,
    CallFn,
    TokenUsage,
]
