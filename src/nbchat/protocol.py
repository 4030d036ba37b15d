"""The wire protocol: every event nbchat sends or accepts is defined here and nowhere else.

Events are JSON objects with a ``type``. Client events are validated against the
TypedDicts below (the annotations are the schema); anything else becomes a
``ProtocolError`` that the runtime turns into an ``error`` event. Server events carry a
per-session ``seq`` so a reconnecting client can ask for what it missed.

Mirrored by ``js/src/protocol.ts`` and ``docs/protocol.md``; tests keep the three equal.
"""

# No `from __future__ import annotations` here: the validator reads these annotations at
# run time, and NotRequired must stay visible to TypedDict.
import functools
import json
import types
import typing
from typing import Any, Literal, NotRequired, TypedDict, Union

from nbchat.errors import ProtocolError
from nbchat.types import ElementDict, FeedbackDict, StepDict

PROTOCOL_VERSION = 1

# ----------------------------------------------------------------------------- client → server


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


ClientEvent = Union[  # noqa: UP007 - a runtime Union is iterated by the validator
    Hello,
    UserMessage,
    EditMessage,
    ActionClick,
    AskResponse,
    Stop,
    SettingsUpdate,
    SettingsEdit,
    UserEnv,
    Feedback,
    FeedbackDelete,
    UploadStart,
    UploadChunk,
    UploadEnd,
    UploadCancel,
]

# ----------------------------------------------------------------------------- server → client


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


class StepEvent(TypedDict):
    """Create or replace a step (messages are steps)."""

    type: Literal["step"]
    seq: int
    step: StepDict


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


ServerEvent = Union[  # noqa: UP007
    Welcome,
    Snapshot,
    StepEvent,
    StepDelete,
    TokenEvent,
    ElementEvent,
    ElementDelete,
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
    Notice,
    ErrorEvent,
]


def _event_type(cls: type) -> str:
    literal = typing.get_type_hints(cls)["type"]
    (name,) = typing.get_args(literal)
    return str(name)


CLIENT_EVENTS: dict[str, type] = {_event_type(c): c for c in typing.get_args(ClientEvent)}
SERVER_EVENTS: dict[str, type] = {_event_type(c): c for c in typing.get_args(ServerEvent)}

# ----------------------------------------------------------------------------- validation


def _type_name(tp: Any) -> str:
    if tp is type(None):
        return "null"
    if isinstance(tp, type):
        return {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
                "dict": "object", "list": "array"}.get(tp.__name__, tp.__name__)
    origin = typing.get_origin(tp)
    if origin is Literal:
        return " or ".join(json.dumps(a) for a in typing.get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is not None:
        return _type_name(origin)
    return str(tp)


def _matches(value: Any, tp: Any) -> bool:
    if tp is Any:
        return True
    if tp is type(None):
        return value is None
    origin = typing.get_origin(tp)
    if origin is Literal:
        return any(value == a and type(value) is type(a) for a in typing.get_args(tp))
    if origin in (Union, types.UnionType):
        return any(_matches(value, a) for a in typing.get_args(tp))
    if origin is list:
        (item,) = typing.get_args(tp)
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if origin is dict:
        key, item = typing.get_args(tp)
        return isinstance(value, dict) and all(
            _matches(k, key) and _matches(v, item) for k, v in value.items()
        )
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(tp, type):
        return isinstance(value, tp)
    raise TypeError(f"protocol validator cannot check {tp!r}")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """An event class's fields and types. get_type_hints evaluates every annotation anew
    (~75 µs per event); the classes never change, so once per class is enough."""
    return typing.get_type_hints(cls)


def decode_client(frame: str | bytes | dict[str, Any], max_bytes: int) -> ClientEvent:
    """Parse and validate one client event, or raise ProtocolError saying what is wrong."""
    if isinstance(frame, str | bytes):
        if len(frame) > max_bytes:
            raise ProtocolError(
                f"event of {len(frame)} bytes exceeds the limit of {max_bytes} bytes",
                code="too_large",
            )
        try:
            frame = json.loads(frame)
        except ValueError as exc:
            raise ProtocolError(f"event is not valid JSON: {exc}", code="bad_json") from None
    elif len(json.dumps(frame, separators=(",", ":"))) > max_bytes:
        raise ProtocolError(f"event exceeds the limit of {max_bytes} bytes", code="too_large")
    if not isinstance(frame, dict):
        raise ProtocolError("event must be a JSON object with a 'type' field")
    kind = frame.get("type")
    cls = CLIENT_EVENTS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        known = ", ".join(sorted(CLIENT_EVENTS))
        raise ProtocolError(f"unknown event type {kind!r}; expected one of: {known}",
                            code="unknown_type")
    hints = _hints(cls)
    required: frozenset[str] = cls.__required_keys__  # type: ignore[attr-defined]
    for key in frame:
        if key not in hints:
            raise ProtocolError(f"{kind}: unknown field {key!r}")
    for key, tp in hints.items():
        if key not in frame:
            if key in required:
                raise ProtocolError(f"{kind}: missing required field {key!r}")
            continue
        if not _matches(frame[key], tp):
            raise ProtocolError(
                f"{kind}: field {key!r} must be {_type_name(tp)}, "
                f"got {type(frame[key]).__name__}"
            )
    return typing.cast(ClientEvent, frame)


# json.dumps with options builds a JSONEncoder per call; one is enough (encode keeps no
# state between calls, so sharing it across threads is safe).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def encode(events: list[dict[str, Any]]) -> str:
    """Serialize a batch of server events as one wire frame."""
    return _ENCODER.encode(events)
