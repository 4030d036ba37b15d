"""Fork a stored thread at one of its messages: a new thread with copies of every step up
to that message (new ids, the same times and text) and of their elements (bytes copied, so
deleting either thread leaves the other whole). Feedback stays with the original."""

from __future__ import annotations

import logging
from typing import Any

from nbchat.data.native import SHARED_KEY, NativeDataLayer
from nbchat.ids import new_id
from nbchat.types import MESSAGE_STEP_TYPES, ElementDict, StepDict

log = logging.getLogger("nbchat")

# The forked thread's metadata key naming where it came from: {threadId, stepId}.
FORKED_FROM = "forkedFrom"


async def fork_thread(layer: NativeDataLayer, thread_id: str, step_id: str, *,
                      user_id: str | None = None) -> str:
    """Copy thread `thread_id` up to and including message `step_id` into a new thread
    (owned by `user_id`, default the original's owner); return the new thread's id.
    LookupError when there is no such thread or message."""
    thread = await layer.get_thread(thread_id)
    if thread is None:
        raise LookupError(f"no stored thread {thread_id!r}")
    steps = thread["steps"]
    at = next((i for i, s in enumerate(steps) if s["id"] == step_id), None)
    if at is None or steps[at]["type"] not in MESSAGE_STEP_TYPES:
        raise LookupError(f"thread {thread_id!r} has no message {step_id!r} to fork at")
    fork_id = new_id()
    ids = {s["id"]: new_id() for s in steps[:at + 1]}
    metadata: dict[str, Any] = {k: v for k, v in (thread.get("metadata") or {}).items()
                                if k != SHARED_KEY}  # a fork starts private
    metadata[FORKED_FROM] = {"threadId": thread_id, "stepId": step_id}
    name = thread.get("name")
    await layer.update_thread(fork_id, name=f"{name} (fork)" if name else "Fork",
                              user_id=user_id or thread.get("userId"), metadata=metadata,
                              tags=thread.get("tags"))
    for step in steps[:at + 1]:
        copy: StepDict = {**step, "id": ids[step["id"]], "threadId": fork_id,
                          "parentId": ids.get(step.get("parentId") or ""),
                          "streaming": False, "waitForAnswer": False}
        copy.pop("feedback", None)
        await layer.create_step(copy)
    for element in thread.get("elements") or []:
        if element.get("forId") in ids:
            await _copy_element(layer, element, fork_id, ids)
    await layer.flush()
    return fork_id


async def _copy_element(layer: NativeDataLayer, element: ElementDict, fork_id: str,
                        ids: dict[str, str]) -> None:
    content = None
    key = element.get("objectKey")
    storage = getattr(layer, "storage", None)
    if key and storage is not None:
        try:
            content = bytes(await storage.get(key))
        except Exception as exc:  # a lost blob: the copy is named without bytes
            log.warning("nbchat: forking element %s without its bytes (%s)", element["id"], exc)
    copy: ElementDict = {**element, "id": new_id(), "threadId": fork_id,
                         "forId": ids[str(element["forId"])], "objectKey": None}
    await layer.create_element(copy, content)
