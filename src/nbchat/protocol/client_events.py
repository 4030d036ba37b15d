"""Client → server events: what a UI may send. The TypedDicts are the schema that
`nbchat.protocol.decode_client` validates against."""

# No `from __future__ import annotations` here: the validator reads these annotations at
# run time, and NotRequired must stay visible to TypedDict.
from typing import Any, Literal, NotRequired, TypedDict, Union


class Hello(TypedDict):
    """First event on a connection. `sessionId` + `lastSeq` reattach to a live session
    (served mode) and ask for a replay of what was missed."""

    type: Literal["hello"]
    protocolVersion: int
    sessionId: NotRequired[str]
    lastSeq: NotRequired[int]
    chatProfile: NotRequired[str]
    resumeThreadId: NotRequired[str]
    # Values of the variables `project.user_env` names, given by the user.
    env: NotRequired[dict[str, str]]


class UserMessage(TypedDict):
    """A message from the user. A `clientId` comes back on the step event that shows it."""

    type: Literal["user_message"]
    content: str
    fileIds: NotRequired[list[str]]
    command: NotRequired[str]
    # The option chosen in each mode picker: {mode id: option id}.
    modes: NotRequired[dict[str, str]]
    clientId: NotRequired[str]


class EditMessage(TypedDict):
    """Edit a user message: later steps are removed and on_message runs again."""

    type: Literal["edit_message"]
    id: str
    content: str


class ActionClick(TypedDict):
    """A click on an action button; the payload is the server's, looked up by id."""

    type: Literal["action"]
    id: str


class ElementUpdate(TypedDict):
    """A custom element's `updateElement(props)` (or its model's `save_changes()`): the
    element's new props. The server keeps them and sends the element again."""

    type: Literal["element_update"]
    id: str
    props: dict[str, Any]


class CallAction(TypedDict):
    """A custom element's `callAction({name, payload})`: runs `@cl.action_callback(name)`
    with an Action made from the browser's name and payload (Chainlit's rule; only while
    the chat shows a custom element). Answered by `call_action_result` with the same
    `callId`."""

    type: Literal["call_action"]
    callId: str
    name: str
    payload: NotRequired[dict[str, Any]]


class AskResponse(TypedDict):
    """Answers an action, file or element ask (text asks are answered by user_message)."""

    type: Literal["ask_response"]
    askId: str
    actionId: NotRequired[str]
    fileIds: NotRequired[list[str]]
    values: NotRequired[dict[str, Any]]


class Stop(TypedDict):
    type: Literal["stop"]


class SettingsUpdate(TypedDict):
    type: Literal["settings_update"]
    settings: dict[str, Any]


class UserEnv(TypedDict):
    """The user's values of the variables `project.user_env` names, given after hello."""

    type: Literal["user_env"]
    env: dict[str, str]


class SettingsEdit(TypedDict):
    """The settings form as the user is editing it, before confirming (on_settings_edit)."""

    type: Literal["settings_edit"]
    settings: dict[str, Any]


class Feedback(TypedDict):
    type: Literal["feedback"]
    stepId: str
    value: Literal[0, 1]
    comment: NotRequired[str | None]


class FeedbackDelete(TypedDict):
    type: Literal["feedback_delete"]
    stepId: str


class Fork(TypedDict):
    """Copy the stored chat up to message `stepId` into a new thread (answered `forked`)."""

    type: Literal["fork"]
    stepId: str


class UploadStart(TypedDict):
    """Begin an upload. Its bytes follow as `upload_chunk` buffers, or, with `via: "http"`
    (when `welcome.httpUploads`), in one HTTP PUT to the ticket `upload_ticket` gives."""

    type: Literal["upload_start"]
    uploadId: str
    name: str
    mime: str
    size: int
    via: NotRequired[Literal["events", "http"]]


class UploadChunk(TypedDict):
    type: Literal["upload_chunk"]
    uploadId: str


class UploadEnd(TypedDict):
    type: Literal["upload_end"]
    uploadId: str


class UploadCancel(TypedDict):
    """Drop an upload in progress (the user cancelled, or its HTTP PUT failed)."""

    type: Literal["upload_cancel"]
    uploadId: str


class McpConnect(TypedDict):
    """Add an MCP server to this chat, when `welcome.config.mcp.user_servers` lists its
    transport: stdio with `command` (a full path the config allows) and `args`, or
    streamable-http / sse with `url` (a URL the config allows) and `headers`."""

    type: Literal["mcp_connect"]
    name: str
    clientType: Literal["stdio", "streamable-http", "sse"]
    command: NotRequired[str]
    args: NotRequired[list[str]]
    url: NotRequired[str]
    headers: NotRequired[dict[str, str]]


class McpDisconnect(TypedDict):
    """Close one of this chat's MCP servers (on_mcp_disconnect runs)."""

    type: Literal["mcp_disconnect"]
    name: str
class WindowMessage(TypedDict):
    """What the page embedding the chat posted to it (`window.postMessage` from an origin in
    `server.embed_origins`), for `@cl.on_window_message`."""

    type: Literal["window_message"]
    data: Any


class CallFnResult(TypedDict):
    """The embedding page's answer to a `call_fn` (`cl.CopilotFunction.acall`)."""

    type: Literal["call_fn_result"]
    callId: str
    result: NotRequired[Any]
    error: NotRequired[str]


ClientEvent = Union[  # noqa: UP007 - a runtime Union is iterated by the validator
    Hello,
    UserMessage,
    EditMessage,
    ActionClick,
    ElementUpdate,
    CallAction,
    AskResponse,
    Stop,
    SettingsUpdate,
    SettingsEdit,
    UserEnv,
    Feedback,
    FeedbackDelete,
    Fork,
    UploadStart,
    UploadChunk,
    UploadEnd,
    UploadCancel,
    McpConnect,
    McpDisconnect,
    WindowMessage,
    CallFnResult,
]
