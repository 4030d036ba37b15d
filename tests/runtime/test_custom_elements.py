"""What a custom element's code may ask of its chat: `element_update` (updateElement /
model.save_changes) and `call_action` (callAction), and where its code is found."""

from __future__ import annotations

from pathlib import Path

import pytest

import nbchat as cl
from fixture_types import Connect
from nbchat.app import App, registering_on
from nbchat.data import make_data_layer
from nbchat.element import custom_element_source
from nbchat.testing import ChatTestClient


def _counter_app(app: App, seen: list[dict[str, object]]) -> None:
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            counter = cl.CustomElement(name="Counter", props={"count": 1})
            cl.user_session.set("counter", counter)
            await cl.Message(content="counter", elements=[counter]).send()

        @cl.action_callback("double")
        async def double(action: cl.Action) -> dict[str, int]:
            seen.append(action.payload)
            return {"doubled": int(action.payload["n"]) * 2}


async def test_element_update_changes_the_authors_element_and_sends_it_again(
        app: App, connect: Connect) -> None:
    _counter_app(app, [])
    async with connect() as client:
        (shown,) = client.elements
        before = len(client.events)
        await client.send_event({"type": "element_update", "id": shown["id"],
                                 "props": {"count": 5}})
        counter = client.session.user_data["counter"]
        assert counter.props == {"count": 5}  # the author's object sees the user's change
        resent = [e for e in client.events[before:] if e["type"] == "element"]
        assert [e["element"]["props"] for e in resent] == [{"count": 5}]
        assert client.errors == []


async def test_element_update_of_an_unknown_or_non_custom_element_is_refused(
        app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await cl.Message(content="t", elements=[cl.Text(name="t", content="x")]).send()

    async with connect() as client:
        (text,) = client.elements
        await client.send_event({"type": "element_update", "id": text["id"], "props": {}})
        await client.send_event({"type": "element_update", "id": "nope", "props": {}})
        assert [e["code"] for e in client.errors] == ["unknown_element", "unknown_element"]
        assert client.elements[0]["content"] == "x"


async def test_call_action_runs_the_callback_with_the_browsers_payload(
        app: App, connect: Connect) -> None:
    seen: list[dict[str, object]] = []
    _counter_app(app, seen)
    async with connect() as client:
        await client.send_event({"type": "call_action", "callId": "c1", "name": "double",
                                 "payload": {"n": 4}})
        await client.send_event({"type": "call_action", "callId": "c2", "name": "missing"})
        results = {e["callId"]: e for e in client.events if e["type"] == "call_action_result"}
        assert seen == [{"n": 4}]
        assert results["c1"]["success"] is True
        assert results["c1"]["response"] == {"doubled": 8}
        assert results["c2"]["success"] is False
        assert "missing" in results["c2"]["error"]


async def test_call_action_is_refused_while_no_custom_element_is_shown(
        app: App, connect: Connect) -> None:
    ran: list[object] = []
    with registering_on(app):
        @cl.action_callback("double")
        async def double(action: cl.Action) -> None:
            ran.append(action)

    async with connect() as client:
        await client.send_event({"type": "call_action", "callId": "c1", "name": "double"})
        (result,) = [e for e in client.events if e["type"] == "call_action_result"]
        assert result["success"] is False
        assert "custom element" in result["error"]
        assert ran == []


async def test_update_of_an_element_shown_only_in_the_sidebar_sends_the_sidebar(
        app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            counter = cl.CustomElement(name="Counter", props={"count": 1})
            cl.user_session.set("counter", counter)
            await cl.ElementSidebar.set("Tools", [counter, cl.Text(name="n", content="x")])

        @cl.on_message
        async def bump(message: cl.Message) -> None:
            counter = cl.user_session.get("counter")
            counter.props = {"count": 9}
            await counter.update()

    async with connect() as client:
        await client.send("bump")
        assert client.elements == []  # never put into a message
        sidebar = client.sidebar
        assert sidebar is not None
        assert sidebar["title"] == "Tools"
        assert [e.get("props") for e in sidebar["elements"]] == [{"count": 9}, None]


def test_custom_element_source_is_a_plain_name_in_public_elements(tmp_path: Path) -> None:
    folder = tmp_path / "public" / "elements"
    folder.mkdir(parents=True)
    (folder / "Counter.js").write_text("export default {render() {}}")
    (folder / "Legacy.jsx").write_text("export default function X() {}")
    assert custom_element_source(tmp_path, "Counter") == (folder / "Counter.js").resolve()
    for bad in ("../secret", "a/b", "", "x.js", "1abc", "a" * 200):
        with pytest.raises(ValueError, match="letters, digits"):
            custom_element_source(tmp_path, bad)
    with pytest.raises(FileNotFoundError, match=r"Legacy\.jsx is Chainlit's JSX form"):
        custom_element_source(tmp_path, "Legacy")
    with pytest.raises(FileNotFoundError, match=r"public/elements/Nowhere\.js"):
        custom_element_source(tmp_path, "Nowhere")
    outside = tmp_path / "outside.js"
    outside.write_text("x")
    (folder / "Link.js").symlink_to(outside)
    with pytest.raises(FileNotFoundError):
        custom_element_source(tmp_path, "Link")


async def test_the_custom_elements_notebook_runs_as_an_app() -> None:
    notebook = Path(__file__).resolve().parents[2] / "notebooks" / "custom_elements.ipynb"
    async with ChatTestClient(notebook) as client:
        assert [e["name"] for e in client.elements] == ["Gauge"]
        await client.send("set 8")
        assert client.elements[0]["props"]["value"] == 8
        await client.send("sidebar")
        assert client.sidebar is not None
        assert client.sidebar["title"] == "Side notes"
        await client.send("steps")
        assert [s.get("icon") for s in client.steps if s["type"] == "tool"] == [
            "globe", "database"]


async def test_a_resumed_threads_custom_element_takes_updates(tmp_path: Path) -> None:
    data = make_data_layer(None, tmp_path)  # SQLite in tmp_path/.nbchat
    app = App("resume-custom")
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await cl.Message(content="counter", elements=[
                cl.CustomElement(name="Counter", props={"count": 1})]).send()

        @cl.on_chat_resume
        async def resume(thread: object) -> None:
            return None

    user = cl.User(identifier="ada")
    try:
        async with ChatTestClient(app, user=user, data_layer=data) as client:
            await client.send("keep this chat")
            thread_id = client.session.thread_id
            (element_id,) = [e["id"] for e in client.elements]
        async with ChatTestClient(app, user=user, data_layer=data,
                                  resume_thread=thread_id) as again:
            await again.send_event({"type": "element_update", "id": element_id,
                                    "props": {"count": 6}})
            assert again.errors == []
            restored = again.session.elements[element_id]
            assert isinstance(restored, cl.CustomElement)
            assert restored.props == {"count": 6}
            assert [e["props"] for e in again.elements if e["id"] == element_id] == [
                {"count": 6}]
    finally:
        await data.close()
