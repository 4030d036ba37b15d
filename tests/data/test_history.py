"""nbchat.history: tables of threads, steps and feedback, callable with or without a loop."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from nbchat import history
from nbchat.data import make_data_layer
from nbchat.ids import new_id, utc_now
from nbchat.types import StepDict, User


async def _seed(app_dir: Path) -> str:
    layer = make_data_layer(None, app_dir)
    ann = await layer.create_user(User("ann"))
    tid = new_id()
    await layer.update_thread(tid, name="Chat", user_id=ann.id)
    sid = new_id()
    s: StepDict = {
        "id": sid, "threadId": tid, "parentId": None, "name": "bot",
        "type": "assistant_message", "input": "", "output": "hi", "isError": False,
        "createdAt": utc_now(), "start": None, "end": None, "metadata": {}, "tags": None,
        "language": None, "generation": None, "showInput": False, "defaultOpen": False,
        "streaming": False, "waitForAnswer": False,
    }
    await layer.create_step(s)
    await layer.upsert_feedback({"forId": sid, "value": 1, "comment": "nice"})
    await layer.close()
    return tid


async def test_tables_from_inside_a_running_loop(tmp_path: Path) -> None:
    # Like a notebook cell: an event loop is running, and the sync API still works.
    tid = await _seed(tmp_path)
    threads = history.threads(tmp_path)
    assert isinstance(threads, pd.DataFrame)
    assert threads["id"].tolist() == [tid]
    steps = history.steps(tmp_path, user="ann")
    assert steps["feedbackValue"].tolist() == [1]
    fb = history.feedback(tmp_path)
    assert fb["value"].tolist() == [1]
    assert str(fb["createdAt"].dtype).startswith("datetime64")
    assert history.threads(tmp_path, user="nobody").empty


def test_lists_of_dicts_without_pandas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asyncio.run(_seed(tmp_path))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    rows = history.feedback(url=str(tmp_path / ".nbchat" / "nbchat.db"))
    assert isinstance(rows, list)
    assert rows[0]["comment"] == "nice"
