"""`chainlit.types` served by nbchat: nbchat's types plus the Chainlit names apps import
from it that nbchat keeps elsewhere (`ChatProfile`, `Starter`, `AskFileResponse`, …).

Every name is nbchat's own object (`AskFileResponse` is the class an `AskFileMessage`
returns), so `isinstance` checks written against Chainlit's names hold."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal, TypedDict

from nbchat.chat_settings import ChatProfile, Starter
from nbchat.types import (
    ElementDict,
    Feedback,
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
from nbchat.uploads.files import UploadedFile as AskFileResponse

InputWidgetType = Literal["switch", "slider", "select", "textinput", "tags", "numberinput",
                          "multiselect", "checkbox", "radio", "datepicker"]
ToastType = Literal["info", "success", "warning", "error"]
FeedbackStrategy = Literal["BINARY"]


class Theme(StrEnum):
    """The two colour schemes (Chainlit's `Theme`)."""

    light = "light"
    dark = "dark"


class CommandDict(TypedDict, total=False):
    """A composer command as `cl.context.emitter.set_commands` takes it."""

    id: str
    description: str
    icon: str
    button: bool
    persistent: bool


class AskActionResponse(TypedDict):
    """What `AskActionMessage.send()` returns: the chosen action as a dict."""

    name: str
    payload: dict[str, Any]
    label: str
    tooltip: str
    forId: str
    id: str


class FileDict(TypedDict):
    """An uploaded file as Chainlit describes it to data layers."""

    id: str
    name: str
    path: str
    size: int
    type: str


__all__ = [
    "AskActionResponse", "AskFileResponse", "ChatProfile", "CommandDict", "ElementDict",
    "Feedback", "FeedbackDict", "FeedbackStrategy", "FileDict", "InputWidgetType", "PageInfo",
    "PaginatedResponse", "Pagination", "PersistedUser", "Starter", "StepDict", "Theme",
    "ThreadDict", "ThreadFilter", "ToastType", "User",
]
