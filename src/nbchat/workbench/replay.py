"""`nbchat.replay`: stored conversations played again to the current handler (or another
app), turn by turn, as a table of old and new replies to evaluate a change.

    df = nbchat.replay(history.threads(), scorers={"polite": judge})
    df[~df["same"]][["prompt", "old_reply", "new_reply", "diff"]]

Each thread is played in its own in-process chat (ChatTestClient: the real protocol, no
browser), its user turns in order, the app's asks answered with the stored answers and the
stored action clicks clicked again. Threads run concurrently. Replays are not stored: the
chats run with the data layer off.
"""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
import inspect
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nbchat.app import App, current_app
from nbchat.config import Config, load
from nbchat.history import run_on_own_loop, table
from nbchat.types import MESSAGE_STEP_TYPES, StepDict, ThreadDict
from nbchat.workbench.stored import StoredTurn, read_threads, tokens_of, turns

Scorer = Callable[[str, str], Any]
COLUMNS = ["threadId", "turn", "prompt", "old_reply", "new_reply", "same", "diff",
           "old_steps", "new_steps", "steps_changed", "old_latency_s", "new_latency_s",
           "old_tokens", "new_tokens", "old_feedback", "old_feedback_comment", "error"]


def replay(threads: Any, app: str | Path | App | None = None, *, app_dir: str | Path = ".",
           url: str | None = None, scorers: Mapping[str, Scorer] | list[Scorer] | None = None,
           concurrency: int = 8, progress: bool = True, timeout: float = 60.0) -> Any:
    """Play the user turns of `threads` again to `app` and compare the replies.

    `threads`: a thread id, a thread dict, a list of them, or a table with an `id` column
    (`nbchat.history.threads()`); ids are read from the data layer of the app in
    `app_dir` (or the database at `url`). `app`: None for this process's handlers (the
    notebook's), an app file or notebook, or an App. `scorers`: functions
    `score(new_reply, old_reply)` (async ones too, e.g. an LLM judge), each a column.
    Returns a DataFrame (a list of dicts without pandas), one row per turn, in thread
    order. Safe in a notebook cell: it runs on its own event loop in a worker thread."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}")
    stored = read_threads(threads, app_dir, url)
    named = _named(scorers)
    # Resolved here: the worker thread the replay runs in does not see this context.
    rows = run_on_own_loop(areplay_rows(stored, app or current_app(), named,
                                        concurrency=concurrency, progress=progress,
                                        turn_timeout=timeout))
    return table(rows, [*COLUMNS, *named])


def _named(scorers: Mapping[str, Scorer] | list[Scorer] | None) -> dict[str, Scorer]:
    if scorers is None:
        return {}
    named = dict(scorers) if isinstance(scorers, Mapping) else {
        getattr(f, "__name__", f"score_{i}"): f for i, f in enumerate(scorers)}
    for name, fn in named.items():
        if not callable(fn):
            raise TypeError(f"scorer {name!r} is not a function score(new_reply, old_reply)")
        if name in COLUMNS:
            raise ValueError(f"scorer name {name!r} is a column of the replay already")
    return named


async def areplay_rows(threads: list[ThreadDict], app: str | Path | App | None,
                       scorers: dict[str, Scorer], *, concurrency: int = 8,
                       progress: bool = True,
                       turn_timeout: float = 60.0) -> list[dict[str, Any]]:
    """The rows of `replay`, on the running loop."""
    target, config = await _load(app)
    plan = [(t, turns(t)) for t in threads]
    bar = _bar(sum(len(p) for _, p in plan), progress)
    gate = asyncio.Semaphore(concurrency)

    async def one(thread: ThreadDict, played: list[StoredTurn]) -> list[dict[str, Any]]:
        async with gate:
            return await _play_thread(thread, played, target, config, scorers, bar,
                                      turn_timeout)

    try:
        results = await asyncio.gather(*(one(t, p) for t, p in plan))
    finally:
        if bar is not None:
            bar.close()
    return [row for rows in results for row in rows]


async def _load(app: str | Path | App | None) -> tuple[App, Config]:
    """The app to play to, and its config with the data layer off (replays are not kept)."""
    if isinstance(app, str | Path):
        from nbchat.loader import load_app

        config = _unstored(load(Path(app).resolve().parent))
        loaded, _ = await load_app(app, config)
        return loaded, config
    if app is not None and not isinstance(app, App):
        raise TypeError(f"app: an app file, a notebook, an App or None, not {type(app).__name__}")
    return app or current_app(), _unstored(load(Path.cwd()))


def _unstored(config: Config) -> Config:
    return dataclasses.replace(config, data=dataclasses.replace(config.data, enabled=False))


def _bar(total: int, wanted: bool) -> Any:
    if not wanted:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # the bar is optional (pip install nbchat[workbench])
        return None
    return tqdm(total=total, desc="replay", unit="turn")


async def _play_thread(thread: ThreadDict, played: list[StoredTurn], app: App,
                       config: Config, scorers: dict[str, Scorer], bar: Any,
                       turn_timeout: float) -> list[dict[str, Any]]:
    from nbchat.testing import ChatTestClient

    rows = []
    async with ChatTestClient(app, config=config, timeout=turn_timeout) as client:
        for turn in played:
            row = _old(thread, turn)
            errors_before = len(client.errors)
            started = time.perf_counter()
            try:
                reply = await client.play(turn.prompt["output"], answers=turn.answers,
                                          clicks=turn.clicks)
                new_steps: list[StepDict] = reply.steps
                row["new_reply"] = reply.content
            except AssertionError as exc:  # an ask or a button the new app does not have
                new_steps, row["new_reply"] = [], ""
                row["error"] = str(exc)
            row["new_latency_s"] = time.perf_counter() - started
            errors = [e["message"] for e in client.errors[errors_before:]]
            if errors:
                row["error"] = "; ".join(filter(None, [row["error"], *errors]))
            _compare(row, new_steps)
            for name, score in scorers.items():
                row[name] = await _score(score, row["new_reply"], row["old_reply"])
            rows.append(row)
            if bar is not None:
                bar.update(1)
    return rows


def _old(thread: ThreadDict, turn: StoredTurn) -> dict[str, Any]:
    feedback = turn.feedback or {}
    return {"threadId": thread["id"], "turn": turn.index, "prompt": turn.prompt["output"],
            "old_reply": turn.reply, "old_steps": _names(turn.steps),
            "old_latency_s": turn.latency, "old_tokens": turn.tokens,
            "old_feedback": feedback.get("value"),
            "old_feedback_comment": feedback.get("comment"), "error": None}


def _names(steps: list[StepDict]) -> list[str]:
    return [s["name"] for s in steps if s["type"] not in MESSAGE_STEP_TYPES]


def _compare(row: dict[str, Any], new_steps: list[StepDict]) -> None:
    old, new = row["old_reply"], row["new_reply"]
    row["same"] = old == new
    row["diff"] = "" if old == new else "\n".join(difflib.unified_diff(
        old.splitlines(), new.splitlines(), "old", "new", lineterm="", n=1))
    row["new_steps"] = _names(new_steps)
    row["steps_changed"] = row["new_steps"] != row["old_steps"]
    row["new_tokens"] = tokens_of(new_steps)


async def _score(score: Scorer, new: str, old: str) -> Any:
    try:
        value = score(new, old)
        return await value if inspect.isawaitable(value) else value
    except Exception as exc:  # one bad score does not lose the replay
        return f"error: {type(exc).__name__}: {exc}"
