"""How stored threads and elements are shown to clients (no server-internal keys)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from nbchat.data import is_shared
from nbchat.types import ElementDict, ThreadDict


def file_url(api_root: str, thread_id: str, element_id: str) -> str:
    return f"{api_root}/threads/{quote(thread_id)}/files/{quote(element_id)}"


def element_view(api_root: str, element: ElementDict) -> dict[str, Any]:
    """The element without its blob key; `url` points at the download route when the
    server holds its bytes."""
    out: dict[str, Any] = {k: v for k, v in element.items() if k != "objectKey"}
    if element.get("objectKey") and element.get("threadId"):
        out["url"] = file_url(api_root, str(element["threadId"]), element["id"])
    return out


def thread_view(api_root: str, thread: ThreadDict, *, owner: bool = True) -> dict[str, Any]:
    """`owner` False (a share link's viewer): without the thread's metadata, which holds
    the owner's chat profile and settings (an API key typed into settings, say)."""
    out: dict[str, Any] = dict(thread)
    out["shared"] = is_shared(thread)
    if not owner:
        out["metadata"] = {}
    if thread.get("elements") is not None:
        out["elements"] = [element_view(api_root, e) for e in thread["elements"] or []]
    return out
