"""Chat settings with every input widget, chat profiles, starters, commands, and the
per-session user_session."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import nbchat as cl
from fixture_types import Connect, OfType
from nbchat.app import App, registering_on
from nbchat.input_widget import InputWidget

# The values `on_settings_update` got (the `settings_app` fixture).
Updates = list[dict[str, Any]]


def _widgets() -> list[InputWidget]:
    return [
        cl.Select("model", "Model", values=["small", "large"], initial_index=1),
        cl.Slider("temperature", "Temperature", initial=0.5, min=0, max=2, step=0.1),
        cl.Switch("stream", "Stream", initial=True),
        cl.TextInput("prompt", "System prompt", initial="be nice", multiline=True),
        cl.NumberInput("tokens", "Max tokens", initial=256),
        cl.Tags("stop", "Stop words", initial=["END"]),
        cl.MultiSelect("tools", "Tools", items={"Web search": "web", "Python": "py"},
                       initial=["web"]),
    ]


INITIAL = {"model": "large", "temperature": 0.5, "stream": True, "prompt": "be nice",
           "tokens": 256, "stop": ["END"], "tools": ["web"]}


@pytest.fixture
def settings_app(app: App) -> Updates:
    updates: Updates = []
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            values = await cl.ChatSettings(_widgets()).send()
            cl.user_session.set("initial", values)

        @cl.on_settings_update
        async def on_update(settings: dict[str, Any]) -> None:
            updates.append(settings)

        @cl.on_message
        async def on_message() -> None:
            await cl.Message(str(cl.user_session.get("chat_settings"))).send()
    return updates


async def test_chat_settings_form_and_initial_values(settings_app: Updates, connect: Connect,
                                                     of_type: OfType) -> None:
    async with connect() as client:
        assert client.session.user_data["initial"] == INITIAL
        inputs = {i["id"]: i for i in of_type(client, "settings")[-1]["inputs"]}
        assert {i: w["type"] for i, w in inputs.items()} == {
            "model": "select", "temperature": "slider", "stream": "switch",
            "prompt": "textinput", "tokens": "numberinput", "stop": "tags",
            "tools": "multiselect"}
        assert {i: w["initial"] for i, w in inputs.items()} == INITIAL
        assert inputs["model"]["items"] == {"small": "small", "large": "large"}
        assert inputs["temperature"]["min"] == 0
        assert inputs["temperature"]["max"] == 2
        assert inputs["prompt"]["multiline"] is True
        assert inputs["tools"]["items"] == {"Web search": "web", "Python": "py"}
        assert inputs["model"]["label"] == "Model"


async def test_settings_update_calls_the_callback(settings_app: Updates, connect: Connect) -> None:
    async with connect() as client:
        await client.update_settings(model="small", temperature=1.5, stream=False,
                                     prompt="terse", tokens=12, stop=[], tools=["py", "web"])
        expected = {"model": "small", "temperature": 1.5, "stream": False, "prompt": "terse",
                    "tokens": 12, "stop": [], "tools": ["py", "web"]}
        assert settings_app == [expected]
        assert client.errors == []
        turn = await client.send("what are my settings?")
        assert turn[-1]["output"] == str(expected)
        # A partial update keeps the other values.
        await client.update_settings(stream=True)
        assert settings_app[-1] == {**expected, "stream": True}


async def test_confirmed_settings_survive_a_reload(settings_app: Updates, connect: Connect) -> None:
    async with connect() as client:
        await client.update_settings(model="small", stream=False)
        await client.reconnect()  # a reload: the page starts empty and gets a snapshot
        [snapshot] = [e for e in client.events if e["type"] == "snapshot"]
        initial = {i["id"]: i["initial"] for i in snapshot["settings"]["inputs"]}
        assert initial == {**INITIAL, "model": "small", "stream": False}


@pytest.mark.parametrize(("key", "value"), [
    ("model", "medium"),
    ("temperature", 3),
    ("temperature", "hot"),
    ("stream", "yes"),
    ("prompt", 5),
    ("tokens", "many"),
    ("tokens", True),
    ("stop", "END"),
    ("stop", [1]),
    ("tools", "web"),
    ("tools", ["web", "shell"]),
])
async def test_bad_setting_values_are_rejected(settings_app: Updates, connect: Connect, key: str,
                                               value: object) -> None:
    async with connect() as client:
        await client.update_settings(**{key: value})
        error = client.errors[-1]
        assert error["code"] == "bad_setting"
        assert repr(key) in error["message"]
        assert settings_app == []
        assert client.session.chat_settings == INITIAL


async def test_unknown_setting_is_rejected_and_nothing_changes(settings_app: Updates,
                                                               connect: Connect) -> None:
    async with connect() as client:
        await client.update_settings(model="small", color="red")
        assert client.errors[-1]["code"] == "unknown_setting"
        assert "color" in client.errors[-1]["message"]
        assert settings_app == []
        assert client.session.chat_settings == INITIAL


def test_widget_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="needs values or items"):
        cl.Select("s", "S")
    with pytest.raises(ValueError, match="unique"):
        cl.ChatSettings([cl.Switch("a", "A"), cl.Switch("a", "B")])


# ---------------------------------------------------------------------------- profiles


@pytest.fixture
def profile_app(app: App) -> App:
    with registering_on(app):
        @cl.set_chat_profiles
        async def profiles(user: object) -> list[cl.ChatProfile]:
            return [
                cl.ChatProfile("Fast", markdown_description="quick", icon="bolt"),
                cl.ChatProfile("Smart", markdown_description="slow", default=True,
                               starters=[cl.Starter("Explain", "Explain it", icon="i")]),
            ]

        @cl.set_starters
        def starters() -> list[cl.Starter]:
            return [cl.Starter("Hello", "Say hello", command="greet")]

        @cl.on_chat_start
        async def start() -> None:
            await cl.Message(f"profile {cl.user_session.get('chat_profile')}").send()
    return app


async def test_profiles_and_starters_in_welcome(profile_app: App, connect: Connect,
                                                of_type: OfType) -> None:
    async with connect() as client:
        welcome = of_type(client, "welcome")[0]
        assert [p["name"] for p in welcome["chatProfiles"]] == ["Fast", "Smart"]
        assert welcome["chatProfiles"][0] == {
            "name": "Fast", "display_name": None, "markdown_description": "quick",
            "icon": "bolt", "default": False, "starters": []}
        assert welcome["chatProfile"] == "Smart"
        # The chosen profile's own starters win over set_starters.
        assert welcome["starters"] == [{"label": "Explain", "message": "Explain it",
                                        "icon": "i", "command": None}]
        assert client.messages[0]["output"] == "profile Smart"


async def test_choosing_a_profile(profile_app: App, connect: Connect, of_type: OfType) -> None:
    async with connect(chat_profile="Fast") as client:
        welcome = of_type(client, "welcome")[0]
        assert welcome["chatProfile"] == "Fast"
        assert welcome["starters"] == [{"label": "Hello", "message": "Say hello",
                                        "icon": None, "command": "greet"}]
        assert client.messages[0]["output"] == "profile Fast"


async def test_unknown_profile_is_an_error_and_the_default_is_used(profile_app: App,
                                                                    connect: Connect) -> None:
    async with connect(chat_profile="Nope") as client:
        assert client.errors[0]["code"] == "unknown_profile"
        assert "Fast, Smart" in client.errors[0]["message"]
        assert client.messages[0]["output"] == "profile Smart"


async def test_no_profiles_and_no_starters(app: App, connect: Connect, of_type: OfType) -> None:
    async with connect() as client:
        welcome = of_type(client, "welcome")[0]
        assert welcome["chatProfiles"] == []
        assert welcome["chatProfile"] is None
        assert welcome["starters"] == []


# ---------------------------------------------------------------------------- commands


async def test_commands(app: App, connect: Connect, of_type: OfType) -> None:
    seen = []
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await cl.set_commands([{"id": "search", "description": "Search the web",
                                    "icon": "globe"}])

        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            seen.append((message.command, message.content))

    async with connect() as client:
        assert of_type(client, "commands")[-1]["commands"] == [
            {"id": "search", "description": "Search the web", "icon": "globe"}]
        turn = await client.send("cats", command="search")
        assert turn[0]["command"] == "search"
        assert seen == [("search", "cats")]
        await client.send("dogs", command="delete")
        assert client.errors[-1]["code"] == "unknown_command"
        assert seen == [("search", "cats")]


async def test_bad_command_definitions_are_refused(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await cl.set_commands([{"description": "no id"}])

    async with connect(debug=True) as client:
        assert "needs a string 'id'" in client.messages[-1]["output"]
        assert client.session.commands == []


# ---------------------------------------------------------------------------- user_session


async def test_user_session_is_isolated_between_concurrent_sessions(app: App,
                                                                    connect: Connect) -> None:
    both_set = asyncio.Event()
    arrived = 0

    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            nonlocal arrived
            cl.user_session.set("name", message.content)
            arrived += 1
            if arrived == 2:
                both_set.set()
            await both_set.wait()  # both sessions have set "name" before either reads it
            await cl.Message(f"{cl.user_session.get('name')}:{cl.user_session.get('id')}").send()

    async with connect() as alice, connect() as bob:
        a_turn, b_turn = await asyncio.gather(alice.send("alice"), bob.send("bob"))
        assert a_turn[-1]["output"] == f"alice:{alice.session.id}"
        assert b_turn[-1]["output"] == f"bob:{bob.session.id}"
        assert alice.session.id != bob.session.id


async def test_user_session_builtins_and_defaults(app: App, connect: Connect) -> None:
    seen = {}
    with registering_on(app):
        @cl.on_chat_start
        def start() -> None:
            seen["missing"] = cl.user_session.get("missing", "dflt")
            seen["thread_id"] = cl.user_session.get("thread_id")
            cl.user_session.set("k", 1)
            seen["dict"] = cl.user_session.to_dict()

    async with connect() as client:
        assert seen["missing"] == "dflt"
        assert seen["thread_id"] == client.session.thread_id
        assert seen["dict"]["k"] == 1
        assert seen["dict"]["id"] == client.session.id
