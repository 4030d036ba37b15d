"""Dict ↔ row conversion shared by the SQLite and PostgreSQL backends.

Both store JSON as text parameters (SQLite TEXT, PostgreSQL jsonb cast from text) and
times as normalized ISO strings, so one tuple layout serves both dialects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from nbchat.data.validation import ELEMENT_EXTRA_KEYS, NormalizedStep
from nbchat.types import ElementDict, FeedbackDict, StepDict, ThreadDict

STEP_COLUMNS = (
    "id", "thread_id", "parent_id", "name", "type", "input", "output", "is_error",
    "created_at", "start_time", "end_time", "metadata", "tags", "language", "generation",
    "show_input", "default_open", "streaming", "wait_for_answer", "cancelled", "command",
)
ELEMENT_COLUMNS = (
    "id", "thread_id", "for_id", "type", "name", "display", "mime", "size", "language",
    "url", "object_key", "extra",
)
THREAD_COLUMNS = ("id", "created_at", "name", "user_id", "user_identifier", "tags",
                  "metadata", "updated_at")
FEEDBACK_COLUMNS = ("id", "for_id", "thread_id", "value", "comment")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # = json.dumps(...)
_BOOL_JSON = {True: "true", False: "false"}


def _dumps(value: Any) -> str | None:
    if value is None:
        return None
    return _ENCODER.encode(value)


def _loads(value: Any) -> Any:
    return None if value is None else json.loads(value) if isinstance(value, str) else value


def step_params(s: StepDict) -> tuple[Any, ...]:
    metadata: str | None
    if isinstance(s, NormalizedStep):  # validated: its JSON is already encoded
        metadata, generation = s.metadata_json, s.generation_json
    else:
        metadata, generation = _dumps(s["metadata"] or {}), _dumps(s["generation"])
    show = s["showInput"]
    return (
        s["id"], s["threadId"], s["parentId"], s["name"], s["type"], s["input"], s["output"],
        s["isError"], s["createdAt"], s["start"], s["end"], metadata,
        _dumps(s["tags"]), s["language"], generation,
        _BOOL_JSON[show] if show is True or show is False else _dumps(show),
        s["defaultOpen"], s["streaming"], s["waitForAnswer"], s.get("cancelled", False),
        s.get("command"),
    )


def step_from_row(r: Sequence[Any], feedback: FeedbackDict | None = None) -> StepDict:
    step: dict[str, Any] = {
        "id": r[0], "threadId": r[1], "parentId": r[2], "name": r[3], "type": r[4],
        "input": r[5], "output": r[6], "isError": bool(r[7]), "createdAt": r[8],
        "start": r[9], "end": r[10], "metadata": _loads(r[11]) or {}, "tags": _loads(r[12]),
        "language": r[13], "generation": _loads(r[14]), "showInput": _loads(r[15]),
        "defaultOpen": bool(r[16]), "streaming": bool(r[17]), "waitForAnswer": bool(r[18]),
        "cancelled": bool(r[19]), "command": r[20], "feedback": feedback,
    }
    return cast(StepDict, step)


def element_params(e: ElementDict) -> tuple[Any, ...]:
    extra = {k: e[k] for k in ELEMENT_EXTRA_KEYS if k in e}  # type: ignore[literal-required]
    return (
        e["id"], e["threadId"], e["forId"], e["type"], e["name"], e["display"], e["mime"],
        e["size"], e["language"], e["url"], e["objectKey"], _dumps(extra),
    )


def element_from_row(r: Sequence[Any]) -> ElementDict:
    el: dict[str, Any] = {
        "id": r[0], "threadId": r[1], "forId": r[2], "type": r[3], "name": r[4],
        "display": r[5], "mime": r[6], "size": r[7], "language": r[8], "url": r[9],
        "objectKey": r[10], **(_loads(r[11]) or {}),
    }
    return cast(ElementDict, el)


def feedback_params(f: FeedbackDict, now: str) -> tuple[Any, ...]:
    return (f["id"], f["forId"], f["threadId"], f["value"], f.get("comment"), now, now)


def feedback_from_row(r: Sequence[Any]) -> FeedbackDict:
    return cast(FeedbackDict, {"id": r[0], "forId": r[1], "threadId": r[2],
                               "value": int(r[3]), "comment": r[4]})


def thread_from_row(r: Sequence[Any]) -> ThreadDict:
    """A thread without content (list_threads items); get_thread fills steps/elements."""
    return cast(ThreadDict, {
        "id": r[0], "createdAt": r[1], "name": r[2], "userId": r[3],
        "userIdentifier": r[4], "tags": _loads(r[5]), "metadata": _loads(r[6]) or {},
        "steps": [], "elements": None,
    })


def merge_metadata(stored: str | None, patch: Mapping[str, Any] | None) -> str:
    """Shallow merge (dict.update semantics), the same in both dialects."""
    return _dumps({**(_loads(stored) or {}), **(patch or {})}) or "{}"
