"""Checks applied to every write *before* it is queued.

The write-behind queue commits later, in a batch, where an error can no longer reach the
caller. So everything a caller can get wrong (unknown keys' types, over-long names, huge
metadata, malformed ids and timestamps) is rejected here, synchronously, with a message
naming the field and the limit. What reaches the queue is a complete, normalized dict.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from nbchat.errors import NbchatError
from nbchat.types import ElementDict, FeedbackDict, StepDict


class DataLayerError(NbchatError):
    """Base class of data layer errors."""


class InvalidDataError(DataLayerError, ValueError):
    """A value given to the data layer is malformed or over a limit; nothing was stored."""


class NotFoundError(DataLayerError, LookupError):
    """An id names no stored thread, step, user or blob."""


class WriteFailedError(DataLayerError, RuntimeError):
    """A queued write could not be committed (the cause is chained); it was not stored."""


class StoreUnavailableError(WriteFailedError):
    """The database cannot be reached (an outage): this write was not stored. Writes
    queued without waiting for them are kept and retried until it is back."""


@dataclass(frozen=True)
class Limits:
    """Size limits; over a limit, a write is refused with InvalidDataError."""

    max_id: int = 128
    max_name: int = 1_000
    max_text: int = 8 * 1024 * 1024  # a step's input or output, in characters
    max_json: int = 256 * 1024  # encoded metadata / generation / props, in bytes
    max_tags: int = 64
    max_tag: int = 200


# Ids are server-generated UUIDs in nbchat, but Chainlit layers accept any short token;
# this stays compatible while ruling out separators, control characters and whitespace.
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")


def check_id(value: object, field: str, limits: Limits) -> str:
    if not isinstance(value, str):
        raise InvalidDataError(f"{field} must be a string id, got {type(value).__name__}")
    if len(value) > limits.max_id or not _ID_RE.fullmatch(value):
        raise InvalidDataError(
            f"{field}={value[:40]!r} is not a valid id: use 1-{limits.max_id} characters "
            "from A-Z a-z 0-9 _ . : - (nbchat.ids.new_id() makes one)"
        )
    return value


def opt_id(value: object, field: str, limits: Limits) -> str | None:
    return None if value is None else check_id(value, field, limits)


def check_str(value: object, field: str, limit: int, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InvalidDataError(f"{field} must be a string, got {type(value).__name__}")
    if len(value) > limit:
        raise InvalidDataError(f"{field} is {len(value)} characters long; the limit is {limit}")
    if "\x00" in value:
        raise InvalidDataError(f"{field} contains a NUL character, which cannot be stored")
    return value


def req_str(value: object, field: str, limit: int) -> str:
    return cast(str, check_str(value, field, limit))


def check_bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidDataError(f"{field} must be true or false, got {type(value).__name__}")
    return value


# json.dumps with these options builds a new JSONEncoder per call; one instance is the
# same encoding (its encode() keeps no state between calls) for less.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def check_json(value: object, field: str, limits: Limits, *, optional: bool = True) -> str | None:
    """Encode a JSON-able dict; refuse non-dicts, non-JSON values and huge documents."""
    if value is None and optional:
        return None
    if not isinstance(value, Mapping):
        raise InvalidDataError(f"{field} must be a dict, got {type(value).__name__}")
    try:
        text = _ENCODER.encode(value)
    except (TypeError, ValueError) as exc:
        raise InvalidDataError(f"{field} is not JSON-serializable: {exc}") from exc
    if "\\u0000" in text:
        raise InvalidDataError(f"{field} contains a NUL character, which cannot be stored")
    if len(text.encode()) > limits.max_json:
        raise InvalidDataError(
            f"{field} is {len(text.encode())} bytes as JSON; the limit is {limits.max_json}"
        )
    return text


def check_tags(value: object, field: str, limits: Limits) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        raise InvalidDataError(f"{field} must be a list of strings, got {type(value).__name__}")
    if len(value) > limits.max_tags:
        raise InvalidDataError(f"{field} has {len(value)} tags; the limit is {limits.max_tags}")
    return [req_str(t, f"{field}[]", limits.max_tag) for t in value]


_NORMAL_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", re.ASCII)


@functools.lru_cache(maxsize=4096)
def _normal_time(value: str) -> bool | None:
    """True: `value` is in utc_now's shape and a real date; False: that shape, but no such
    date (2026-02-30); None: another shape (to be parsed). Cached, because the same times
    come again and again: a streamed step is re-sent whole, createdAt and start unchanged,
    on every update, and steps made within one millisecond share them."""
    if not _NORMAL_TIME.fullmatch(value):
        return None
    try:
        datetime.fromisoformat(value[:-1])
    except ValueError:
        return False
    return True


def check_time(value: object, field: str, *, optional: bool = True) -> str | None:
    """Normalize an ISO 8601 time to UTC `YYYY-MM-DDTHH:MM:SS.mmmZ`, so text order is time order."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InvalidDataError(f"{field} must be an ISO 8601 string, got {type(value).__name__}")
    normal = _normal_time(value)
    if normal:  # the usual case (utc_now's shape, a real date): stored as given
        return value
    if normal is False:
        raise InvalidDataError(f"{field}={value[:40]!r} is not an ISO 8601 time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidDataError(f"{field}={value[:40]!r} is not an ISO 8601 time") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def check_mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidDataError(f"{what} must be a dict, got {type(value).__name__}")
    return value


STEP_DEFAULTS: dict[str, Any] = {
    "parentId": None,
    "input": "",
    "output": "",
    "isError": False,
    "start": None,
    "end": None,
    "metadata": {},
    "tags": None,
    "language": None,
    "generation": None,
    "showInput": True,
    "defaultOpen": False,
    "streaming": False,
    "waitForAnswer": False,
    "cancelled": False,
    "command": None,
}
STEP_KEYS = frozenset({"id", "name", "type", "threadId", "createdAt", *STEP_DEFAULTS})
# Keys of Chainlit's StepDict that nbchat does not store in the step row: feedback (its own
# table), modes, indent, icon and autoCollapse (shown live, not kept). create_step and
# update_step both accept and drop them, so a Chainlit-shaped step dict is never refused by
# one of them and taken by the other.
STEP_DROPPED_KEYS = frozenset({"feedback", "modes", "indent", "icon", "autoCollapse"})
# A dict with all of these is a whole step (StepDict's required keys): no read to merge.
STEP_REQUIRED = STEP_KEYS - {"cancelled", "command"}


class NormalizedStep(dict[str, Any]):
    """What normalize_step returns: a plain step dict that also keeps the JSON text its
    metadata and generation were checked as. The writer stores exactly that text (rows.
    step_params) instead of encoding them a second time, so what is stored is what was
    validated, even if the caller mutates a nested value after the call."""

    __slots__ = ("generation_json", "metadata_json")
    metadata_json: str
    generation_json: str | None


def normalize_step(step: Mapping[str, Any], limits: Limits) -> StepDict:
    """Validate a complete step (missing optional keys take defaults); return a fresh dict."""
    s = {**STEP_DEFAULTS, **step}
    show = s["showInput"]
    if not isinstance(show, bool):
        check_str(show, "step.showInput", 64)
    metadata_json = cast(str, check_json(s["metadata"] or {}, "step.metadata", limits))
    generation_json = check_json(s["generation"], "step.generation", limits)
    out = NormalizedStep({
        "id": check_id(s.get("id"), "step.id", limits),
        "threadId": check_id(s.get("threadId"), "step.threadId", limits),
        "parentId": opt_id(s["parentId"], "step.parentId", limits),
        "name": req_str(s.get("name", ""), "step.name", limits.max_name),
        "type": req_str(s.get("type", "undefined"), "step.type", 64),
        "input": req_str(s["input"] or "", "step.input", limits.max_text),
        "output": req_str(s["output"] or "", "step.output", limits.max_text),
        "isError": check_bool(s["isError"] or False, "step.isError"),
        "createdAt": check_time(s.get("createdAt"), "step.createdAt", optional=False),
        "start": check_time(s["start"], "step.start"),
        "end": check_time(s["end"], "step.end"),
        "metadata": dict(s["metadata"] or {}),
        "tags": check_tags(s["tags"], "step.tags", limits),
        "language": check_str(s["language"], "step.language", 64, optional=True),
        "generation": None if s["generation"] is None else dict(s["generation"]),
        "showInput": show,
        "defaultOpen": check_bool(s["defaultOpen"], "step.defaultOpen"),
        "streaming": check_bool(s["streaming"], "step.streaming"),
        "waitForAnswer": check_bool(s["waitForAnswer"], "step.waitForAnswer"),
        "cancelled": check_bool(s["cancelled"], "step.cancelled"),
        "command": check_str(s["command"], "step.command", limits.max_name, optional=True),
    })
    out.metadata_json = metadata_json
    out.generation_json = generation_json
    return cast(StepDict, out)


ELEMENT_EXTRA_KEYS = ("content", "props", "page", "autoPlay", "playerConfig", "chainlitKey")


def normalize_element(element: Mapping[str, Any], limits: Limits) -> ElementDict:
    e = check_mapping(element, "element")
    extra = {k: e[k] for k in ELEMENT_EXTRA_KEYS if k in e}
    check_json(extra, "element extra fields (content, props, …)", limits)
    size = e.get("size")
    out: dict[str, Any] = {
        "id": check_id(e.get("id"), "element.id", limits),
        "threadId": check_id(e.get("threadId"), "element.threadId", limits),
        "type": req_str(e.get("type", "file"), "element.type", 64),
        "name": req_str(e.get("name", ""), "element.name", limits.max_name),
        "display": req_str(e.get("display", "inline"), "element.display", 16),
        "forId": opt_id(e.get("forId"), "element.forId", limits),
        "mime": check_str(e.get("mime"), "element.mime", 255, optional=True),
        "size": check_str(None if size is None else str(size), "element.size", 32, optional=True),
        "language": check_str(e.get("language"), "element.language", 64, optional=True),
        "url": check_str(e.get("url"), "element.url", 4096, optional=True),
        "objectKey": check_str(e.get("objectKey"), "element.objectKey", 255, optional=True),
        **extra,
    }
    return cast(ElementDict, out)


def normalize_feedback(feedback: Mapping[str, Any], limits: Limits) -> FeedbackDict:
    f = check_mapping(feedback, "feedback")
    value = f.get("value")
    if isinstance(value, bool) or value not in (0, 1):
        raise InvalidDataError(f"feedback.value must be 0 or 1, got {value!r}")
    out: dict[str, Any] = {
        "forId": check_id(f.get("forId"), "feedback.forId", limits),
        "id": opt_id(f.get("id"), "feedback.id", limits),
        "value": value,
        "comment": check_str(f.get("comment"), "feedback.comment", limits.max_text,
                             optional=True),
        "threadId": opt_id(f.get("threadId"), "feedback.threadId", limits),
    }
    return cast(FeedbackDict, out)
