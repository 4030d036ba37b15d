"""The last known state of a session's chat, kept by applying its own outbound events.

It answers a client whose missed events fell out of the replay buffer (a `snapshot`), and
lets the runtime check what a client refers to (a step to edit or rate) without asking it.
"""

from __future__ import annotations

from typing import Any, cast

from nbchat.protocol.server_events import (
    ActionDict,
    AskEvent,
    SettingsEvent,
    SidebarDict,
    Snapshot,
)
from nbchat.types import ElementDict, StepDict


class SessionState:
    def __init__(self) -> None:
        self.steps: dict[str, StepDict] = {}
        self.elements: dict[str, dict[str, Any]] = {}
        self.actions: dict[str, dict[str, Any]] = {}
        self.ask: dict[str, Any] | None = None
        self.settings: dict[str, Any] | None = None
        self.sidebar: SidebarDict | None = None
        self.running = 0

    def apply(self, batch: list[dict[str, Any]]) -> None:
        for event in batch:
            kind = event["type"]
            if kind == "token":
                step = self.steps.get(event["id"])
                if step is not None:
                    step["output"] = (
                        event["delta"] if event.get("replace") else step["output"] + event["delta"]
                    )
            elif kind == "step":
                # A copy: the event itself stays as sent in the replay buffer.
                self.steps[event["step"]["id"]] = dict(event["step"])  # type: ignore[assignment]
            elif kind == "step_delete":
                self.steps.pop(event["id"], None)
            elif kind == "element":
                self.elements[event["element"]["id"]] = event["element"]
            elif kind == "element_delete":
                self.elements.pop(event["id"], None)
            elif kind == "action":
                self.actions[event["action"]["id"]] = event["action"]
            elif kind == "action_delete":
                self.actions.pop(event["id"], None)
            elif kind == "ask":
                self.ask = event
            elif kind == "ask_cancel":
                if self.ask is not None and self.ask["askId"] == event["askId"]:
                    self.ask = None
            elif kind == "settings":
                self.settings = event
            elif kind == "feedback":
                step = self.steps.get(event["stepId"])
                if step is not None:
                    step["feedback"] = event["feedback"]
            elif kind == "sidebar":
                self.sidebar = next_sidebar(self.sidebar, event)
            elif kind == "snapshot":
                self._load(event)
            elif kind == "task_start":
                self.running += 1
            elif kind == "task_end":
                self.running = max(0, self.running - 1)

    def _load(self, snapshot: dict[str, Any]) -> None:
        self.steps = {s["id"]: dict(s) for s in snapshot["steps"]}  # type: ignore[misc]
        self.elements = {e["id"]: e for e in snapshot["elements"]}
        self.actions = {a["id"]: a for a in snapshot["actions"]}
        self.ask = snapshot["ask"]
        self.settings = snapshot["settings"]
        self.sidebar = snapshot.get("sidebar")
        self.running = 1 if snapshot["running"] else 0

    def snapshot(self) -> Snapshot:
        # The mirror keeps what the emitter flushed, which it read as plain dicts; these
        # were built as the TypedDicts named here.
        return {
            "type": "snapshot",
            "seq": 0,
            "steps": list(self.steps.values()),
            "elements": cast("list[ElementDict]", list(self.elements.values())),
            "actions": cast("list[ActionDict]", list(self.actions.values())),
            "ask": cast("AskEvent | None", self.ask),
            "settings": cast("SettingsEvent | None", self.settings),
            "running": self.running > 0,
            "sidebar": self.sidebar,
        }

    def confirm_settings(self, values: dict[str, Any]) -> None:
        """The user saved these settings (no event of ours says so): the panel a reload
        or reconnect shows starts from them, not from the values first sent."""
        if self.settings is not None:
            self.settings = {**self.settings,
                             "inputs": _with_initial(self.settings["inputs"], values)}

    def steps_after(self, step_id: str) -> list[str]:
        """Ids of the steps created after `step_id`, in creation order."""
        ids = list(self.steps)
        return ids[ids.index(step_id) + 1:] if step_id in self.steps else []


def next_sidebar(shown: SidebarDict | None, event: dict[str, Any]) -> SidebarDict | None:
    """The sidebar after a `sidebar` event (js/src/store/reducer.ts applies the same rules):
    a title opens it; an empty element list closes it; elements replace the shown ones
    unless the open sidebar has the same non-null key."""
    title = event.get("title", shown["title"] if shown else "")
    if "elements" not in event:
        return {"title": title, "elements": shown["elements"] if shown else [],
                "key": shown["key"] if shown else None}
    if not event["elements"]:
        return None
    key = event.get("key")
    if shown is not None and key is not None and shown["key"] == key:
        return {**shown, "title": title}
    return {"title": title, "elements": event["elements"], "key": key}


def _with_initial(inputs: list[dict[str, Any]], values: dict[str, Any]) -> list[dict[str, Any]]:
    """`inputs` (a tab's too) with the saved `values` as their initial values."""
    return [{**i, "inputs": _with_initial(i["inputs"], values)} if i.get("type") == "tab"
            else {**i, "initial": values[i["id"]]} if i.get("id") in values else i
            for i in inputs]
