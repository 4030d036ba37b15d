"""cl.ElementSidebar: the `sidebar` events its three calls send and the state a client
(and a snapshot) keeps from them, with Chainlit's rules (a title opens it, an empty list
closes it, the same key keeps the elements shown)."""

from __future__ import annotations

from typing import Any

import pytest

import nbchat as cl
from fixture_types import Connect
from nbchat.app import App, registering_on
from nbchat.testing import ChatTestClient


def _sidebar_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == "sidebar"]


async def test_set_elements_and_title_open_it_and_an_empty_list_closes_it(
        app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await cl.ElementSidebar.set_elements([
                cl.Text(name="notes", content="first"),
                cl.Image(name="dot", content=b"\x89PNG\r\n\x1a\n" + b"\x00" * 8),
            ])
            await cl.ElementSidebar.set_title("Sources")

        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            if message.content == "close":
                await cl.ElementSidebar.set_elements([])
            else:
                await cl.ElementSidebar.set_elements([cl.Text(content="kept?")], key="k")

    async with connect() as client:
        sidebar = client.sidebar
        assert sidebar is not None
        assert sidebar["title"] == "Sources"
        assert [e["name"] for e in sidebar["elements"]] == ["notes", "dot"]
        image = sidebar["elements"][1]
        # the image's bytes are in the session's file store, so the browser can load them
        key = image["objectKey"]
        assert key is not None
        assert client.session.get_blob(key) is not None
        assert image["mime"] == "image/png"
        # shown in the sidebar only: not an element of any message
        assert client.elements == []
        first = _sidebar_events(client.events)
        assert [set(e) - {"seq"} for e in first] == [{"type", "elements", "key"}, {"type", "title"}]

        await client.send("keyed")
        assert client.sidebar is not None
        assert [e["content"] for e in client.sidebar["elements"]] == ["kept?"]
        assert client.sidebar["title"] == "Sources"
        await client.send("again")  # same key: the shown elements stay
        ids = [e["elements"][0]["id"] for e in _sidebar_events(client.events)[-2:]]
        assert ids[0] != ids[1]
        assert client.sidebar is not None
        assert client.sidebar["elements"][0]["id"] == ids[0]

        await client.send("close")
        assert shown(client) is None  # (a call: mypy narrowed client.sidebar above)
        assert client.state.snapshot()["sidebar"] is None


async def test_set_sends_title_and_elements_in_one_event(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await cl.ElementSidebar.set("Report", [cl.Text(name="summary", content="ok")])

    async with connect() as client:
        (event,) = _sidebar_events(client.events)
        assert event["title"] == "Report"
        assert [e["name"] for e in event["elements"]] == ["summary"]
        assert client.sidebar is not None
        assert client.sidebar["title"] == "Report"


async def test_outside_a_callback_it_says_where_to_call_it() -> None:
    with pytest.raises(cl.ContextError, match=r"ElementSidebar\.set_title"):
        await cl.ElementSidebar.set_title("nowhere")


def shown(client: ChatTestClient) -> object:
    """The sidebar the client shows now."""
    return client.sidebar
