"""Inbound events: decoded and validated, then dispatched to the app's callbacks.

Handlers return quickly: callbacks run as session tasks, so a slow `on_message` never
blocks the connection. Bad input becomes an `error` event and changes nothing else.
"""

from __future__ import annotations

import asyncio
import logging
import typing
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from nbchat.action import CLICKS_KEY
from nbchat.chat_settings import chosen_modes
from nbchat.element import File
from nbchat.errors import ProtocolError
from nbchat.ids import new_id
from nbchat.message import Message
from nbchat.protocol import decode_client, outbound
from nbchat.protocol.client_events import (
    ActionClick,
    AskResponse,
    ClientEvent,
    EditMessage,
    Feedback,
    FeedbackDelete,
    Fork,
    McpConnect,
    McpDisconnect,
    SettingsEdit,
    SettingsUpdate,
    Stop,
    UploadCancel,
    UploadChunk,
    UploadEnd,
    UploadStart,
    UserEnv,
    UserMessage,
)
from nbchat.runtime import window
from nbchat.runtime.callbacks import run_callback, serialized
from nbchat.runtime.context import current_session
from nbchat.runtime.custom_elements import call_action, element_update
from nbchat.runtime.handshake import hello, user_env
from nbchat.types import MESSAGE_STEP_TYPES, FeedbackDict, User
from nbchat.uploads.files import UploadedFile, UploadLimits, UploadRejected
from nbchat.workbench.fork import fork_thread

if TYPE_CHECKING:
    # The session imports this module to dispatch its events; this one only names it.
    from nbchat.action import Action
    from nbchat.ask import PendingAsk
    from nbchat.runtime.session import ChatSession

log = logging.getLogger("nbchat")


async def handle(session: ChatSession, frame: str | bytes | dict[str, Any],
                 buffers: list[bytes]) -> None:
    """Decode and handle one client event as it came on the wire."""
    await _guarded(session, lambda: decode_client(frame, session.config.runtime.max_event_bytes),
                   buffers)


async def handle_event(session: ChatSession, event: ClientEvent, buffers: list[bytes]) -> None:
    """Handle one client event the protocol decoded already (a connection's first hello,
    decoded to find its session: runtime/hosting.py)."""
    await _guarded(session, lambda: event, buffers)


async def _guarded(session: ChatSession, decode: Callable[[], ClientEvent],
                   buffers: list[bytes]) -> None:
    """Whatever goes wrong becomes an `error` event for it: an exception escaping here
    would make tornado drop the connection (and the next event of a reconnect could do it
    again), so none does."""
    token = current_session.set(session)
    kind = "event"
    try:
        try:
            event = decode()
            kind = event["type"]
            if kind != "hello" and not session.started:
                raise ProtocolError("send hello first", code="not_started")
            await _dispatch(session, event, buffers)
        except ProtocolError as exc:
            session.error(exc.code, str(exc))
        except UploadRejected as exc:
            session.error("upload_rejected", str(exc))
        except Exception as exc:
            log.exception("nbchat: handling a %s event failed", kind)
            session.error("internal_error", f"the server failed to handle this {kind} "
                          f"event ({type(exc).__name__}); the details are in the server log")
    finally:
        current_session.reset(token)


# ---------------------------------------------------------------------------- handlers


def _author(user: User | None) -> str:
    if user is None:
        return "User"
    return user.display_name or user.identifier


def _text_ask(session: ChatSession) -> PendingAsk | None:
    return next((a for a in reversed(session.asks.values()) if a.kind == "text"), None)


async def _user_message(session: ChatSession, event: UserMessage, _: list[bytes]) -> None:
    files: list[UploadedFile] = []
    if event.get("fileIds"):
        files = session.files.take(event["fileIds"], _spontaneous_limits(session))
    command = event.get("command")
    if command is not None and command not in {c["id"] for c in session.commands}:
        raise ProtocolError(f"unknown command {command!r}", code="unknown_command")
    ask = _text_ask(session)
    if ask is None and session.asks:
        raise ProtocolError("the app is waiting for a choice or a file, not a message",
                            code="ask_pending")
    try:
        modes = chosen_modes(session, event.get("modes"))
    except ValueError as exc:
        raise ProtocolError(str(exc), code="unknown_mode") from None
    msg = Message(content=event["content"], author=_author(session.user), type="user_message",
                  command=command, modes=modes)
    msg.client_id = event.get("clientId")
    msg.elements = [File.from_upload(f) for f in files]
    await msg.send()
    if ask is not None:
        session.answer_ask(ask, msg.to_dict())
        return
    if session.recorder is not None:
        session.emitter.flush()
        try:
            await session.recorder.before_message(msg.to_dict())
        except Exception as exc:  # not stored: say so, take the echo back, run nothing
            log.error("nbchat: a user message was not stored: %s", exc)
            session.recorder.muted = True  # nothing was stored, so nothing to delete
            try:
                session.emit(outbound.step_delete(msg.id))
                session.emitter.flush()
            finally:
                session.recorder.muted = False
            session.error("store_unavailable", "Your message was not stored: the chat's "
                          f"database is unavailable ({exc}). Send it again in a moment.")
            return
    session.spawn(serialized(session, "on_message", msg))


