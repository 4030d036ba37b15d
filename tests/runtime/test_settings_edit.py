"""Live settings edits (on_settings_edit, ChatSettings.refresh), the Checkbox, RadioGroup,
DatePicker and Tab inputs, chat profiles' display_name and config_overrides, step icons."""

from __future__ import annotations

from typing import Any

import pytest

import nbchat as cl
from fixture_types import Connect, OfType
from nbchat.app import App, registering_on

# The values `on_settings_edit` and `on_settings_update` got (the `live_app` fixture).
Seen = tuple[list[dict[str, Any]], list[dict[str, Any]]]

MODELS = {"openai": ["gpt-a", "gpt-b"], "local": ["llama"]}


def _form(provider: str) -> cl.ChatSettings:
    return cl.ChatSettings([
        cl.Select("provider", "Provider", values=list(MODELS), initial_value="openai"),
        cl.Select("model", "Model", values=MODELS[provider], initial_index=0),
        cl.Tab("advanced", "Advanced", inputs=[
            cl.Checkbox("verbose", "Verbose", initial=False),
            cl.RadioGroup("tone", "Tone", values=["dry", "warm"], initial_value="dry"),
            cl.DatePicker("since", "Since", initial="2026-01-01", min_date="2025-01-01"),
            cl.DatePicker("span", "Span", mode="range"),
        ]),
    ])


@pytest.fixture
def live_app(app: App) -> Seen:
    edits: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await _form("openai").send()

        @cl.on_settings_edit
        async def on_edit(values: dict[str, Any]) -> None:
            edits.append(values)
            await _form(values["provider"]).refresh()

        @cl.on_settings_update
        async def on_update(values: dict[str, Any]) -> None:
            updates.append(values)
    return edits, updates


async def test_new_widgets_render_and_their_values_come_back(live_app: Seen, connect: Connect,
                                                             of_type: OfType) -> None:
    _, updates = live_app
    async with connect() as client:
        form = of_type(client, "settings")[-1]["inputs"]
        assert [i["type"] for i in form] == ["select", "select", "tab"]
        tab = form[2]["inputs"]
        assert [(i["type"], i["initial"]) for i in tab] == [
            ("checkbox", False), ("radio", "dry"), ("datepicker", "2026-01-01"),
            ("datepicker", None)]
        assert client.session.chat_settings["since"] == "2026-01-01"
        await client.update_settings(verbose=True, tone="warm", since="2026-02-03",
                                     span=["2026-01-01", "2026-01-31"])
        assert updates[-1] == {"provider": "openai", "model": "gpt-a", "verbose": True,
                               "tone": "warm", "since": "2026-02-03",
                               "span": ["2026-01-01", "2026-01-31"]}
        for bad in ({"tone": "loud"}, {"since": "2024-12-31"}, {"since": "31/01/2026"},
                    {"span": ["2026-02-01", "2026-01-01"]}, {"verbose": "yes"}):
            await client.update_settings(**bad)
            assert client.errors[-1]["code"] == "bad_setting", bad
        await client.update_settings(advanced=1)  # a tab holds no value of its own
        assert client.errors[-1]["code"] == "unknown_setting"
        assert len(updates) == 1


async def test_settings_edit_runs_on_settings_edit_and_refresh_keeps_the_edit(
        live_app: Seen, connect: Connect, of_type: OfType) -> None:
    edits, updates = live_app
    async with connect() as client:
        await client.edit_settings(provider="local", tone="warm")
        assert edits[-1]["provider"] == "local"
        form = of_type(client, "settings")[-1]["inputs"]
        model = next(i for i in form if i["id"] == "model")
        assert model["items"] == {"llama": "llama"}
        # The edit is kept in the redrawn form; the model the new list lacks is reset.
        assert next(i for i in form if i["id"] == "provider")["initial"] == "local"
        assert model["initial"] == "llama"
        assert form[2]["inputs"][1]["initial"] == "warm"
        # Nothing confirmed: the settings are unchanged and on_settings_update did not run.
        assert client.session.chat_settings["provider"] == "openai"
        assert updates == []
        await client.edit_settings(tone="loud")
        assert client.errors[-1]["code"] == "bad_setting"


async def test_send_from_on_settings_edit_keeps_the_edit(app: App, connect: Connect,
                                                         of_type: OfType) -> None:
    # Chainlit's own on_settings_edit example redraws the form with send().
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await _form("openai").send()

        @cl.on_settings_edit
        async def on_edit(values: dict[str, Any]) -> None:
            await _form(values["provider"]).send()

    async with connect() as client:
        await client.edit_settings(provider="local")
        form = of_type(client, "settings")[-1]["inputs"]
        assert [i["initial"] for i in form[:2]] == ["local", "llama"]
        assert client.session.chat_settings["model"] == "llama"
        assert client.session.settings_draft == {}  # gone once the callback returned


def test_date_picker_and_tab_reject_bad_definitions() -> None:
    with pytest.raises(ValueError, match="mode"):
        cl.DatePicker("d", "D", mode="week")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="date"):
        cl.DatePicker("d", "D", initial="soon")
    with pytest.raises(ValueError, match="tabs"):
        cl.Tab("t", "T", inputs=[cl.Tab("u", "U")])
    with pytest.raises(ValueError, match="unique"):
        cl.ChatSettings([cl.Switch("a", "A"), cl.Tab("t", "T", inputs=[cl.Checkbox("a", "A")])])


async def test_profile_display_name_and_config_overrides(app: App, connect: Connect,
                                                         of_type: OfType) -> None:
    with registering_on(app):
        @cl.set_chat_profiles
        async def profiles(user: cl.User | None) -> list[cl.ChatProfile]:
            return [cl.ChatProfile(name="plain", markdown_description="", default=True),
                    cl.ChatProfile(name="locked", markdown_description="",
                                   display_name="Locked down",
                                   config_overrides={"features": {"edit_message": False},
                                                     "ui": {"name": "Guard"}})]

        @cl.on_message
        async def on_message() -> None:
            await cl.Message("hi").send()

    async with connect(chat_profile="locked") as client:
        welcome = of_type(client, "welcome")[-1]
        assert welcome["chatProfiles"][1]["display_name"] == "Locked down"
        assert "config_overrides" not in welcome["chatProfiles"][1]
        assert welcome["config"]["features"]["edit_message"] is False
        assert welcome["config"]["ui"]["name"] == "Guard"
        await client.send("hello")
        assert client.messages[-1]["name"] == "Guard"
        await client.edit(client.messages[0]["id"], "changed")
        assert client.errors[-1]["code"] == "forbidden"
    async with connect(chat_profile="plain") as client:
        assert of_type(client, "welcome")[-1]["config"]["features"]["edit_message"] is True


async def test_step_icon_and_auto_collapse(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.step(type="tool", icon="search", auto_collapse=True)
        async def search() -> str:
            return "found"

        @cl.on_message
        async def on_message() -> None:
            await search()
            async with cl.Step(name="plain"):
                pass

    async with connect() as client:
        await client.send("go")
        steps = {s["name"]: s for s in client.steps}
        assert steps["search"]["icon"] == "search"
        assert steps["search"]["autoCollapse"] is True
        assert "icon" not in steps["plain"]
        assert "autoCollapse" not in steps["plain"]
