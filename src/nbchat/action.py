"""Action buttons. A click sends only the action's id: the payload stays on the server,
so a client cannot invent one."""

from __future__ import annotations

from typing import Any

from nbchat.ids import new_id
from nbchat.protocol import outbound
from nbchat.protocol.server_events import ActionDict
from nbchat.runtime.context import get_session

# The message's metadata key for the clicks its actions got, in order ({name, payload}),
# stored with the thread so nbchat.replay can click them again.
CLICKS_KEY = "nbchatClicks"


class Action:
    """A button shown under a message (or globally); a click runs `@cl.action_callback(name)`."""

    def __init__(
        self,
        name: str,
        payload: dict[str, Any] | None = None,
        label: str = "",
        tooltip: str = "",
        icon: str | None = None,
        for_id: str | None = None,
        id: str | None = None,
    ) -> None:
        if payload is not None and not isinstance(payload, dict):
            raise TypeError(f"Action payload must be a dict, got {type(payload).__name__}")
        self.name = name
        self.payload = payload or {}
        self.label = label or name
        self.tooltip = tooltip
        self.icon = icon
        self.for_id = for_id
        self.id = id or new_id()
        self.sent = False

    def to_dict(self) -> ActionDict:
        """The action as sent in the `action` event."""
        return {"id": self.id, "name": self.name, "forId": self.for_id,
                "payload": self.payload, "label": self.label, "tooltip": self.tooltip,
                "icon": self.icon}

    async def send(self, for_id: str | None = None) -> Action:
        """Show the action (under step `for_id` when given); returns the action."""
        if for_id is not None:
            self.for_id = for_id
        session = get_session("Action.send")
        session.actions[self.id] = self
        session.emitter.emit(outbound.action(self.to_dict()))
        self.sent = True
        return self

    async def remove(self) -> None:
        """Take the action's button away."""
        session = get_session("Action.remove")
        if session.actions.pop(self.id, None) is not None:
            session.emitter.emit(outbound.action_delete(self.id))
