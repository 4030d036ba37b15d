"""Persistence of the Chainlit 2.x step options and ErrorMessage(fail_on_persist_error)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.data import make_data_layer
from nbchat.data.sqlite import SQLiteDataLayer
from nbchat.data.validation import WriteFailedError
from nbchat.testing import ChatTestClient


async def test_steps_with_icon_and_modes_are_stored(tmp_path: Path) -> None:
    data = make_data_layer(None, tmp_path)
    app = App("icons")
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await cl.set_modes([cl.Mode(id="m", name="M", options=[cl.ModeOption("a", "A")])])

        @cl.on_message
        async def reply() -> None:
            async with cl.Step(name="look", icon="search", auto_collapse=True) as s:
                s.output = "found"
    try:
        async with ChatTestClient(app, user=cl.User("ada"), data_layer=data) as client:
            await client.send("hi", modes={"m": "a"})
            thread_id = client.session.thread_id
        thread = await data.get_thread(thread_id)
        assert thread is not None
        assert [s["output"] for s in thread["steps"]] == ["hi", "found"]
    finally:
        await data.close()


class FailingWrites(SQLiteDataLayer):
    """A database whose step writes fail (a real outage cannot be made on demand here)."""

    async def update_step(self, step_dict: Any, *, durable: bool = False) -> None:
        if step_dict.get("isError"):
            raise WriteFailedError("disk full")
        await super().update_step(step_dict, durable=durable)


@pytest.mark.parametrize("fail", [True, False])
async def test_error_message_fail_on_persist_error(tmp_path: Path, fail: bool) -> None:
    data = make_data_layer(None, tmp_path)
    assert isinstance(data, SQLiteDataLayer)
    data.__class__ = FailingWrites
    outcome: list[str] = []
    app = App("errors")
    with registering_on(app):
        @cl.on_message
        async def reply() -> None:
            try:
                await cl.ErrorMessage("broken", fail_on_persist_error=fail).send()
                outcome.append("sent")
            except WriteFailedError as exc:
                outcome.append(f"raised {exc}")
    try:
        async with ChatTestClient(app, user=cl.User("ada"), data_layer=data) as client:
            await client.send("hi")
            # Shown either way; only the fail_on_persist_error one reports the failed write.
            assert client.messages[-1]["output"] == "broken"
        assert outcome == (["raised disk full"] if fail else ["sent"])
    finally:
        await data.close()
