"""A complete stored step row for the data layer tests (the contract suite and the step-key
tests), with any field given by keyword."""

from __future__ import annotations

from typing import Any, cast

from nbchat.ids import new_id, utc_now
from nbchat.types import StepDict


def step(thread_id: str, **kw: Any) -> StepDict:
    s: dict[str, Any] = {
        "id": new_id(), "threadId": thread_id, "parentId": None, "name": "user",
        "type": "user_message", "input": "", "output": "hello", "isError": False,
        "createdAt": utc_now(), "start": None, "end": None, "metadata": {}, "tags": None,
        "language": None, "generation": None, "showInput": True, "defaultOpen": False,
        "streaming": False, "waitForAnswer": False,
    }
    s.update(kw)
    return cast(StepDict, s)