async def _edit_message(session: ChatSession, event: EditMessage, _: list[bytes]) -> None:
    if not session.config.features.edit_message:
        raise ProtocolError("editing messages is turned off (features.edit_message)",
                            code="forbidden")
    step = session.state.steps.get(event["id"])
    if step is None or step["type"] != "user_message":
        raise ProtocolError(f"no user message with id {event['id']!r}", code="unknown_step")
    await cancel_tasks(session)
    for later in session.state.steps_after(step["id"]):
        session.emit(outbound.step_delete(later))
    # The conversation restarts at the edited message: cl.chat_context forgets it and after.
    ids = list(session.chat_context)
    if step["id"] in ids:
        for later in ids[ids.index(step["id"]):]:
            del session.chat_context[later]
    msg = Message(content=event["content"], author=step["name"], type="user_message",
                  id=step["id"], created_at=step["createdAt"])
    await msg.send()
    session.spawn(serialized(session, "on_message", msg))


async def _action(session: ChatSession, event: ActionClick, _: list[bytes]) -> None:
    action = session.actions.get(event["id"])
    if action is None:
        raise ProtocolError(f"no action with id {event['id']!r}", code="unknown_action")
    for ask in session.asks.values():
        if action.id in ask.actions:
            session.answer_ask(ask, action.to_dict())
            return
    func = session.app.actions.get(action.name)
    if func is None:
        raise ProtocolError(f"no @cl.action_callback({action.name!r}) is registered",
                            code="no_callback")
    _record_click(session, action)
    session.spawn(run_callback(session, f"action_callback({action.name!r})", action,
                               func=func))


def _record_click(session: ChatSession, action: Action) -> None:
    """Note the click on the message the action belongs to (stored with the thread, so
    nbchat.replay can click it again)."""
    message = session.chat_context.get(action.for_id or "")
    if message is not None:
        clicks = [*message.metadata.get(CLICKS_KEY, []),
                  {"name": action.name, "payload": action.payload}]
        message.metadata = {**message.metadata, CLICKS_KEY: clicks}
        session.step_changed(message)


async def _ask_response(session: ChatSession, event: AskResponse, _: list[bytes]) -> None:
    ask = session.asks.get(event["askId"])
    if ask is None or ask.future.done():
        raise ProtocolError(f"no pending ask with id {event['askId']!r}", code="unknown_ask")
    if ask.kind == "action":
        action = ask.actions.get(event.get("actionId", ""))
        if action is None:
            raise ProtocolError("ask_response for an action ask needs the actionId of one "
                                "of its actions", code="bad_answer")
        session.answer_ask(ask, action.to_dict())
    elif ask.kind == "file":
        if "fileIds" not in event or ask.limits is None:
            raise ProtocolError("ask_response for a file ask needs fileIds", code="bad_answer")
        session.answer_ask(ask, session.files.take(event["fileIds"], ask.limits))
    elif ask.kind == "element":
        if "values" not in event:
            raise ProtocolError("ask_response for an element ask needs values",
                                code="bad_answer")
        session.answer_ask(ask, event["values"])
    else:
        raise ProtocolError("answer a text ask with a user_message", code="bad_answer")


async def cancel_tasks(session: ChatSession) -> None:
    """Cancel the session's running callbacks and wait until they have unwound."""
    running = [t for t in session.tasks if not t.done()]
    for task in running:
        task.cancel()
    if running:
        await asyncio.gather(*running, return_exceptions=True)


async def _stop(session: ChatSession, _event: Stop, _: list[bytes]) -> None:
    # As Chainlit: the message first (on every Stop), then the cancellation. The message
    # is sent whole here, outside any task, so closing the cancelled steps leaves it be.
    if session.config.ui.stop_message:
        await Message(content=session.config.ui.stop_message).send()
    await cancel_tasks(session)
    session.spawn(run_callback(session, "on_stop"))


def _validated_settings(session: ChatSession, settings: dict[str, Any]) -> dict[str, Any]:
    values = dict(session.chat_settings)
    for key, value in settings.items():
        widget = session.settings_inputs.get(key)
        if widget is None:
            raise ProtocolError(f"unknown setting {key!r}", code="unknown_setting")
        try:
            values[key] = widget.validate(value)
        except ValueError as exc:
            raise ProtocolError(str(exc), code="bad_setting") from None
    return values


