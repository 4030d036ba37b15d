"""A stored thread for export: its steps, its elements, and their bytes."""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbchat.types import MESSAGE_STEP_TYPES, ElementDict, StepDict, ThreadDict

log = logging.getLogger("nbchat")

# Element bytes embedded in an export at most (bigger files are named, not embedded).
EMBED_LIMIT = 10 * 1024 * 1024
# Images a page may show from a data: URL (no SVG: it can carry script).
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


@dataclass
class Exported:
    """A thread with the bytes of its stored elements, by element id."""

    thread: ThreadDict
    blobs: dict[str, bytes] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.thread.get("name") or f"Chat {self.thread['id']}"

    @property
    def messages(self) -> list[StepDict]:
        return [s for s in self.thread["steps"] if s["type"] in MESSAGE_STEP_TYPES]

    def outline(self) -> list[tuple[StepDict, int]]:
        """Every step in order with its depth among steps that are not messages: 0 for
        a message, 1 for a tool step at the top (or under a message), 2 under that, …"""
        by_id = {s["id"]: s for s in self.thread["steps"]}
        out = []
        for step in self.thread["steps"]:
            depth = 0
            if step["type"] not in MESSAGE_STEP_TYPES:
                depth, parent = 1, by_id.get(step.get("parentId") or "")
                while parent is not None and parent["type"] not in MESSAGE_STEP_TYPES:
                    depth += 1
                    parent = by_id.get(parent.get("parentId") or "")
            out.append((step, depth))
        return out

    def elements(self, step_id: str) -> list[ElementDict]:
        return [e for e in self.thread.get("elements") or [] if e.get("forId") == step_id]

    def data(self, element: ElementDict) -> bytes | None:
        """The element's bytes: inline content or its stored blob (None: not kept)."""
        if element["id"] in self.blobs:
            return self.blobs[element["id"]]
        content = element.get("content")
        return content.encode() if isinstance(content, str) else None

    def data_url(self, element: ElementDict) -> str | None:
        """A data: URL of an image element of a safe type, else None."""
        data = self.data(element)
        mime = element.get("mime") or ""
        if data is None or mime not in IMAGE_TYPES:
            return None
        return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def rating_of(step: StepDict) -> int | None:
    """The step's feedback value (1 up, 0 down), or None when not rated."""
    feedback = step.get("feedback")
    return None if not feedback else feedback.get("value")


async def _read(layer: Any, thread: str | ThreadDict) -> Exported:
    from nbchat.history import athread

    found = thread if isinstance(thread, dict) else await athread(layer, thread)
    return await with_bytes(found, getattr(layer, "storage", None))


async def with_bytes(thread: ThreadDict, storage: Any) -> Exported:
    """The thread with the bytes of its stored elements read from `storage` (a
    BlobStorage; None: no bytes), those up to `EMBED_LIMIT` each."""
    exported = Exported(thread)
    for element in thread.get("elements") or []:
        key = element.get("objectKey")
        if not key or storage is None:
            continue
        try:
            if await storage.size(key) <= EMBED_LIMIT:
                exported.blobs[element["id"]] = bytes(await storage.get(key))
        except Exception as exc:  # a missing blob: the element is named, not embedded
            log.warning("nbchat: element %s of thread %s has no readable bytes (%s)",
                        element["id"], thread["id"], exc)
    return exported


def load(thread: str | ThreadDict, app_dir: str | Path = ".",
         url: str | None = None) -> Exported:
    """The thread (an id, or a thread dict) with its element bytes, from the data layer of
    the app in `app_dir` (or at `url`)."""
    from nbchat.history import read

    if not isinstance(thread, str | dict):
        raise TypeError(f"thread: an id or a thread dict, not {type(thread).__name__}")
    if isinstance(thread, dict) and not any(e.get("objectKey")
                                            for e in thread.get("elements") or []):
        return Exported(thread)  # nothing to read
    return read(lambda layer: _read(layer, thread), app_dir, url=url)
