"""Elements: fetch one element of a thread the user may read (bytes via uploads/files.py)."""

from __future__ import annotations

from typing import ClassVar

from nbchat.server.auth import requires_user
from nbchat.server.base import ApiError, ApiHandler
from nbchat.server.handlers.views import element_view
from nbchat.types import ElementDict


class ElementHandler(ApiHandler):
    path: ClassVar[str] = "/threads/{thread_id}/elements/{element_id}"

    @requires_user
    async def get(self, thread_id: str, element_id: str) -> None:
        element = await readable_element(self, thread_id, element_id)
        self.write_json(element_view(self.api_root, element))


async def readable_element(handler: ApiHandler, thread_id: str, element_id: str) -> ElementDict:
    """The element, or 404 unless its thread is readable by the user and holds it."""
    thread_id = await handler.readable_thread_id(thread_id)
    element_id = handler.path_id(element_id, "element")
    element = await handler.data.get_element(thread_id, element_id)
    if element is None:
        raise ApiError(404, f"no element {element_id!r} in thread {thread_id!r}")
    return element


default_handlers: list[type[ApiHandler]] = [ElementHandler]
