"""Message and ErrorMessage, and Action buttons, as a client sees them."""

from __future__ import annotations

import json

import pytest

import nbchat as cl
from fixture_types import Connect, OfType
from nbchat.app import App, registering_on


async def test_message_content_author_metadata_tags_language(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            await cl.Message("plain", author="Bot", metadata={"k": 1}, tags=["a", "b"],
                             language="python").send()

    async with connect() as client:
        turn = await client.send("hi")
        user, reply = turn
        assert user["type"] == "user_message"
        assert user["name"] == "User"
        assert reply["type"] == "assistant_message"
        assert reply["output"] == "plain"
        assert reply["name"] == "Bot"
        assert reply["metadata"] == {"k": 1}
        assert reply["tags"] == ["a", "b"]
        assert reply["language"] == "python"
        assert reply["threadId"] == client.session.thread_id
        assert reply["streaming"] is False
        assert reply["start"]
        assert reply["end"]


async def test_default_author_is_the_ui_name(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await cl.Message("hello").send()

    async with connect() as client:
        assert client.messages[0]["name"] == "Assistant"


@pytest.mark.parametrize("content", [{"a": 1, "b": [1, 2]}, [1, "two", None]])
async def test_dict_and_list_content_become_json(app: App, connect: Connect,
                                                 content: object) -> None:
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await cl.Message(content=content).send()

    async with connect() as client:
        message = client.messages[0]
        assert json.loads(message["output"]) == content
        assert message["language"] == "json"


async def test_author_rename_applies_to_assistant_messages_only(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.author_rename
        async def rename(orig: str) -> str:
            return {"Bot": "Renamed Bot"}.get(orig, orig)

        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            await cl.Message("x", author="Bot").send()
            await cl.Message("y", author="Other").send()

    async with connect() as client:
        turn = await client.send("from the user")
        assert [s["name"] for s in turn] == ["User", "Renamed Bot", "Other"]


async def test_update_and_remove(app: App, connect: Connect, of_type: OfType) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            if message.content == "make":
                msg = await cl.Message("first").send()
                cl.user_session.set("msg", msg)
                msg.content = "second"
                msg.metadata = {"edited": True}
                await msg.update()
            else:
                await cl.user_session.get("msg").remove()

    async with connect() as client:
        turn = await client.send("make")
        reply = turn[-1]
        assert reply["output"] == "second"
        assert reply["metadata"] == {"edited": True}
        await client.send("remove")
        assert reply["id"] not in [m["id"] for m in client.messages]
        assert of_type(client, "step_delete")[-1]["id"] == reply["id"]


async def test_stream_token_then_send(app: App, connect: Connect, of_type: OfType) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            msg = cl.Message("")
            for word in ["Hel", "lo", " world"]:
                await msg.stream_token(word)
            assert msg.content == "Hello world"
            await msg.send()

    async with connect() as client:
        turn = await client.send("x")
        reply = turn[-1]
        assert reply["output"] == "Hello world"
        assert reply["streaming"] is False
        tokens = [e for e in of_type(client, "token") if e["id"] == reply["id"]]
        assert "".join(t["delta"] for t in tokens) == "Hello world"
        # The first step event announced it as streaming.
        first = next(e for e in of_type(client, "step") if e["step"]["id"] == reply["id"])
        assert first["step"]["streaming"] is True


async def test_stream_token_is_sequence_replaces_the_output(app: App, connect: Connect,
                                                            of_type: OfType) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            msg = cl.Message("")
            await msg.stream_token("draft")
            await msg.stream_token("final answer", is_sequence=True)
            assert msg.content == "final answer"
            await msg.send()

    async with connect() as client:
        turn = await client.send("x")
        assert turn[-1]["output"] == "final answer"
        tokens = of_type(client, "token")
        assert tokens[-1]["replace"] is True
        assert tokens[-1]["delta"] == "final answer"


async def test_streamed_output_reaches_the_client_before_send(app: App, connect: Connect) -> None:
    """The client's state follows the token deltas, not just the final step event."""
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            msg = cl.Message("")
            await msg.stream_token("a")
            await msg.stream_token("b")
            cl.user_session.set("msg", msg)

    async with connect() as client:
        turn = await client.send("x")
        assert turn[-1]["output"] == "ab"
        assert turn[-1]["streaming"] is True


async def test_error_message(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await cl.ErrorMessage("it broke").send()

    async with connect() as client:
        message = client.messages[0]
        assert message["isError"] is True
        assert message["output"] == "it broke"
        assert message["name"] == "Error"


async def test_message_parent_is_the_current_step(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            async with cl.Step("outer") as s:
                await cl.Message("inside").send()
            await cl.Message("outside").send()
            cl.user_session.set("step", s.id)

    async with connect() as client:
        turn = await client.send("x")
        by_output = {s["output"]: s for s in turn}
        assert by_output["inside"]["parentId"] == client.session.user_data["step"]
        assert by_output["outside"]["parentId"] is None


async def test_message_elements_are_sent_for_the_message(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            msg = await cl.Message("with text", elements=[cl.Text(name="t", content="T")]).send()
            msg.elements.append(cl.Text(name="late", content="L"))
            await msg.update()

    async with connect() as client:
        turn = await client.send("x")
        reply_id = turn[-1]["id"]
        assert [(e["name"], e["forId"], e["content"]) for e in client.elements] == [
            ("t", reply_id, "T"), ("late", reply_id, "L")]


# ---------------------------------------------------------------------------- actions


async def test_action_click_runs_the_callback_with_the_server_payload(app: App,
                                                                      connect: Connect) -> None:
    got = []
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await cl.Message("choose", actions=[
                cl.Action("inc", payload={"by": 1}, label="+1", tooltip="add", icon="plus"),
                cl.Action("inc", payload={"by": 10}, label="+10"),
            ]).send()

        @cl.action_callback("inc")
        async def inc(action: cl.Action) -> None:
            got.append(action.payload["by"])
            await cl.Message(f"added {action.payload['by']}").send()

    async with connect() as client:
        message_id = client.messages[0]["id"]
        first = client.actions[0]
        assert first == {"id": first["id"], "name": "inc", "forId": message_id,
                         "payload": {"by": 1}, "label": "+1", "tooltip": "add",
                         "icon": "plus"}
        turn = await client.click("inc", payload={"by": 10})
        assert turn[-1]["output"] == "added 10"
        await client.click("inc")
        assert got == [10, 1]


async def test_action_remove(app: App, connect: Connect, of_type: OfType) -> None:
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await cl.Message("once", actions=[cl.Action("once")]).send()

        @cl.action_callback("once")
        async def once(action: cl.Action) -> None:
            await action.remove()
            await cl.Message("done").send()

    async with connect() as client:
        action_id = client.actions[0]["id"]
        await client.click("once")
        assert client.actions == []
        assert of_type(client, "action_delete")[0]["id"] == action_id
        # A click on the removed action is refused and runs nothing.
        await client.send_event({"type": "action", "id": action_id})
        assert client.errors[-1]["code"] == "unknown_action"
        assert [m["output"] for m in client.messages] == ["once", "done"]


async def test_message_remove_removes_its_actions(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            cl.user_session.set("msg", await cl.Message("m", actions=[cl.Action("a")]).send())

        @cl.on_message
        async def on_message() -> None:
            await cl.user_session.get("msg").remove()

    async with connect() as client:
        assert len(client.actions) == 1
        await client.send("remove it")
        assert client.actions == []


async def test_click_without_a_callback_is_an_error(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await cl.Message("m", actions=[cl.Action("orphan")]).send()

    async with connect() as client:
        await client.click("orphan")
        assert client.errors[-1]["code"] == "no_callback"
        assert "orphan" in client.errors[-1]["message"]


def test_action_payload_must_be_a_dict() -> None:
    with pytest.raises(TypeError, match="payload must be a dict"):
        cl.Action("a", payload=[1, 2])  # type: ignore[arg-type]
    assert cl.Action("a").label == "a"
