"""Chainlit 2.x names apps use, each through a real chat: sleep, cache, chat_context,
context.emitter, on_feedback, modes, message helpers, element updates, user_session
accessors, client_type, project.user_env."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

import nbchat as cl
from fixture_types import Connect, MakeConfig, OfType
from nbchat.app import App, registering_on
from nbchat.config import ProjectConfig
from nbchat.testing import ChatTestClient


async def test_sleep_awaits_asyncio_sleep_without_blocking_the_chat(app: App,
                                                                    connect: Connect) -> None:
    gate = asyncio.Event()
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            if message.content == "wait":
                # cl.sleep yields to the loop: the other task can set the gate meanwhile.
                asyncio.get_running_loop().call_soon(gate.set)
                await cl.sleep(0)
                await cl.Message(f"gate set: {gate.is_set()}").send()

    async with connect() as client:
        await client.send("wait")
        assert client.messages[-1]["output"] == "gate set: True"
    coro = cl.sleep(0)
    assert asyncio.iscoroutine(coro)
    await coro


def test_cache_memoizes_by_arguments_across_calls() -> None:
    calls: list[tuple[int, int]] = []

    @cl.cache
    def load(a: int, b: int = 0) -> list[int]:
        calls.append((a, b))
        return [a, b]

    first = load(1, b=2)
    assert load(1, b=2) is first
    assert load(2) == [2, 0]
    assert calls == [(1, 2), (2, 0)]
    assert load.__name__ == "load"


async def test_chat_context_holds_the_conversation_per_chat_in_order(app: App,
                                                                     connect: Connect) -> None:
    seen: list[list[dict[str, str]]] = []
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            await cl.Message(f"echo {message.content}").send()
            seen.append(cl.chat_context.to_openai())

    async with connect() as one, connect() as two:
        await one.send("a")
        await one.send("b")
        await two.send("z")
        session = one.session
    assert seen[1] == [{"role": "user", "content": "a"}, {"role": "assistant", "content": "echo a"},
                       {"role": "user", "content": "b"}, {"role": "assistant", "content": "echo b"}]
    assert seen[2] == [{"role": "user", "content": "z"}, {"role": "assistant", "content": "echo z"}]
    # Cleared when the chat ends.
    assert not session.chat_context
    assert cl.chat_context.get() == []  # outside a chat: empty, no error


async def test_chat_context_follows_remove_and_clear(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            reply = await cl.Message("temporary").send()
            await reply.remove()
            assert [m.content for m in cl.chat_context.get()] == [message.content]
            cl.chat_context.clear()
            await cl.Message(str(len(cl.chat_context.get()))).send()

    async with connect() as client:
        await client.send("hi")
        assert client.messages[-1]["output"] == "0"


async def test_chat_context_restarts_at_an_edited_message(app: App, connect: Connect) -> None:
    seen: list[list[dict[str, str]]] = []
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            await cl.Message(f"echo {message.content}").send()
            seen.append(cl.chat_context.to_openai())

    async with connect() as client:
        await client.send("a")
        await client.send("b")
        second = client.messages[2]
        await client.edit(second["id"], "c")
    assert [(m["role"], m["content"]) for m in seen[-1]] == [
        ("user", "a"), ("assistant", "echo a"), ("user", "c"), ("assistant", "echo c")]


async def test_emitter_send_toast_shows_a_notice(app: App, connect: Connect,
                                                 of_type: OfType) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message() -> None:
            await cl.context.emitter.send_toast("Saved", type="success")
            await cl.context.emitter.send_toast("Heads up")
            await cl.context.emitter.send_toast("x", type="loud")  # type: ignore[arg-type]

    async with connect() as client:
        await client.send("go")
        notices = [(n["level"], n["message"]) for n in of_type(client, "notice")]
        assert notices == [("success", "Saved"), ("info", "Heads up")]
        # The bad type became an error message in the chat; the chat goes on.
        assert client.messages[-1]["isError"]


async def test_emitter_set_commands_and_task_events(app: App, connect: Connect,
                                                    of_type: OfType) -> None:
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await cl.context.emitter.set_commands([{"id": "search", "description": "Search"}])

    async with connect() as client:
        assert of_type(client, "commands")[-1]["commands"] == [
            {"id": "search", "description": "Search"}]
        await client.send("/x", command="search")
        assert client.session.commands[0]["id"] == "search"


async def test_on_feedback_runs_in_the_chat_session(app: App, connect: Connect) -> None:
    got: list[tuple[str, int, str | None, str | None]] = []
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            cl.user_session.set("who", "ada")

        @cl.on_message
        async def on_message() -> None:
            await cl.Message("rate me").send()

        @cl.on_feedback
        async def on_feedback(feedback: cl.types.Feedback) -> None:
            got.append((feedback.forId, feedback.value, feedback.comment,
                        cl.user_session.get("who")))

    async with connect() as client:
        await client.send("hi")
        reply = client.messages[-1]
        await client.feedback(reply["id"], 1, comment="good")
        assert got == [(reply["id"], 1, "good", "ada")]


async def test_modes_picker_and_message_modes(app: App, connect: Connect, of_type: OfType) -> None:
    seen: list[dict[str, str] | None] = []
    model = cl.Mode(id="model", name="Model", options=[
        cl.ModeOption(id="fast", name="Fast"), cl.ModeOption(id="smart", name="Smart",
                                                              default=True)])
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await cl.context.emitter.set_modes([model])

        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            seen.append(message.modes)

    async with connect() as client:
        shown = of_type(client, "modes")[-1]["modes"]
        assert shown == [model.to_dict()]
        assert [o["id"] for o in shown[0]["options"]] == ["fast", "smart"]
        await client.send("a", modes={"model": "fast"})
        await client.send("b")  # left alone: the default option
        assert seen == [{"model": "fast"}, {"model": "smart"}]
        assert client.messages[-1]["modes"] == {"model": "smart"}
        await client.send("c", modes={"model": "huge"})
        assert client.errors[-1]["code"] == "unknown_mode"
        assert len(seen) == 2  # rejected, nothing ran
        # A reconnecting page gets the pickers in welcome.
        await client.reconnect(last_seq=None)
        assert of_type(client, "welcome")[-1]["modes"] == [model.to_dict()]
    assert model.get_default_option() is model.options[1]
    assert model.get_option_by_id("fast") is model.options[0]
    assert model.get_option_by_id("nope") is None


async def test_set_modes_rejects_a_mode_without_options(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message() -> None:
            await cl.set_modes([cl.Mode(id="m", name="M")])

    async with connect() as client:
        await client.send("x")
        assert client.messages[-1]["isError"]


async def test_starter_categories_in_welcome(app: App, connect: Connect, of_type: OfType) -> None:
    with registering_on(app):
        @cl.set_starter_categories
        async def categories(user: cl.User | None) -> list[cl.StarterCategory]:
            return [cl.StarterCategory(label="Query", icon="search", starters=[
                cl.Starter(label="Machines", message="list machines")])]

    async with connect() as client:
        welcome = of_type(client, "welcome")[-1]
        assert welcome["starterCategories"] == [{
            "label": "Query", "icon": "search",
            "starters": [{"label": "Machines", "message": "list machines", "command": None,
                          "icon": None}]}]


async def test_message_helpers(app: App, connect: Connect, of_type: OfType) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message() -> None:
            msg = cl.Message("pick", actions=[cl.Action(name="a", payload={})],
                             command="search", modes={"model": "fast"})
            await msg.send()
            await msg.remove_actions()
            copy = cl.Message.from_dict(msg.to_dict())
            assert (copy.id, copy.content, copy.author, copy.command, copy.modes) == (
                msg.id, "pick", msg.author, "search", {"model": "fast"})

    async with connect() as client:
        await client.send("go")
        assert client.errors == []
        assert client.actions == []  # removed from the UI
        assert len(of_type(client, "action_delete")) == 1
        assert client.messages[-1]["output"] == "pick"
        assert client.messages[-1]["command"] == "search"


async def test_custom_element_and_task_list_update_resend(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message() -> None:
            custom = cl.CustomElement(name="Counter", props={"n": 1})
            tasks = cl.TaskList()
            await cl.Message("x", elements=[custom, tasks]).send()
            custom.props["n"] = 2
            await custom.update()
            await tasks.add_task(cl.Task(title="one", status=cl.TaskStatus.DONE))
            await tasks.update()

    async with connect() as client:
        await client.send("go")
        by_type = {e["type"]: e for e in client.elements}
        assert by_type["custom"]["props"] == {"n": 2}
        assert '"one"' in by_type["tasklist"]["content"]
        assert len(client.elements) == 2  # replaced, not added


async def test_user_session_create_accessor(app: App, connect: Connect) -> None:
    counter = cl.user_session.create_accessor("count", 0, apply_fn=lambda n: n + 1)
    with registering_on(app):
        @cl.on_message
        async def on_message() -> None:
            await cl.Message(f"n={counter.apply()} raw={cl.user_session.get('count')}").send()
            if counter.get() == 2:
                counter.reset()

    async with connect() as client:
        await client.send("a")
        await client.send("b")
        await client.send("c")
        assert [m["output"] for m in client.messages if m["type"] != "user_message"] == [
            "n=1 raw=1", "n=2 raw=2", "n=1 raw=1"]


async def test_client_type(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message() -> None:
            await cl.Message(f"{cl.context.session.client_type} "
                             f"{cl.user_session.get('client_type')}").send()

    async with connect() as client:
        await client.send("x")
        assert client.messages[-1]["output"] == "webapp webapp"


async def test_user_env_reaches_user_session_and_missing_ones_are_named(
        app: App, make_config: MakeConfig) -> None:
    config = dataclasses.replace(make_config(), project=ProjectConfig(user_env=("OPENAI_API_KEY",
                                                                         "OTHER")))
    with registering_on(app):
        @cl.on_message
        async def on_message() -> None:
            await cl.Message(str(cl.user_session.get("env"))).send()

    env = {"OPENAI_API_KEY": "sk-1", "NOT_ASKED": "x"}
    async with ChatTestClient(app, config=config, env=env) as c:
        assert [e["code"] for e in c.errors] == ["missing_env"]
        assert "OTHER" in c.errors[0]["message"]
        await c.send("x")
        assert c.messages[-1]["output"] == "{'OPENAI_API_KEY': 'sk-1'}"
        assert c.events[0]["config"]["project"]["user_env"] == ["OPENAI_API_KEY", "OTHER"]
        # Given later (the page's form): kept, and nothing missing any more.
        await c.send_event({"type": "user_env", "env": {"OTHER": "o", "NOT_ASKED": "x"}})
        assert len(c.errors) == 1
        await c.send("y")
        assert c.messages[-1]["output"] == "{'OPENAI_API_KEY': 'sk-1', 'OTHER': 'o'}"


@pytest.mark.parametrize("overrides", [{"features": {"edit_mesage": False}}, {"nope": {}}])
async def test_bad_profile_overrides_are_an_error_and_keep_the_config(
        app: App, connect: Connect, overrides: dict[str, Any]) -> None:
    with registering_on(app):
        @cl.set_chat_profiles
        async def profiles(user: cl.User | None) -> list[cl.ChatProfile]:
            return [cl.ChatProfile(name="P", config_overrides=overrides)]

    async with connect() as client:
        assert [e["code"] for e in client.errors] == ["bad_config_overrides"]
        assert client.session.config is client.session.base_config
