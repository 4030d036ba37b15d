"""Threads: list (cursor pages, filters, full-text search), get, rename, share, delete."""

from __future__ import annotations

from typing import ClassVar

from nbchat.data.validation import check_str
from nbchat.server.auth import owns, requires_user
from nbchat.server.base import ApiError, ApiHandler
from nbchat.server.handlers.views import thread_view
from nbchat.types import Pagination, ThreadFilter

MAX_PAGE = 200
MAX_SEARCH = 1_000
MAX_CURSOR = 512
MAX_NAME = 1_000


class ThreadsHandler(ApiHandler):
    path: ClassVar[str] = "/threads"

    @requires_user
    async def get(self) -> None:
        first = self._int_arg("first", 20, 1, MAX_PAGE)
        cursor = self._str_arg("cursor", MAX_CURSOR)
        search = self._str_arg("search", MAX_SEARCH)
        feedback = self._str_arg("feedback", 1)
        if feedback not in (None, "0", "1"):
            raise ApiError(400, "feedback must be 0 (thumbs down) or 1 (thumbs up)")
        stored = await self.data.get_user(self.current.identifier)
        if stored is None:  # never wrote anything: no threads
            empty = {"hasNextPage": False, "startCursor": None, "endCursor": None}
            self.write_json({"pageInfo": empty, "data": []})
            return
        page = await self.data.list_threads(
            Pagination(first, cursor),
            ThreadFilter(feedback=None if feedback is None else int(feedback),  # type: ignore[arg-type]
                         userId=stored.id, search=search or None),
        )
        self.write_json({"pageInfo": page.pageInfo.to_dict(),
                         "data": [thread_view(self.api_root, t) for t in page.data]})

    def _str_arg(self, name: str, limit: int) -> str | None:
        value = self.get_query_argument(name, None)
        if value is not None and len(value) > limit:
            raise ApiError(400, f"{name} is {len(value)} characters long; the limit is {limit}")
        return value

    def _int_arg(self, name: str, default: int, low: int, high: int) -> int:
        value = self._str_arg(name, 10)
        if value is None:
            return default
        if not value.isdigit() or not low <= int(value) <= high:
            raise ApiError(400, f"{name} must be an integer from {low} to {high}")
        return int(value)


class ThreadHandler(ApiHandler):
    path: ClassVar[str] = "/threads/{thread_id}"

    @requires_user
    async def get(self, thread_id: str) -> None:
        thread = await self.readable_thread(thread_id)
        self.write_json(thread_view(self.api_root, thread, owner=owns(self.current, thread)))

    @requires_user
    async def patch(self, thread_id: str) -> None:
        """Rename (`name`) and/or turn the share link on or off (`shared`)."""
        body = self.json_body({"name": str, "shared": bool})
        if not body:
            raise ApiError(400, "give name (a string) and/or shared (true or false)")
        thread = await self.writable_thread(thread_id)
        data = self.data
        name = body.get("name")
        if name is not None:
            name = str(check_str(name.strip(), "name", MAX_NAME))
            if not name:
                raise ApiError(400, "name must not be empty")
            await data.update_thread(thread["id"], name=name)
        if "shared" in body:
            await data.set_thread_shared(thread["id"], body["shared"])
        await data.flush()
        self.write_json({
            "id": thread["id"],
            "name": thread["name"] if name is None else name,
            "shared": body.get("shared", thread_view(self.api_root, thread)["shared"]),
        })

    @requires_user
    async def delete(self, thread_id: str) -> None:
        thread_id = await self.writable_thread_id(thread_id)
        # Its open chats end first (their last writes land before the delete), so none
        # writes into the thread afterwards: that re-created it under the same id.
        if self.services.end_live_thread is not None:
            await self.services.end_live_thread(thread_id)
        await self.data.delete_thread(thread_id)
        self.no_content()


default_handlers: list[type[ApiHandler]] = [ThreadsHandler, ThreadHandler]
