"""What a resumed chat gets back of its settings and profile, on SQLite and PostgreSQL:
settings changed after the first message are stored (they were lost on resume), and a
stored chat profile the app no longer offers that user is not restored (the chat falls
back to the default profile and says so)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.data import NativeDataLayer, make_data_layer
from nbchat.input_widget import Select
from nbchat.testing import ChatTestClient


def layer(backend: str, folder: Path) -> NativeDataLayer:
    return make_data_layer(backend.removeprefix("sqlite:"), folder)


def settings_app(seen: dict[str, Any], offered: dict[str, list[str]]) -> App:
    app = App("settings")
    with registering_on(app):

        @cl.set_chat_profiles
        async def profiles(user: cl.User | None) -> list[cl.ChatProfile]:
            names = offered.get(user.identifier if user else "", ["basic"])
            return [cl.ChatProfile(name=n, markdown_description=n, default=n == "basic")
                    for n in names]

        @cl.on_chat_start
        async def start() -> None:
            await cl.ChatSettings([Select(id="model", label="Model", values=["small", "big"],
                                          initial_value="small")]).send()

        @cl.on_message
        async def reply(message: cl.Message) -> None:
            await cl.Message(content=f"echo {message.content}").send()

        @cl.on_chat_resume
        async def resume(thread: dict[str, Any]) -> None:
            seen["settings"] = cl.user_session.get("chat_settings")
            seen["profile"] = cl.user_session.get("chat_profile")

    return app


async def test_settings_changed_after_the_first_message_come_back_on_resume(
        backend: str, tmp_path: Path) -> None:
    data = layer(backend, tmp_path)
    seen: dict[str, Any] = {}
    app = settings_app(seen, {})
    user = cl.User(identifier="ada")
    try:
        async with ChatTestClient(app, user=user, data_layer=data) as client:
            await client.send("first")
            await client.update_settings(model="big")
            assert client.errors == []
            thread_id = client.session.thread_id
        thread = await data.get_thread(thread_id)
        assert thread is not None
        assert (thread["metadata"] or {})["chat_settings"] == {"model": "big"}
        async with ChatTestClient(app, user=user, data_layer=data,
                                  resume_thread=thread_id) as again:
            assert again.errors == []
            assert seen["settings"] == {"model": "big"}
            assert again.session.chat_settings == {"model": "big"}
    finally:
        await data.close()


async def test_a_profile_no_longer_offered_is_not_restored(backend: str,
                                                           tmp_path: Path) -> None:
    data = layer(backend, tmp_path)
    seen: dict[str, Any] = {}
    offered = {"ada": ["basic", "premium"]}
    app = settings_app(seen, offered)
    user = cl.User(identifier="ada")
    try:
        async with ChatTestClient(app, user=user, data_layer=data,
                                  chat_profile="premium") as client:
            await client.send("on premium")
            thread_id = client.session.thread_id
        # Still offered: restored.
        async with ChatTestClient(app, user=user, data_layer=data,
                                  resume_thread=thread_id) as again:
            assert seen["profile"] == "premium"
            assert not [e for e in again.events if e["type"] == "notice"]
        offered["ada"] = ["basic"]  # the app stopped offering premium to ada
        async with ChatTestClient(app, user=user, data_layer=data,
                                  resume_thread=thread_id) as downgraded:
            assert seen["profile"] == "basic"
            assert downgraded.session.chat_profile == "basic"
            [notice] = [e for e in downgraded.events if e["type"] == "notice"]
            assert notice["level"] == "warning"
            assert "'premium'" in notice["message"]
            assert "'basic'" in notice["message"]
            assert [m["output"] for m in downgraded.messages][:1] == ["on premium"]
    finally:
        await data.close()
