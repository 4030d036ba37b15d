"""What the chat offers: settings, chat profiles, starters (and their categories),
composer commands and modes."""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, field
from typing import Any

from nbchat.input_widget import InputWidget
from nbchat.protocol import outbound
from nbchat.runtime.context import context, get_session


class ChatSettings:
    """The settings panel. `await ChatSettings([...]).send()` shows it and returns the
    current values; later changes arrive in `@cl.on_settings_update`."""

    def __init__(self, inputs: list[InputWidget]) -> None:
        self.inputs = inputs
        ids = [i.id for i in self.flat_inputs()]
        if len(ids) != len(set(ids)):
            raise ValueError(f"ChatSettings input ids must be unique, got {ids}")

    def settings(self) -> dict[str, Any]:
        """The initial value of every input, by input id."""
        return {i.id: i.initial for i in self.flat_inputs()}

    async def send(self) -> dict[str, Any]:
        """Show the settings panel; returns the current values (initial ones, then the user's)."""
        session = get_session("ChatSettings.send")
        # Sent from @cl.on_settings_edit (Chainlit's example redraws the form this way), the
        # values being edited win, as in refresh(); send() also makes them the settings.
        values = self._show(session, {**session.chat_settings, **session.settings_draft})
        session.chat_settings = values
        return dict(values)

    async def refresh(self) -> dict[str, Any]:
        """Redraw the panel with these inputs (e.g. from `@cl.on_settings_edit`, when one
        choice changes what the others offer), keeping what the user is editing where it
        still fits; the confirmed settings are unchanged. Returns the values shown."""
        session = get_session("ChatSettings.refresh")
        return self._show(session, {**session.chat_settings, **session.settings_draft})

    def _show(self, session: Any, current: dict[str, Any]) -> dict[str, Any]:
        session.settings_inputs = {i.id: i for i in self.flat_inputs()}
        values = self.settings()
        for key, value in current.items():
            widget = session.settings_inputs.get(key)
            if widget is not None:
                # A value the new widget no longer offers keeps the widget's initial one.
                with contextlib.suppress(ValueError):
                    values[key] = widget.validate(value)
        inputs = [i.to_dict(values) for i in self.inputs]
        session.emitter.emit(outbound.settings(inputs))
        return values

    def flat_inputs(self) -> list[InputWidget]:
        """Every input, those inside `Tab`s included."""
        return [w for i in self.inputs for w in i.flat()]


@dataclass
class Starter:
    """A suggested first message shown on an empty chat."""

    label: str
    message: str
    command: str | None = None
    icon: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The starter as sent in `welcome`."""
        return asdict(self)


@dataclass
class StarterCategory:
    """Starters grouped under a label on the empty chat (`@cl.set_starter_categories`)."""

    label: str
    icon: str | None = None
    starters: list[Starter] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The category as sent in `welcome`, with its starters."""
        return {"label": self.label, "icon": self.icon,
                "starters": [s.to_dict() for s in self.starters]}


@dataclass
class ChatProfile:
    """A choosable assistant persona; the chosen name is in user_session 'chat_profile'."""

    name: str
    markdown_description: str = ""
    icon: str | None = None
    display_name: str | None = None
    default: bool = False
    starters: list[Starter] | None = None
    # Config keys this profile changes for its chats, e.g. {"features": {"edit_message":
    # False}} (checked like nbchat.yaml).
    config_overrides: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The profile as sent in `welcome`, with its starters (overrides stay here)."""
        return {"name": self.name, "display_name": self.display_name,
                "markdown_description": self.markdown_description, "icon": self.icon,
                "default": self.default,
                "starters": [s.to_dict() for s in self.starters or []]}


@dataclass
class ModeOption:
    """One choice of a composer mode picker."""

    id: str
    name: str
    description: str | None = None
    icon: str | None = None
    default: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The option as sent in the `modes` event."""
        return asdict(self)


@dataclass
class Mode:
    """A picker in the composer (a model, an approach…): the user picks one option; the
    choice arrives with each message in `message.modes[mode.id]`."""

    id: str
    name: str
    options: list[ModeOption] = field(default_factory=list)

    def get_default_option(self) -> ModeOption | None:
        """The option marked default, else the first; None when there is none."""
        return next((o for o in self.options if o.default),
                    self.options[0] if self.options else None)

    def get_option_by_id(self, option_id: str) -> ModeOption | None:
        """The option with this id, or None."""
        return next((o for o in self.options if o.id == option_id), None)

    def to_dict(self) -> dict[str, Any]:
        """The mode as sent in the `modes` event."""
        return {"id": self.id, "name": self.name,
                "options": [o.to_dict() for o in self.options]}


async def set_commands(commands: list[dict[str, Any]]) -> None:
    """Offer composer commands: dicts with `id`, `description`, optional `icon`, `button`."""
    await context.emitter.set_commands(commands)


async def set_modes(modes: list[Mode]) -> None:
    """Show these mode pickers in the composer (replacing any); an empty list hides them."""
    await context.emitter.set_modes(modes)


def chosen_modes(session: Any, chosen: dict[str, str] | None) -> dict[str, str] | None:
    """The modes of a user message: what the client chose, checked against the pickers
    shown, with each picker's default for the ones it left out. ValueError if it names an
    unknown mode or option."""
    if not session.modes:
        if chosen:
            raise ValueError("no mode pickers are shown, but the message names modes")
        return None
    chosen = dict(chosen or {})
    result: dict[str, str] = {}
    by_id = {m.id: m for m in session.modes}
    for mode_id, option_id in chosen.items():
        mode = by_id.get(mode_id)
        if mode is None or mode.get_option_by_id(option_id) is None:
            raise ValueError(f"no mode option {mode_id!r}={option_id!r}")
        result[mode_id] = option_id
    for mode in session.modes:
        default = mode.get_default_option()
        if mode.id not in result and default is not None:
            result[mode.id] = default.id
    return result
