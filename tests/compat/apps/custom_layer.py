"""Chainlit e2e `data_layer`: a custom BaseDataLayer (Chainlit's method names) plugged in
with `@cl.data_layer`; step writes queued until the user's first message; the user session
stored with the thread and handed back to `on_chat_resume`."""

from datetime import UTC, datetime

import chainlit as cl
import chainlit.data as cl_data
from chainlit.data.utils import queue_until_user_message
from chainlit.element import Element, ElementDict
from chainlit.step import StepDict
from chainlit.types import (
    Feedback,
    PageInfo,
    PaginatedResponse,
    Pagination,
    ThreadDict,
    ThreadFilter,
)

THREADS: dict[str, ThreadDict] = {}
WRITES: list[str] = []


def now() -> str:
    return datetime.now(UTC).isoformat()


class MemoryDataLayer(cl_data.BaseDataLayer):
    async def get_user(self, identifier: str) -> cl.PersistedUser | None:
        return cl.PersistedUser(id="u-" + identifier, createdAt=now(), identifier=identifier)

    async def create_user(self, user: cl.User) -> cl.PersistedUser | None:
        return cl.PersistedUser(id="u-" + user.identifier, createdAt=now(),
                                identifier=user.identifier)

    async def update_thread(self, thread_id: str, name: str | None = None,
                            user_id: str | None = None, metadata: dict[str, object] | None = None,
                            tags: list[str] | None = None) -> None:
        thread = THREADS.setdefault(thread_id, {
            "id": thread_id, "createdAt": now(), "name": None, "userId": user_id,
            "userIdentifier": (user_id or "").removeprefix("u-") or None, "tags": None,
            "metadata": None, "steps": [], "elements": []})
        if name:
            thread["name"] = name
        if user_id:
            thread["userId"] = user_id
            thread["userIdentifier"] = user_id.removeprefix("u-")
        if metadata:
            thread["metadata"] = metadata
        if tags:
            thread["tags"] = tags

    @queue_until_user_message()
    async def create_step(self, step_dict: StepDict) -> None:
        WRITES.append(str(step_dict.get("output")))
        thread = THREADS.get(str(step_dict.get("threadId")))
        if thread is not None:
            thread["steps"].append(step_dict)

    @queue_until_user_message()
    async def update_step(self, step_dict: StepDict) -> None:
        thread = THREADS.get(str(step_dict.get("threadId")))
        if thread is not None:
            thread["steps"] = [step_dict if s["id"] == step_dict["id"] else s
                               for s in thread["steps"]]

    @queue_until_user_message()
    async def delete_step(self, step_id: str) -> None:
        for thread in THREADS.values():
            thread["steps"] = [s for s in thread["steps"] if s["id"] != step_id]

    async def get_thread_author(self, thread_id: str) -> str:
        return str(THREADS[thread_id]["userIdentifier"])

    async def list_threads(self, pagination: Pagination,
                           filters: ThreadFilter) -> PaginatedResponse[ThreadDict]:
        return PaginatedResponse(data=list(THREADS.values()), pageInfo=PageInfo(
            hasNextPage=False, startCursor=None, endCursor=None))

    async def get_thread(self, thread_id: str) -> ThreadDict | None:
        return THREADS.get(thread_id)

    async def delete_thread(self, thread_id: str) -> None:
        THREADS.pop(thread_id, None)

    async def upsert_feedback(self, feedback: Feedback) -> str:
        return "feedback-1"

    async def delete_feedback(self, feedback_id: str) -> bool:
        return True

    @queue_until_user_message()
    async def create_element(self, element: Element) -> None:
        pass

    async def get_element(self, thread_id: str, element_id: str) -> ElementDict | None:
        return None

    @queue_until_user_message()
    async def delete_element(self, element_id: str, thread_id: str | None = None) -> None:
        pass

    async def build_debug_url(self) -> str:
        return ""

    async def get_favorite_steps(self, user_id: str) -> list[StepDict]:
        return []

    async def close(self) -> None:
        pass


@cl.data_layer
def data_layer() -> MemoryDataLayer:
    return MemoryDataLayer()


@cl.on_chat_start
async def start() -> None:
    cl.user_session.set("greeted", "yes")
    await cl.Message("Hello, send me a message!").send()


@cl.on_message
async def reply(message: cl.Message) -> None:
    async with cl.Step(type="tool", name="thinking") as step:
        step.output = "Thinking..."
    await cl.Message("Ok!").send()


@cl.on_chat_resume
async def resume(thread: ThreadDict) -> None:
    greeted = (thread.get("metadata") or {}).get("greeted")
    await cl.Message(f"Welcome back to {thread['name']} (greeted: {greeted})").send()