async def _settings_update(session: ChatSession, event: SettingsUpdate, _: list[bytes]) -> None:
    values = _validated_settings(session, event["settings"])
    session.chat_settings = values
    session.settings_draft = {}
    session.state.confirm_settings(values)
    if session.recorder is not None:
        session.recorder.settings_changed()
    session.spawn(run_callback(session, "on_settings_update", dict(values)))


async def _user_env_event(session: ChatSession, event: UserEnv, _: list[bytes]) -> None:
    user_env(session, {**session.user_env, **event["env"]})


async def _settings_edit(session: ChatSession, event: SettingsEdit, _: list[bytes]) -> None:
    # Chainlit's on_settings_edit: the form as being edited, before Confirm. Nothing is
    # stored; ChatSettings.refresh() redraws the form keeping these values.
    values = _validated_settings(session, event["settings"])
    draft = {k: values[k] for k in event["settings"]}
    session.spawn(_edited(session, draft, values))


async def _edited(session: ChatSession, draft: dict[str, Any], values: dict[str, Any]) -> None:
    # The draft lives while on_settings_edit runs: each edit event carries the whole form,
    # and a form the user cancelled must not come back in a later send().
    session.settings_draft = draft
    try:
        await run_callback(session, "on_settings_edit", values)
    finally:
        if session.settings_draft is draft:
            session.settings_draft = {}


def _rated_step(session: ChatSession, step_id: str) -> None:
    step = session.state.steps.get(step_id)
    if step is None or step["type"] == "user_message":
        raise ProtocolError(f"no assistant message or step with id {step_id!r}",
                            code="unknown_step")


async def _feedback(session: ChatSession, event: Feedback, _: list[bytes]) -> None:
    _rated_step(session, event["stepId"])
    comment = event.get("comment")
    if comment is not None and len(comment) > 10_000:
        raise ProtocolError("feedback comment is longer than 10,000 characters")
    previous = session.feedback.get(event["stepId"])
    feedback: FeedbackDict = {"id": previous["id"] if previous else new_id(),
                              "forId": event["stepId"], "value": event["value"],
                              "comment": comment, "threadId": session.thread_id}
    session.feedback[event["stepId"]] = feedback
    session.emit(outbound.feedback(event["stepId"], feedback))
    session.spawn(run_callback(session, "on_feedback", _feedback_arg(feedback)))


def _feedback_arg(feedback: FeedbackDict) -> Any:
    """What `@cl.on_feedback` gets: a `Feedback` with Chainlit's attribute names (forId,
    value, comment, id, threadId)."""
    import nbchat.types

    # nbchat.types.Feedback (the dataclass) comes with the data layer plug-in work; until
    # it lands, an object with the same attributes.
    cls = getattr(nbchat.types, "Feedback", None)
    if cls is not None:
        return cls(**feedback)
    return SimpleNamespace(**feedback)


async def _feedback_delete(session: ChatSession, event: FeedbackDelete, _: list[bytes]) -> None:
    _rated_step(session, event["stepId"])
    if session.feedback.pop(event["stepId"], None) is not None:
        session.emit(outbound.feedback(event["stepId"], None))


async def _fork(session: ChatSession, event: Fork, _: list[bytes]) -> None:
    recorder = session.recorder
    if recorder is None:
        raise ProtocolError("this chat is not stored, so it cannot be forked "
                            "(data.enabled is off)", code="no_persistence")
    step = session.state.steps.get(event["stepId"])
    if step is None or step["type"] not in MESSAGE_STEP_TYPES:
        raise ProtocolError(f"no message with id {event['stepId']!r} to fork at",
                            code="unknown_step")
    if not recorder.thread_created:
        raise ProtocolError("nothing of this chat is stored yet: send a message first",
                            code="unknown_step")
    await recorder.written()
    owner = await recorder.data.get_user(recorder.user.identifier)
    fork_id = await fork_thread(recorder.data, session.thread_id, step["id"],
                                user_id=owner.id if owner is not None else None)
    session.emit(outbound.forked(fork_id, session.thread_id, step["id"]))


def _spontaneous_limits(session: ChatSession) -> UploadLimits:
    """The limits of files sent with a message, or `forbidden` when that is turned off."""
    upload = session.config.features.spontaneous_file_upload
    if not upload.enabled:
        raise ProtocolError("no file was asked for, and files sent with messages are turned "
                            "off (features.spontaneous_file_upload.enabled)", code="forbidden")
    return UploadLimits.from_config(upload)


