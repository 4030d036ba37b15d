"""A stored thread as a pytest file: the conversation replayed through ChatTestClient,
each reply asserted (equal to the stored one, or by the author's check)."""

from __future__ import annotations

import importlib
import inspect
import os
import pprint
import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nbchat.types import ThreadDict
from nbchat.workbench.stored import turns

Check = Callable[[str, str], Any]

TEMPLATE = '''\
"""A conversation promoted to a regression test by nbchat.export.to_test.

Thread {thread_id} ({name}), started {created}. Each turn sends the stored user message
(answering the app's asks and clicking its buttons as the user did) and checks the reply.
"""

import asyncio
from pathlib import Path

from nbchat.testing import ChatTestClient

APP = Path(__file__).parent / {app!r}
TURNS = {turns}
{check}

async def _play() -> None:
    async with ChatTestClient(APP) as client:
        for number, turn in enumerate(TURNS, 1):
            reply = await client.play(turn["prompt"], answers=turn["answers"],
                                      clicks=turn["clicks"])
            {assertion}


def test_{slug}() -> None:
    asyncio.run(_play())
'''
EXACT = ('assert reply.content == turn["reply"], '
         '(f"turn {number} ({turn[\'prompt\']!r}): the reply changed")')
CHECKED = ('assert {name}(reply.content, turn["reply"]), '
           '(f"turn {{number}} ({{turn[\'prompt\']!r}}): {name} refused {{reply.content!r}}")')


def to_test(thread: str | ThreadDict, path: str | Path, *, app: str | Path,
            check: Check | None = None, app_dir: str | Path = ".",
            url: str | None = None) -> Path:
    """Write a pytest file to `path` that plays the thread's user turns to `app` (a .py or
    .ipynb file) and asserts each reply: equal to the stored reply, or `check(new, old)`
    is true (a function defined in a module, or in the notebook: its source is copied
    into the test). Returns the path. The thread is an id (read through nbchat.history
    from the app in `app_dir` or the database at `url`) or a thread dict."""
    from nbchat.history import thread as read_thread

    stored = thread if isinstance(thread, dict) else read_thread(thread, app_dir, url=url)
    target = Path(path)
    if target.suffix != ".py":
        raise ValueError(f"to_test writes a .py file; got {target.name!r}")
    app_path = Path(app)
    if not app_path.is_file():
        raise FileNotFoundError(f"the app {app_path} does not exist (to_test needs the app "
                                "file or notebook the test will drive)")
    played = [{"prompt": t.prompt["output"], "answers": t.answers, "clicks": t.clicks,
               "reply": t.reply} for t in turns(stored)]
    if not played:
        raise ValueError(f"thread {stored['id']!r} has no user message to replay")
    check_code, assertion = "", EXACT
    if check is not None:
        name, check_code = _check_source(check)
        assertion = CHECKED.format(name=name)
    relative = os.path.relpath(app_path.resolve(), target.resolve().parent)
    source = TEMPLATE.format(
        thread_id=stored["id"], name=stored.get("name") or "unnamed",
        created=stored["createdAt"], app=Path(relative).as_posix(),
        turns=pprint.pformat(played, width=88, sort_dicts=False),
        check=f"\n{check_code}\n" if check_code else "", assertion=assertion,
        slug=re.sub(r"\W", "_", stored["id"]).lower())
    compile(source, str(target), "exec")  # what we write is Python, whatever the text
    target.write_text(source, encoding="utf-8")
    return target


def _check_source(check: Check) -> tuple[str, str]:
    """The check's name in the test file and the code that defines or imports it."""
    name = getattr(check, "__name__", "")
    qualname = getattr(check, "__qualname__", "")
    if not callable(check) or name == "<lambda>" or not name.isidentifier():
        raise TypeError("check: a function check(new_reply, old_reply) defined with `def` "
                        "(a lambda's source cannot be copied into the test)")
    module = getattr(check, "__module__", None)
    if module and module != "__main__" and "<locals>" not in qualname:
        try:
            if getattr(importlib.import_module(module), name, None) is check:
                return name, f"from {module} import {name}\n"
        except ImportError:
            pass
    try:
        code = textwrap.dedent(inspect.getsource(check))
    except (OSError, TypeError) as exc:
        raise TypeError(f"the source of check {name!r} cannot be read ({exc}); define it "
                        "in a module the test can import") from None
    return name, code
