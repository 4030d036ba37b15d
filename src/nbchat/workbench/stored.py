"""Stored threads as turns: what the user sent, what the app answered, and what the user
gave it meanwhile (answers to its asks, clicks on its actions), for replays and exports.

A turn starts at each user message that did not answer an ask (an ask message stores the
answer it got under `ask.ANSWER_KEY`; a message the clicks on its actions under
`action.CLICKS_KEY`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from nbchat.action import CLICKS_KEY
from nbchat.ask import ANSWER_KEY
from nbchat.types import MESSAGE_STEP_TYPES, StepDict, ThreadDict
from nbchat.workbench.turns import replies, reply_text

ThreadSource = str | ThreadDict


@dataclass
class StoredTurn:
    """One user message of a stored thread and what followed it, up to the next one."""

    index: int
    prompt: StepDict
    steps: list[StepDict] = field(default_factory=list)

    @property
    def replies(self) -> list[StepDict]:
        """The assistant's messages of the turn (ask questions included)."""
        return replies(self.steps)

    @property
    def reply(self) -> str:
        """The text of the turn's assistant messages, joined by blank lines."""
        return reply_text(self.steps)

    @property
    def answers(self) -> list[dict[str, Any]]:
        """The answers the user gave the turn's asks, in order."""
        return [s["metadata"][ANSWER_KEY] for s in self.steps
                if ANSWER_KEY in (s.get("metadata") or {})]

    @property
    def clicks(self) -> list[dict[str, Any]]:
        """The action buttons clicked on the turn's messages ({name, payload}), in order."""
        return [c for s in self.steps for c in (s.get("metadata") or {}).get(CLICKS_KEY, [])]

    @property
    def feedback(self) -> dict[str, Any] | None:
        """The rating the turn's reply got (the last rated message), or None."""
        rated = [s["feedback"] for s in self.replies if s.get("feedback")]
        return dict(rated[-1]) if rated else None  # type: ignore[arg-type]

    @property
    def tool_steps(self) -> list[StepDict]:
        """The turn's steps that are not messages (tools, LLM calls, retrievals)."""
        return [s for s in self.steps if s["type"] not in MESSAGE_STEP_TYPES]

    @property
    def tokens(self) -> int | None:
        """Tokens the turn's LLM calls counted (their generation metadata), or None."""
        return tokens_of(self.steps)

    @property
    def latency(self) -> float | None:
        """Seconds from the user's message to the end of the turn's last step."""
        ends = [s.get("end") or s.get("createdAt") for s in self.steps]
        known = [e for e in ends if e]
        if not known:
            return None
        start = datetime.fromisoformat(self.prompt["createdAt"])
        return max((datetime.fromisoformat(e) - start).total_seconds() for e in known)


def tokens_of(steps: Iterable[StepDict]) -> int | None:
    """Tokens counted by the generation metadata of `steps` (None: none counted)."""
    counts = [_tokens(s["generation"]) for s in steps if s.get("generation")]
    known = [c for c in counts if c is not None]
    return sum(known) if known else None


def _tokens(generation: dict[str, Any] | None) -> int | None:
    if not generation:
        return None
    for key in ("tokenCount", "token_count"):
        if isinstance(generation.get(key), int):
            return int(generation[key])
    parts = [generation.get(k) for k in ("inputTokenCount", "outputTokenCount")]
    ints = [p for p in parts if isinstance(p, int)]
    return sum(ints) if ints else None


def turns(thread: ThreadDict) -> list[StoredTurn]:
    """The thread's turns in order (steps before the first user message are left out:
    they are what on_chat_start showed)."""
    answered = {str(s["metadata"][ANSWER_KEY].get("stepId")) for s in thread["steps"]
                if ANSWER_KEY in (s.get("metadata") or {})}
    found: list[StoredTurn] = []
    for step in thread["steps"]:
        if step["type"] == "user_message" and step["id"] not in answered:
            found.append(StoredTurn(len(found), step))
        elif found:
            found[-1].steps.append(step)
    return found


def thread_ids(threads: Any) -> list[str | ThreadDict]:
    """Threads given as an id, a thread dict, a list of either, or a table with an `id`
    column (`nbchat.history.threads()`)."""
    if isinstance(threads, str | dict):
        return [threads]  # type: ignore[list-item]
    column = getattr(threads, "columns", None)
    if column is not None and "id" in column:
        return [str(i) for i in threads["id"]]
    if isinstance(threads, Iterable):
        out: list[str | ThreadDict] = []
        for t in threads:
            if not isinstance(t, str | dict):
                raise TypeError(f"a thread is an id or a thread dict, not {type(t).__name__}")
            out.append(t)  # type: ignore[arg-type]
        return out
    raise TypeError("threads: an id, a thread dict, a list of them, or a table with an "
                    f"`id` column; got {type(threads).__name__}")


async def load_threads(layer: Any, wanted: list[str | ThreadDict]) -> list[ThreadDict]:
    """Every thread of `wanted` as a dict, reading ids from `layer` (a NativeDataLayer)."""
    from nbchat.history import athread

    return [t if isinstance(t, dict) else await athread(layer, t) for t in wanted]


def read_threads(threads: Any, app_dir: str | Path = ".",
                 url: str | None = None) -> list[ThreadDict]:
    """The threads named by `threads` (see `thread_ids`), read from the app's data layer
    when given by id."""
    from nbchat.history import read

    wanted = thread_ids(threads)
    if all(isinstance(t, dict) for t in wanted):
        return [t for t in wanted if isinstance(t, dict)]
    return read(lambda layer: load_threads(layer, wanted), app_dir, url=url)
