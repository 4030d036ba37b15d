"""Chat history as data: threads, steps and feedback as tables, for analysis in a notebook.

In a notebook cell (no `await` needed; works while Jupyter's own event loop runs):

    from nbchat import history
    df = history.feedback()                 # the app in the current folder
    df.set_index("createdAt").resample("D")["value"].mean().plot()

    history.threads("path/to/app")          # another app folder (reads its nbchat.yaml)
    history.steps(url="postgresql://…")     # or an explicit database URL
    history.threads(user="ann")             # one user's threads (by identifier)
    history.thread("3f2…")                  # one thread with its steps, as a dict
    history.fork("3f2…", step_id)           # a copy up to that message: a new thread's id

Each function returns a pandas DataFrame when pandas is installed (`pip install
nbchat[test]` or just `pip install pandas`), otherwise a list of dicts. The synchronous
functions open the database, read, and close it again, on a private event loop in a
worker thread, so they are safe to call from a notebook. Inside async code that already
holds an open data layer, use the `a`-prefixed coroutines: `await history.asteps(layer)`.
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from nbchat.data.native import NativeDataLayer
from nbchat.types import ThreadDict

T = TypeVar("T")
Rows = list[dict[str, Any]]
Read = Callable[[NativeDataLayer], Awaitable[T]]

THREAD_COLUMNS = ["id", "name", "createdAt", "userId", "userIdentifier", "tags", "metadata"]
STEP_COLUMNS = ["id", "threadId", "parentId", "type", "name", "createdAt", "start", "end",
                "input", "output", "isError", "metadata", "generation", "feedbackValue",
                "feedbackComment"]
FEEDBACK_COLUMNS = ["id", "forId", "threadId", "value", "comment", "createdAt", "stepType"]


class _NoSuchUser(Exception):
    pass


async def _user_id(layer: NativeDataLayer, user: str | None) -> str | None:
    """The stored id of user identifier `user` (None: everyone)."""
    if user is None:
        return None
    persisted = await layer.get_user(user)
    if persisted is None:
        raise _NoSuchUser(user)
    return persisted.id


async def athreads(layer: NativeDataLayer, user: str | None = None) -> Rows:
    """Threads as rows (no steps), oldest first; `user` is a user identifier."""
    try:
        uid = await _user_id(layer, user)
    except _NoSuchUser:
        return []
    return [{k: t.get(k) for k in THREAD_COLUMNS} for t in await layer.export_threads(uid)]


async def asteps(layer: NativeDataLayer, user: str | None = None) -> Rows:
    """Every step (messages included) as rows, with its feedback flattened in."""
    try:
        uid = await _user_id(layer, user)
    except _NoSuchUser:
        return []
    rows = []
    for s in await layer.export_steps(uid):
        fb: dict[str, Any] = dict(s.get("feedback") or {})
        row: dict[str, Any] = {k: s.get(k) for k in STEP_COLUMNS[:-2]}
        row["feedbackValue"] = fb.get("value")
        row["feedbackComment"] = fb.get("comment")
        rows.append(row)
    return rows


async def afeedback(layer: NativeDataLayer, user: str | None = None) -> Rows:
    """Feedback as rows: value 1 (thumbs up) or 0 (down), with the rated step's type."""
    try:
        uid = await _user_id(layer, user)
    except _NoSuchUser:
        return []
    return [{k: f.get(k) for k in FEEDBACK_COLUMNS} for f in await layer.export_feedback(uid)]


def threads(app_dir: str | Path = ".", *, url: str | None = None,
            user: str | None = None) -> Any:
    """Threads of the app in `app_dir` (or the database at `url`) as a table."""
    return table(read(lambda layer: athreads(layer, user), app_dir, url=url), THREAD_COLUMNS)


def steps(app_dir: str | Path = ".", *, url: str | None = None, user: str | None = None) -> Any:
    """Steps and messages of the app in `app_dir` (or at `url`) as a table."""
    return table(read(lambda layer: asteps(layer, user), app_dir, url=url), STEP_COLUMNS)


def feedback(app_dir: str | Path = ".", *, url: str | None = None,
             user: str | None = None) -> Any:
    """Feedback of the app in `app_dir` (or at `url`) as a table; times are parsed."""
    return table(read(lambda layer: afeedback(layer, user), app_dir, url=url),
                 FEEDBACK_COLUMNS)


async def athread(layer: NativeDataLayer, thread_id: str) -> ThreadDict:
    """One stored thread with its steps (in order) and elements; LookupError if none."""
    found = await layer.get_thread(thread_id)
    if found is None:
        raise LookupError(f"no stored thread {thread_id!r} in this data layer")
    return found


def thread(thread_id: str, app_dir: str | Path = ".", *, url: str | None = None) -> ThreadDict:
    """One thread of the app in `app_dir` (or at `url`), with its steps and elements, as
    the data layer's `get_thread` gives it (a dict); LookupError when there is none."""
    return read(lambda layer: athread(layer, thread_id), app_dir, url=url)


def fork(thread_id: str, step_id: str, app_dir: str | Path = ".", *,
         url: str | None = None) -> str:
    """Copy thread `thread_id` up to and including message `step_id` into a new thread of
    the same user (its elements' bytes copied, its feedback not); return the new id. Open
    it like any stored thread (the History panel, `/thread/<id>` when served)."""
    from nbchat.workbench.fork import fork_thread

    return read(lambda layer: fork_thread(layer, thread_id, step_id), app_dir, url=url)


def read(fn: Read[T], app_dir: str | Path = ".", *, url: str | None = None) -> T:
    """`await fn(layer)` with the data layer of the app in `app_dir` (or the database at
    `url`), opened for the call and closed after; safe in a notebook cell."""
    return run_on_own_loop(_with_layer(app_dir, url, fn))


async def _with_layer(app_dir: str | Path, url: str | None, fn: Read[T]) -> T:
    import nbchat.data
    from nbchat.app import current_app
    from nbchat.data import AdaptedDataLayer
    from nbchat.data.plug import app_data_layer

    folder = Path(app_dir)
    # Without a URL: the app's own layer (@cl.data_layer, nbchat.data._data_layer), else
    # nbchat.yaml `data.url` or NBCHAT_DATABASE_URL.
    brought = None if url is not None else app_data_layer(current_app(), folder)
    if brought is not None:
        layer = brought
    else:
        if url is None:
            from nbchat.config import load

            url = load(folder).data.url
        layer = nbchat.data.make_data_layer(url, folder)
    try:
        return await fn(layer)
    finally:
        if layer is brought and not isinstance(layer, AdaptedDataLayer):
            await layer.flush()  # the app's own nbchat layer: it stays open
        else:
            await layer.close()  # ours (an adapter leaves the app's layer open)


def run_on_own_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to its end on a private event loop in a worker thread."""
    # A notebook's main thread already runs an event loop, where asyncio.run() is refused:
    # run on a private loop in a worker thread instead (the same code works in scripts).
    import asyncio

    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="nbchat-history") as ex:
        return ex.submit(asyncio.run, coro).result()


def table(rows: Rows, columns: list[str]) -> Any:
    """`rows` as a pandas DataFrame with `columns` (times parsed), or the rows as they
    are without pandas."""
    if importlib.util.find_spec("pandas") is None:
        return rows
    import pandas as pd

    df = pd.DataFrame(rows, columns=columns)
    for col in ("createdAt", "start", "end"):
        if col in df:
            df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601")
    return df
