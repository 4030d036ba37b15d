"""How ChatKit's thread items and nbchat's steps map onto each other (nbchat.integrations.chatkit).

* A `UserMessageItem` is a `user_message` step whose output is the text of its `input_text`
  parts; an `AssistantMessageItem` an `assistant_message` step whose output is the text of
  its `output_text` parts. So nbchat's sidebar, search, DataFrames and UI show them.
* Every other item (widget, client tool call, workflow, task, hidden context, …) is a step
  of another type (see OTHER_STEP_TYPES) named after the item type.
* Each step keeps the item's whole JSON in `metadata["chatkit"]["item"]`, so every item
  round-trips exactly (annotations, attachments, quoted text, inference options). When the
  step's output was changed on nbchat's side (an edit), the message text wins.
* Steps written by nbchat itself (a notebook chat) become items from their type and output;
  steps that are neither user nor assistant messages have no ChatKit form and are skipped.

Items are ordered by their own `created_at` (microseconds, from the JSON; the step's
millisecond `createdAt` for nbchat's steps), then by the order they were added in (a
counter kept in the step metadata), then by id: a stable order even within a millisecond.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, cast

from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    InferenceOptions,
    ThreadItem,
    UserMessageItem,
    UserMessageTextContent,
)
from pydantic import TypeAdapter, ValidationError

from nbchat.types import StepDict

META_KEY = "chatkit"  # the step/thread/element metadata key that holds ChatKit's JSON
_ITEM = TypeAdapter[ThreadItem](ThreadItem)

# The nbchat step type of each non-message item: tool calls are tools, workflows and
# tasks runs; the rest is `undefined` (shown by nbchat as a plain step).
OTHER_STEP_TYPES: dict[str, str] = {
    "client_tool_call": "tool",
    "workflow": "run",
    "task": "run",
}


def iso_utc(moment: datetime) -> str:
    """nbchat's time text (UTC, milliseconds, Z). ChatKit makes naive local times
    (`datetime.now()`): a naive time is read as local, as Python's astimezone does."""
    aware = moment if moment.tzinfo is not None else moment.astimezone()
    return aware.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _timestamp(moment: datetime) -> float:
    return (moment if moment.tzinfo is not None else moment.astimezone()).timestamp()


def item_text(item: UserMessageItem | AssistantMessageItem) -> str:
    """The message's text: its input_text (user) or output_text (assistant) parts."""
    return "\n".join(part.text for part in item.content
                     if part.type in ("input_text", "output_text"))


def step_type(item: ThreadItem) -> str:
    if isinstance(item, UserMessageItem | AssistantMessageItem):
        return item.type
    return OTHER_STEP_TYPES.get(item.type, "undefined")


def item_to_step(item: ThreadItem, thread_id: str, name: str,
                 seq: int | None = None) -> StepDict:
    """The step that stores `item` in thread `thread_id` (`seq`: its place among items
    added at the same time; a new one when None)."""
    is_message = isinstance(item, UserMessageItem | AssistantMessageItem)
    created = iso_utc(item.created_at)
    step: dict[str, Any] = {
        "id": item.id,
        "threadId": thread_id,
        "parentId": None,
        "name": name if is_message else item.type,
        "type": step_type(item),
        "input": "",
        "output": item_text(item) if is_message else "",  # type: ignore[arg-type]
        "createdAt": created,
        "start": created,
        "end": created,
        "metadata": {META_KEY: {
            "item": item.model_dump(mode="json"),
            "seq": time.time_ns() if seq is None else seq,
        }},
    }
    return cast(StepDict, step)


def step_seq(step: StepDict) -> int | None:
    meta = (step.get("metadata") or {}).get(META_KEY)
    seq = meta.get("seq") if isinstance(meta, dict) else None
    return seq if isinstance(seq, int) else None


def step_to_item(step: StepDict) -> ThreadItem | None:
    """The ChatKit item a step stands for, or None when it has no ChatKit form."""
    meta = (step.get("metadata") or {}).get(META_KEY)
    raw = meta.get("item") if isinstance(meta, dict) else None
    if isinstance(raw, dict):
        try:
            item = _ITEM.validate_python({**raw, "id": step["id"],
                                          "thread_id": step["threadId"]})
        except ValidationError:
            item = None
        if item is not None:
            return _with_step_text(item, step)
    created = parse_time(step["createdAt"])
    if step["type"] == "user_message":
        return UserMessageItem(
            id=step["id"], thread_id=step["threadId"], created_at=created,
            content=[UserMessageTextContent(text=step["output"] or "")],
            inference_options=InferenceOptions())
    if step["type"] == "assistant_message":
        return AssistantMessageItem(
            id=step["id"], thread_id=step["threadId"], created_at=created,
            content=[AssistantMessageContent(text=step["output"] or "")])
    return None


def _with_step_text(item: ThreadItem, step: StepDict) -> ThreadItem:
    """The item with the step's output as its text, when nbchat changed it (an edit)."""
    if isinstance(item, UserMessageItem) and item_text(item) != step["output"]:
        return item.model_copy(update={
            "content": [UserMessageTextContent(text=step["output"] or "")]})
    if isinstance(item, AssistantMessageItem) and item_text(item) != step["output"]:
        return item.model_copy(update={
            "content": [AssistantMessageContent(text=step["output"] or "")]})
    return item


def ordered_items(steps: list[StepDict]) -> list[ThreadItem]:
    """The thread's items, oldest first (see the module doc for the order)."""
    keyed: list[tuple[float, int, str, ThreadItem]] = []
    for step in steps:
        if step.get("parentId"):
            continue  # a nested step (a tool inside a run): part of its parent, not an item
        item = step_to_item(step)
        if item is not None:
            seq = step_seq(step)
            keyed.append((_timestamp(item.created_at), 0 if seq is None else seq,
                          item.id, item))
    keyed.sort(key=lambda k: k[:3])
    return [k[3] for k in keyed]
