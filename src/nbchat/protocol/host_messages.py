"""Widget host messages: what the notebook widget's view and its kernel side say to each
other besides chat events.

They share the kernel comm with the chat events, told apart by a `host` key instead of a
`type` (a chat event never has one). The view asks for bytes it cannot fetch over HTTP and
for a fresh chat; the kernel answers a request by its `requestId`, the bytes in the comm
message's first buffer. Served pages have no host messages: their HTTP routes do this.

Mirrored by ``js/src/host_messages.ts`` and ``docs/protocol.md``; tests keep the three equal.
"""

# No `from __future__ import annotations` here: the validator reads these annotations at
# run time, and NotRequired must stay visible to TypedDict.
from typing import Literal, NotRequired, TypedDict, Union


class FileRequest(TypedDict):
    """The bytes of an element or upload of this chat, by its server-made `objectKey`
    (when the model has no `files_url`: no Jupyter server extension answers)."""

    host: Literal["file_request"]
    requestId: str
    objectKey: str


class AssetRequest(TypedDict):
    """A bundle built next to widget.js (`plotly.js`): anywidget loads the view from a
    string, so it has no URL to import a sibling file from."""

    host: Literal["asset_request"]
    requestId: str
    name: str


class Reset(TypedDict):
    """Replace the widget's chat with a fresh session (the History panel); the old one
    ends. The view then sends `hello`, with `resumeThreadId` to open a stored thread."""

    host: Literal["reset"]
    resumeThreadId: NotRequired[str]


class FileResponse(TypedDict):
    """The answer to a `file_request` or `asset_request`: `mime` and the bytes as the
    message's first buffer, or `error` saying why there are none."""

    host: Literal["file_response"]
    requestId: str
    mime: NotRequired[str]
    error: NotRequired[str]


HostRequest = Union[FileRequest, AssetRequest, Reset]  # noqa: UP007 - iterated at run time
# Kernel → view; one kind so far (a tuple, since a one-member Union is the member itself).
HOST_REPLY_CLASSES: tuple[type, ...] = (FileResponse,)


def file_response(request_id: str, mime: str) -> FileResponse:
    """The reply that carries the bytes (sent as its first buffer)."""
    return {"host": "file_response", "requestId": request_id, "mime": mime}


def file_error(request_id: str, error: str) -> FileResponse:
    """The reply that says why there are no bytes."""
    return {"host": "file_response", "requestId": request_id, "error": error}
