"""What apps rely on being stored (issue 12 §3), on SQLite and PostgreSQL: a step whose
input is a dict (it was rejected: `step.input must be a string`), a profile switch as a
new thread, user_session values and tags, an attached file read off the event loop."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.data import make_data_layer
from nbchat.runtime.session import ChatSession
from nbchat.testing import ChatTestClient
from nbchat.types import ThreadDict


async def test_a_step_with_dict_input_is_stored(backend: str, tmp_path: Path) -> None:
    data = make_data_layer(backend.removeprefix("sqlite:"), tmp_path)
    app = App("dict-input")
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            async with cl.Step(name="tool", type="tool") as step:
                assert cl.context.current_step is step
                step.input = {"query": message.content}
            await cl.Message("done").send()

    try:
        async with ChatTestClient(app, user=cl.User(identifier="ada"),
                                  data_layer=data) as client:
            await client.send("cats")
            assert client.errors == []
            thread_id = client.session.thread_id
        thread = await data.get_thread(thread_id)
        assert thread is not None
        [tool] = [s for s in thread["steps"] if s["name"] == "tool"]
        assert json.loads(tool["input"]) == {"query": "cats"}
    finally:
        await data.close()


async def test_a_profile_switch_stores_the_new_chat_as_its_own_thread(
        backend: str, tmp_path: Path) -> None:
    data = make_data_layer(backend.removeprefix("sqlite:"), tmp_path)
    app = App("profiles")
    with registering_on(app):
        @cl.set_chat_profiles
        async def profiles(user: cl.User | None) -> list[cl.ChatProfile]:
            return [cl.ChatProfile(name=n, markdown_description=n) for n in ("one", "two")]

        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            await cl.Message(f"echo {message.content}").send()

    try:
        async with ChatTestClient(app, user=cl.User(identifier="ada"),
                                  data_layer=data) as client:
            await client.send("on one")
            first = client.session.thread_id
            await client.send_event({"type": "hello", "protocolVersion": 1,
                                     "chatProfile": "two"})
            await client.send("on two")
            second = client.session.thread_id
            assert client.errors == []
        assert first != second
        old, new = await data.get_thread(first), await data.get_thread(second)
        assert old is not None
        assert new is not None
        assert [s["output"] for s in old["steps"]] == ["on one", "echo on one"]
        assert [s["output"] for s in new["steps"]] == ["on two", "echo on two"]
        assert (old["metadata"] or {})["chat_profile"] == "one"
        assert (new["metadata"] or {})["chat_profile"] == "two"
    finally:
        await data.close()


async def test_user_session_values_and_tags_are_stored_and_restored_on_resume(
        backend: str, tmp_path: Path) -> None:
    data = make_data_layer(backend.removeprefix("sqlite:"), tmp_path)
    app = App("values")
    seen: dict[str, object] = {}
    with registering_on(app):
        @cl.set_chat_profiles
        async def profiles(user: cl.User | None) -> list[cl.ChatProfile]:
            return [cl.ChatProfile(name="analyst", markdown_description="a")]

        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            cl.user_session.set("history", [{"role": "user", "content": message.content}])
            cl.user_session.set("tags", ["billing"])
            cl.user_session.set("client", object())  # not JSON: skipped
            cl.user_session.set("huge", "x" * 100_000)  # over the cap: skipped
            await cl.Message("ok").send()

        @cl.on_chat_resume
        async def resume(thread: ThreadDict) -> None:
            seen["history"] = cl.user_session.get("history")
            seen["client"] = cl.user_session.get("client")
            seen["huge"] = cl.user_session.get("huge")

    user = cl.User(identifier="ada")
    try:
        async with ChatTestClient(app, user=user, data_layer=data) as client:
            await client.send("hi")
            thread_id = client.session.thread_id
        thread = await data.get_thread(thread_id)
        assert thread is not None
        metadata = thread["metadata"]
        assert metadata is not None
        assert metadata["history"] == [{"role": "user", "content": "hi"}]
        assert "client" not in metadata
        assert "huge" not in metadata
        assert thread["tags"] == ["analyst", "billing"]
        async with ChatTestClient(app, user=user, data_layer=data,
                                  resume_thread=thread_id) as again:
            assert again.errors == []
        assert seen == {"history": [{"role": "user", "content": "hi"}], "client": None,
                        "huge": None}
    finally:
        await data.close()


async def test_an_attached_file_is_stored_without_reading_it_on_the_event_loop(
        backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = make_data_layer(backend.removeprefix("sqlite:"), tmp_path)
    app = App("attach")
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            await cl.Message(f"got {message.elements[0].content!r}").send()

    # A spy on the real read (not a stand-in): which thread reads the uploaded file.
    readers: list[int] = []
    real = ChatSession.get_blob

    def spy(session: ChatSession, key: str) -> tuple[bytes, str] | None:
        if key in session.files.files:
            readers.append(threading.get_ident())
        return real(session, key)

    monkeypatch.setattr(ChatSession, "get_blob", spy)
    path = tmp_path / "notes.txt"
    path.write_bytes(b"attached bytes")
    try:
        async with ChatTestClient(app, user=cl.User(identifier="ada"),
                                  data_layer=data) as client:
            await client.send("see file", files=[path])
            assert client.messages[-1]["output"] == "got b'attached bytes'"
            thread_id = client.session.thread_id
        assert readers
        assert threading.get_ident() not in readers
        thread = await data.get_thread(thread_id)
        assert thread is not None
        [element] = thread["elements"] or []
        assert element["name"] == "notes.txt"
        assert element["objectKey"]
    finally:
        await data.close()
