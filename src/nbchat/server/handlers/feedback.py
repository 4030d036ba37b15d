"""Feedback on a step: upsert and delete, owner-checked through the step's thread.

The route names the thread and the step, never a feedback id: the step must belong to
a thread the user may write, so nobody can rate or un-rate a step of someone else's
thread by guessing ids (a hole real chat frameworks shipped).
"""

from __future__ import annotations

from typing import ClassVar

from nbchat.server.auth import requires_user
from nbchat.server.base import ApiError, ApiHandler
from nbchat.types import FeedbackDict, StepDict

MAX_COMMENT = 10_000


class FeedbackHandler(ApiHandler):
    path: ClassVar[str] = "/threads/{thread_id}/steps/{step_id}/feedback"

    async def _step(self, thread_id: str, step_id: str) -> StepDict:
        thread = await self.writable_thread(thread_id)
        step_id = self.path_id(step_id, "step")
        for step in thread["steps"]:
            if step["id"] == step_id:
                return step
        raise ApiError(404, f"no step {step_id!r} in thread {thread['id']!r}")

    @requires_user
    async def put(self, thread_id: str, step_id: str) -> None:
        body = self.json_body({"value": int, "comment": (str, type(None))})
        value = body.get("value")
        if value not in (0, 1):
            raise ApiError(400, "value must be 0 (thumbs down) or 1 (thumbs up)")
        comment = body.get("comment")
        if comment is not None and len(comment) > MAX_COMMENT:
            raise ApiError(400, f"comment is {len(comment)} characters long; "
                                f"the limit is {MAX_COMMENT}")
        step = await self._step(thread_id, step_id)
        existing = step.get("feedback")
        feedback: FeedbackDict = {"forId": step["id"], "value": value, "comment": comment,
                                  "threadId": step["threadId"],
                                  "id": existing.get("id") if existing else None}
        feedback_id = await self.data.upsert_feedback(feedback)
        self.write_json({"id": feedback_id, "forId": step["id"], "threadId": step["threadId"],
                         "value": value, "comment": comment})

    @requires_user
    async def delete(self, thread_id: str, step_id: str) -> None:
        step = await self._step(thread_id, step_id)
        existing = step.get("feedback")
        feedback_id = existing.get("id") if existing else None
        if not feedback_id or not await self.data.delete_feedback(feedback_id):
            raise ApiError(404, f"step {step['id']!r} has no feedback")
        self.no_content()


default_handlers: list[type[ApiHandler]] = [FeedbackHandler]
