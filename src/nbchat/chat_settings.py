"""Chat settings, chat profiles, starters and composer commands."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from nbchat.input_widget import InputWidget
from nbchat.runtime.context import get_session


class ChatSettings:
    """The settings panel. `await ChatSettings([...]).send()` shows it and returns the
    current values; later changes arrive in `@cl.on_settings_update`."""

    def __init__(self, inputs: list[InputWidget]) -> None:
        ids = [i.id for i in inputs]
        if len(ids) != len(set(ids)):
            raise ValueError(f"ChatSettings input ids must be unique, got {ids}")
        self.inputs = inputs

    def settings(self) -> dict[str, Any]:
        """The initial value of every input, by input id."""
        return {i.id: i.initial for i in self.inputs}

    async def send(self) -> dict[str, Any]:
        """Show the settings panel; returns the current values (initial ones, then the user's)."""
        session = get_session("ChatSettings.send")
        session.settings_inputs = {i.id: i for i in self.inputs}
        values = {**self.settings(), **{k: v for k, v in session.chat_settings.items()
                                        if k in session.settings_inputs}}
        session.chat_settings = values
        inputs = [{**i.to_dict(), "initial": values[i.id]} for i in self.inputs]
        session.emitter.emit({"type": "settings", "inputs": inputs})
        return dict(values)


@dataclass
class Starter:
    """A suggested first message shown on an empty chat."""

    label: str
    message: str
    icon: str | None = None
    command: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The starter as sent in `welcome`."""
        return asdict(self)


@dataclass
class ChatProfile:
    """A choosable assistant persona; the chosen name is in user_session 'chat_profile'."""

    name: str
    markdown_description: str = ""
    icon: str | None = None
    default: bool = False
    starters: list[Starter] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The profile as sent in `welcome`, with its starters."""
        data = asdict(self)
        data["starters"] = [s.to_dict() for s in self.starters or []]
        return data


async def set_commands(commands: list[dict[str, Any]]) -> None:
    """Offer composer commands: dicts with `id`, `description`, optional `icon`, `button`."""
    for command in commands:
        if not isinstance(command, dict) or not isinstance(command.get("id"), str):
            raise ValueError(f"each command needs a string 'id', got {command!r}")
    session = get_session("set_commands")
    session.commands = list(commands)
    session.emitter.emit({"type": "commands", "commands": session.commands})
