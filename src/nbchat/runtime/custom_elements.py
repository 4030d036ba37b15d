"""What a custom element's code may ask of its chat (docs/api.md, "Custom elements"):

    updateElement(props)        → element_update  the element's props change; it is sent again
    callAction({name, payload}) → call_action     runs @cl.action_callback(name); the reply is
                                                  call_action_result with the same callId

(`sendUserMessage(text)` is an ordinary `user_message`.) The element's code runs in the
browser, so what it sends is user input: a `call_action` payload comes from the browser,
unlike an action button's click, which names an action the server made. That is Chainlit's
rule for custom elements; nbchat takes such calls only while the chat shows one.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from nbchat.action import Action
from nbchat.element import CustomElement
from nbchat.errors import ProtocolError
from nbchat.protocol import outbound
from nbchat.protocol.client_events import CallAction, ElementUpdate
from nbchat.runtime.callbacks import run_callback

if TYPE_CHECKING:
    from nbchat.runtime.session import ChatSession


def _custom_element(session: ChatSession, element_id: str) -> CustomElement | None:
    """The custom element shown with this id: one the app made in this session, or one
    of the resumed thread (stored, so shown, but never a Python object here: made now)."""
    element = session.elements.get(element_id)
    if element is not None:
        return element if isinstance(element, CustomElement) else None
    shown = session.state.elements.get(element_id)
    if shown is None or shown.get("type") != "custom":
        return None
    restored = CustomElement(name=shown["name"], props=shown.get("props") or {},
                             display=shown["display"], for_id=shown.get("forId"),
                             id=element_id, thread_id=shown.get("threadId"))
    restored.sent = True
    session.elements[element_id] = restored
    return restored


async def element_update(session: ChatSession, event: ElementUpdate, _: list[bytes]) -> None:
    element = _custom_element(session, event["id"])
    if element is None:
        raise ProtocolError(f"no custom element with id {event['id']!r} in this chat",
                            code="unknown_element")
    element.props = event["props"]
    await element.update()


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


async def call_action(session: ChatSession, event: CallAction, _: list[bytes]) -> None:
    call_id, name = event["callId"], event["name"]
    func = session.app.actions.get(name)
    problem = None
    if not any(isinstance(e, CustomElement) for e in session.elements.values()):
        problem = "callAction comes from a custom element, and this chat shows none"
    elif func is None:
        problem = f"no @cl.action_callback({name!r}) is registered"
    if problem is not None:
        session.emit(outbound.call_action_result(call_id, error=problem))
        return
    action = Action(name=name, payload=event.get("payload") or {})

    async def run() -> None:
        result = await run_callback(session, f"action_callback({name!r})", action, func=func)
        session.emit(outbound.call_action_result(call_id, response=_json_safe(result)))

    session.spawn(run())
