"""Chainlit's StepDict keys that nbchat does not store (`modes`, `indent`, `feedback`):
create_step and update_step both take and drop them; any other unknown key stays an error
of update_step. (create_step of a step dict with `modes` worked while update_step of the
same dict raised "unknown step keys".)"""

from __future__ import annotations

from typing import Any, cast

import pytest

from data.step_rows import step
from nbchat.data.queued import QueuedDataLayer
from nbchat.data.validation import InvalidDataError
from nbchat.ids import new_id
from nbchat.types import StepDict

CHAINLIT_ONLY = {"modes": {"model": "fast"}, "indent": 1,
                 "feedback": {"forId": "x", "value": 1}}


async def test_create_and_update_step_both_take_and_drop_chainlits_unstored_keys(
        layer: QueuedDataLayer) -> None:
    tid = new_id()
    s = step(tid, type="assistant_message", output="one", **CHAINLIT_ONLY)
    await layer.create_step(s)
    whole = cast(StepDict, {**s, "output": "two"})
    await layer.update_step(whole)                      # a whole step, as Step.update sends
    await layer.update_step(cast(StepDict, {"id": s["id"], "output": "three",
                                            "modes": {"model": "slow"}, "indent": 2}))
    await layer.flush()
    thread = await layer.get_thread(tid)
    assert thread is not None
    [got] = thread["steps"]
    assert got["output"] == "three"
    assert not set(got) & {"modes", "indent"}
    assert got.get("feedback") is None                  # feedback lives in its own table
    assert await layer.export_feedback() == []


async def test_update_step_still_refuses_a_key_no_step_has(layer: QueuedDataLayer) -> None:
    tid = new_id()
    s = step(tid)
    await layer.create_step(s)
    with pytest.raises(InvalidDataError, match=r"unknown step keys \['mode'\]"):
        await layer.update_step(cast(StepDict, {"id": s["id"], "mode": cast(Any, "x")}))
    await layer.flush()
    thread = await layer.get_thread(tid)
    assert thread is not None
    assert thread["steps"][0]["output"] == "hello"
