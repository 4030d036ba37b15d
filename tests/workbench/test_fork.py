"""Forking a stored thread at a message: the `fork` protocol event of a live chat, and
nbchat.history.fork from a notebook. The copy carries on as a chat of its own."""

from __future__ import annotations

from pathlib import Path

from nbchat import history
from nbchat.data import make_data_layer
from nbchat.testing import ChatTestClient
from nbchat.types import User
from workbench.conftest import APP, Recorded


async def test_a_chat_forks_at_a_message_and_the_fork_carries_on(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text(APP.read_text())
    layer = make_data_layer(None, tmp_path)
    storage = layer.storage  # type: ignore[attr-defined]  # SQLite's blob store
    try:
        async with ChatTestClient(app, data_layer=layer, user=User("ann")) as client:
            assert client.events[0]["forks"] is True  # welcome: this host can fork
            await client.send("hello")
            await client.send("image")
            await client.send("later")
            image_reply = next(m for m in client.messages if m["output"] == "Here is a pixel")
            await client.send_event({"type": "fork", "stepId": image_reply["id"]})
            forked = [e for e in client.events if e["type"] == "forked"]
            assert len(forked) == 1
            original = client.session.thread_id
            assert forked[0]["fromThreadId"] == original
            assert forked[0]["stepId"] == image_reply["id"]
            fork_id = forked[0]["threadId"]
        copy = await layer.get_thread(fork_id)
        assert copy is not None
        assert copy["userIdentifier"] == "ann"
        assert copy["name"] == "hello (fork)"
        assert (copy["metadata"] or {})["forkedFrom"] == {"threadId": original,
                                                  "stepId": image_reply["id"]}
        assert [s["output"] for s in copy["steps"] if s["type"].endswith("message")] == [
            "hello", "You said **hello** (v1)", "image", "Here is a pixel"]
        stored = await layer.get_thread(original)
        assert stored is not None
        assert not {s["id"] for s in copy["steps"]} & {s["id"] for s in stored["steps"]}
        elements = copy["elements"] or []
        assert sorted(e["name"] for e in elements) == ["notes.txt", "pixel.png"]
        pixel = next(e for e in elements if e["name"] == "pixel.png")
        assert pixel["objectKey"]
        assert (await storage.get(pixel["objectKey"])).startswith(b"\x89PNG")
        # The fork is a chat of its own: resumed, it goes on from the copied message.
        async with ChatTestClient(app, data_layer=layer, user=User("ann"),
                                  resume_thread=fork_id) as resumed:
            assert [m["output"] for m in resumed.messages][-1] == "Here is a pixel"
            await resumed.send("after the fork")
        await layer.delete_thread(original)  # the fork keeps its own bytes
        assert (await storage.get(pixel["objectKey"])).startswith(b"\x89PNG")
        again = await layer.get_thread(fork_id)
        assert again is not None
        assert again["steps"][-1]["output"] == "You said **after the fork** (v1)"
    finally:
        await layer.close()


async def test_a_fork_needs_a_stored_chat_and_a_message(tmp_path: Path) -> None:
    async with ChatTestClient(APP) as unstored:  # no data layer
        assert unstored.events[0]["forks"] is False
        await unstored.send("hello")
        await unstored.send_event({"type": "fork", "stepId": unstored.messages[0]["id"]})
        assert unstored.errors[-1]["code"] == "no_persistence"
    layer = make_data_layer(None, tmp_path)
    try:
        async with ChatTestClient(APP, data_layer=layer) as client:
            await client.send("hello")
            await client.send_event({"type": "fork", "stepId": "nope"})
            assert client.errors[-1]["code"] == "unknown_step"
            tool = next(s for s in client.steps if s["type"] == "tool")
            await client.send_event({"type": "fork", "stepId": tool["id"]})
            assert client.errors[-1]["code"] == "unknown_step"
            assert not [e for e in client.events if e["type"] == "forked"]
            await client.send("still fine")  # the chat goes on
            assert client.messages[-1]["output"] == "You said **still fine** (v1)"
    finally:
        await layer.close()


def test_history_fork_from_a_notebook(recorded: Recorded) -> None:
    thread = history.thread(recorded.thread_id, recorded.folder)
    ask_reply = next(s for s in thread["steps"] if s["output"] == "Hi Ann")
    fork_id = history.fork(recorded.thread_id, ask_reply["id"], recorded.folder)
    copy = history.thread(fork_id, recorded.folder)
    assert [s["output"] for s in copy["steps"] if s["type"] == "user_message"] == [
        "hello", "ask", "Ann"]
    assert copy["steps"][-1]["output"] == "Hi Ann"
    assert sorted(history.threads(recorded.folder)["id"]) == sorted(
        [recorded.thread_id, fork_id])