def _upload_limits(session: ChatSession) -> UploadLimits:
    """A pending file ask's limits, else those of files sent with a message."""
    file_ask = next((a for a in session.asks.values() if a.kind == "file"), None)
    if file_ask is not None and file_ask.limits is not None:
        return file_ask.limits
    return _spontaneous_limits(session)


async def _upload_start(session: ChatSession, event: UploadStart, _: list[bytes]) -> None:
    ticket = session.files.begin(event["uploadId"], event["name"], event["mime"],
                                 event["size"], _upload_limits(session),
                                 over_http=event.get("via") == "http", owner=session.user)
    if ticket is not None:
        session.emit(outbound.upload_ticket(event["uploadId"], ticket))


async def _upload_chunk(session: ChatSession, event: UploadChunk, buffers: list[bytes]) -> None:
    if not buffers:
        raise ProtocolError("upload_chunk carries its bytes as binary buffers; none came")
    for buffer in buffers:
        session.files.write(event["uploadId"], bytes(buffer))


async def _upload_end(session: ChatSession, event: UploadEnd, _: list[bytes]) -> None:
    file = session.files.finish(event["uploadId"])
    session.emit(outbound.upload_done(event["uploadId"], file.id))


async def _upload_cancel(session: ChatSession, event: UploadCancel, _: list[bytes]) -> None:
    session.files.abort(event["uploadId"])


def _mcp_chat() -> Any:
    try:
        from nbchat.integrations import mcp_chat
    except ImportError as exc:
        raise ProtocolError(f"MCP servers need the mcp package ({exc}): pip install "
                            "'nbchat[mcp]'", code="mcp_unavailable") from None
    return mcp_chat


async def _mcp_connect(session: ChatSession, event: McpConnect, _: list[bytes]) -> None:
    _mcp_chat().user_connect(session, event)


async def _mcp_disconnect(session: ChatSession, event: McpDisconnect,
                          _: list[bytes]) -> None:
    if event["name"] not in session.mcp_sessions:
        raise ProtocolError(f"this chat has no MCP server named {event['name']!r}",
                            code="unknown_mcp")
    session.spawn(_mcp_chat().disconnect(session, event["name"]))


async def _dispatch(session: ChatSession, event: ClientEvent, buffers: list[bytes]) -> None:
    """The handler of the event's type, given the event as its TypedDict (mypy narrows the
    union on `type`). The most frequent first: a message, an upload's chunks, a hello."""
    if event["type"] == "user_message":
        await _user_message(session, event, buffers)
    elif event["type"] == "upload_chunk":
        await _upload_chunk(session, event, buffers)
    elif event["type"] == "hello":
        await hello(session, event, buffers)
    elif event["type"] == "stop":
        await _stop(session, event, buffers)
    elif event["type"] == "action":
        await _action(session, event, buffers)
    elif event["type"] == "element_update":
        await element_update(session, event, buffers)
    elif event["type"] == "call_action":
        await call_action(session, event, buffers)
    elif event["type"] == "ask_response":
        await _ask_response(session, event, buffers)
    elif event["type"] == "edit_message":
        await _edit_message(session, event, buffers)
    elif event["type"] == "settings_update":
        await _settings_update(session, event, buffers)
    elif event["type"] == "settings_edit":
        await _settings_edit(session, event, buffers)
    elif event["type"] == "user_env":
        await _user_env_event(session, event, buffers)
    elif event["type"] == "feedback":
        await _feedback(session, event, buffers)
    elif event["type"] == "feedback_delete":
        await _feedback_delete(session, event, buffers)
    elif event["type"] == "fork":
        await _fork(session, event, buffers)
    elif event["type"] == "upload_start":
        await _upload_start(session, event, buffers)
    elif event["type"] == "upload_end":
        await _upload_end(session, event, buffers)
    elif event["type"] == "upload_cancel":
        await _upload_cancel(session, event, buffers)
    elif event["type"] == "window_message":
        await window.window_message(session, event, buffers)
    elif event["type"] == "call_fn_result":
        await window.call_fn_result(session, event, buffers)
    elif event["type"] == "mcp_connect":
        await _mcp_connect(session, event, buffers)
    elif event["type"] == "mcp_disconnect":
        await _mcp_disconnect(session, event, buffers)
    else:  # the decoder knows only these: a new event type needs its branch here
        typing.assert_never(event)


async def end_session(session: ChatSession) -> None:
    """Cancel what runs and call on_chat_end (part of ChatSession.close)."""
    await cancel_tasks(session)
    token = current_session.set(session)
    try:
        if session.started and session.app.get("on_chat_end") is not None:
            await run_callback(session, "on_chat_end")
        if session.mcp_sessions:
            await _mcp_chat().close_all(session)
    finally:
        current_session.reset(token)
