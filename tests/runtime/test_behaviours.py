"""Behaviours Chainlit apps rely on (issue 12 §3): streams end on send/update, elements set
on a step are sent, empty tokens show nothing, dict/list step input and output."""

from __future__ import annotations

import json
import time

import pytest

import nbchat as cl
from fixture_types import Connect
from nbchat.app import App, registering_on
from nbchat.testing import ChatTestClient


async def test_message_update_after_stream_token_ends_the_stream(app: App,
                                                                 connect: Connect) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            msg = cl.Message("")
            await msg.stream_token("ab")
            await msg.update()

    async with connect() as client:
        turn = await client.send("x")
        assert turn[-1]["output"] == "ab"
        assert turn[-1]["streaming"] is False


async def test_step_send_after_stream_token_ends_the_stream(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            step = cl.Step(name="tool")
            await step.stream_token("partial")
            await step.send()

    async with connect() as client:
        await client.send("x")
        step = next(s for s in client.steps if s["name"] == "tool")
        assert step["output"] == "partial"
        assert step["streaming"] is False


async def test_elements_set_inside_a_step_block_or_before_update_are_sent(app: App,
                                                                          connect: Connect) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            async with cl.Step(name="inside") as step:
                step.elements = [cl.Text(name="a", content="in the block")]
            with cl.Step(name="sync") as sync_step:
                sync_step.elements = [cl.Text(name="c", content="sync block")]
            later = cl.Step(name="later")
            await later.send()
            later.elements.append(cl.Text(name="b", content="before update"))
            await later.update()

    async with connect() as client:
        await client.send("x")
        steps = {s["name"]: s["id"] for s in client.steps}
        by_name = {e["name"]: e for e in client.elements}
        assert by_name["a"]["forId"] == steps["inside"]
        assert by_name["b"]["forId"] == steps["later"]
        assert by_name["c"]["forId"] == steps["sync"]
        assert len(client.elements) == 3  # none sent twice


async def test_empty_token_on_an_unsent_message_shows_nothing(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            await cl.Message("").stream_token("")

    async with connect() as client:
        turn = await client.send("x")
        assert [s["type"] for s in turn] == ["user_message"]
        assert not [e for e in client.events if e["type"] == "token"]


async def test_dict_and_list_step_input_and_output_are_sent_as_json_text(app: App,
                                                                         connect: Connect) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            async with cl.Step(name="tool", type="tool"):
                step = cl.context.current_step
                assert step is not None
                step.input = {"query": message.content}
                step.output = ["a", "b"]

    async with connect() as client:
        await client.send("cats")
        step = next(s for s in client.steps if s["name"] == "tool")
        assert isinstance(step["input"], str)
        assert json.loads(step["input"]) == {"query": "cats"}
        assert json.loads(step["output"]) == ["a", "b"]
        assert step["language"] == "json"


async def test_ask_user_message_remove_clears_the_pending_ask(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await cl.Message("menu", actions=[cl.Action("drop", payload={})]).send()
            ask = cl.AskUserMessage("your name?", timeout=30)
            cl.user_session.set("ask", ask)
            answer = await ask.send()
            await cl.Message(f"answer {answer}").send()

        @cl.action_callback("drop")
        async def drop(action: cl.Action) -> None:
            await cl.user_session.get("ask").remove()

    async with connect() as client:
        assert client.pending_ask is not None
        await client.click("drop")
        assert client.state.ask is None
        assert [m["output"] for m in client.messages] == ["menu", "answer None"]
        assert client.errors == []


async def test_welcome_does_not_send_the_users_private_metadata(app: App) -> None:
    user = cl.User(identifier="ada", display_name="Ada",
                   metadata={"access_token": "secret", "role": "admin"})
    async with ChatTestClient(app, user=user) as client:
        [welcome] = [e for e in client.events if e["type"] == "welcome"]
        assert welcome["user"] == {"identifier": "ada", "display_name": "Ada"}
        assert "secret" not in json.dumps(client.events)
        assert client.session.user is user  # the app still sees all of it


async def test_switching_the_chat_profile_starts_a_new_chat_under_it(app: App,
                                                                     connect: Connect) -> None:
    started: list[str | None] = []
    ended: list[str] = []
    with registering_on(app):
        @cl.set_chat_profiles
        async def profiles(user: cl.User | None) -> list[cl.ChatProfile]:
            return [cl.ChatProfile(name=n, markdown_description=n) for n in ("one", "two")]

        @cl.on_chat_start
        async def start() -> None:
            profile = cl.user_session.get("chat_profile")
            started.append(profile)
            cl.user_session.set("mark", profile)
            await cl.Message(f"hello from {profile}").send()

        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            await cl.Message(f"{cl.user_session.get('mark')}: {message.content}").send()

        @cl.on_chat_end
        async def end() -> None:
            ended.append(cl.user_session.get("mark"))
            await cl.Message("bye").send()  # nothing of the old chat reaches the page

    async with connect() as client:
        await client.send("first")
        old_thread = client.session.thread_id
        seen = len(client.events)
        await client.send_event({"type": "hello", "protocolVersion": 1,
                                 "sessionId": client.session.id, "chatProfile": "two"})
        assert started == ["one", "two"]
        assert ended == ["one"]
        new = client.events[seen:]
        assert [e["type"] for e in new][:1] == ["welcome"]
        assert new[0]["chatProfile"] == "two"
        assert [e["step"]["output"] for e in new if e["type"] == "step"] == ["hello from two"]
        assert client.session.thread_id != old_thread
        turn = await client.send("again")
        assert turn[-1]["output"] == "two: again"
        # The same profile again is a reconnect (a welcome and snapshot), no new chat.
        await client.send_event({"type": "hello", "protocolVersion": 1,
                                 "sessionId": client.session.id, "chatProfile": "two"})
        assert started == ["one", "two"]
        await client.send_event({"type": "hello", "protocolVersion": 1,
                                 "sessionId": client.session.id, "chatProfile": "nope"})
        assert client.errors[-1]["code"] == "unknown_profile"
        assert started == ["one", "two"]


@pytest.mark.parametrize("way", ["stream_token", "update"])
async def test_blocking_work_between_tokens_still_shows_them_as_they_come(
        app: App, connect: Connect, way: str) -> None:
    seen_while_running: list[int] = []
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            msg = cl.Message("")
            for n in range(5):
                # A synchronous SDK stream read: the loop does not run meanwhile. (Blocking
                # work is what is tested; nothing here waits for the test.)
                time.sleep(0.03)  # noqa: ASYNC251 (the blocking call under test)
                if way == "stream_token":
                    await msg.stream_token(f"t{n} ")
                else:
                    msg.content += f"t{n} "
                    await msg.update()
                seen_while_running.append(sum(
                    1 for e in client.events if e["type"] in ("token", "step")
                    and e.get("id", e.get("step", {}).get("id")) == msg.id))
            await msg.send()

    async with connect(stream_interval_ms=10) as client:
        await client.send("go")
        assert client.messages[-1]["output"] == "t0 t1 t2 t3 t4 "
        # The page got the text while the callback was still producing it.
        assert seen_while_running[-1] >= 3, seen_while_running
