"""Inbound events: decoded and validated, then dispatched to the app's callbacks.

Handlers return quickly: callbacks run as session tasks, so a slow `on_message` never
blocks the connection. Bad input becomes an `error` event and changes nothing else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from nbchat import callback_errors
from nbchat.app import call_user
from nbchat.chat_settings import ChatProfile, Starter
from nbchat.context import current_session
from nbchat.data import InvalidDataError
from nbchat.element import File
from nbchat.errors import ProtocolError
from nbchat.files import UploadedFile, UploadLimits, UploadRejected
from nbchat.ids import new_id, utc_now
from nbchat.message import Message
from nbchat.protocol import PROTOCOL_VERSION, decode_client
from nbchat.session import ChatSession
from nbchat.types import FeedbackDict, User
from nbchat.user_session import BUILTIN_KEYS

log = logging.getLogger("nbchat")
Handler = Callable[[ChatSession, Any, list[bytes]], Awaitable[None]]


async def handle(session: ChatSession, frame: str | bytes | dict[str, Any],
                 buffers: list[bytes]) -> None:
    """Handle one client event. Whatever goes wrong becomes an `error` event for it: an
    exception escaping here would make tornado drop the connection (and the next event
    of a reconnect could do it again), so none does."""
    token = current_session.set(session)
    kind = "event"
    try:
        try:
            event = decode_client(frame, session.config.runtime.max_event_bytes)
            kind = event["type"]
            if kind != "hello" and not session.started:
                raise ProtocolError("send hello first", code="not_started")
            await _HANDLERS[kind](session, event, buffers)
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


# ---------------------------------------------------------------------------- callbacks


async def run_callback(session: ChatSession, hook: str, *args: Any,
                       func: Callable[..., Any] | None = None) -> Any:
    """Run an app callback inside the session: errors become a chat message, and steps
    left open by a stop are closed as cancelled. Cancellation is re-raised."""
    func = func or session.app.get(hook)
    if func is None:
        return None
    session.emit({"type": "task_start"})
    try:
        return await call_user(func, *args)
    except asyncio.CancelledError:
        _close_open_steps(session)
        raise
    except Exception as exc:
        log.exception("nbchat: %s raised", hook)
        await callback_errors.report(session, hook, exc)
        return None
    finally:
        session.emit({"type": "task_end"})


def _close_open_steps(session: ChatSession) -> None:
    for step in list(session.open_steps.values()):
        step.cancelled = True
        step.streaming = False
        step.end = utc_now()
        session.step_changed(step)
    session.open_steps.clear()


async def _serialized(session: ChatSession, hook: str, *args: Any) -> None:
    async with session.message_lock:
        await run_callback(session, hook, *args)


# ---------------------------------------------------------------------------- handlers


async def _profiles(session: ChatSession) -> list[ChatProfile]:
    func = session.app.get("set_chat_profiles")
    profiles = await call_user(func, session.user) if func else None
    return list(profiles or [])


async def _starters(session: ChatSession, profile: ChatProfile | None) -> list[Starter]:
    if profile is not None and profile.starters:
        return list(profile.starters)
    func = session.app.get("set_starters")
    starters = await call_user(func, session.user) if func else None
    return list(starters or [])


def _welcome(session: ChatSession, profiles: list[ChatProfile],
             starters: list[Starter]) -> dict[str, Any]:
    return {"type": "welcome", "protocolVersion": PROTOCOL_VERSION, "sessionId": session.id,
            "threadId": session.thread_id,
            "user": _public_user(session.user),
            "config": session.config.to_client(),
            "chatProfiles": [p.to_dict() for p in profiles],
            "chatProfile": session.chat_profile,
            "starters": [s.to_dict() for s in starters], "commands": session.commands,
            "httpUploads": session.files.tickets is not None}


def _public_user(user: User | None) -> dict[str, Any] | None:
    """What the browser is told of the user: its metadata (OAuth tokens, roles an auth
    callback put there) stays on the server."""
    if user is None:
        return None
    return {"identifier": user.identifier, "display_name": user.display_name}


async def _hello(session: ChatSession, event: Any, _: list[bytes]) -> None:
    if event["protocolVersion"] != PROTOCOL_VERSION:
        raise ProtocolError(
            f"protocol version {event['protocolVersion']} is not supported; this server "
            f"speaks version {PROTOCOL_VERSION}. Reload the page or update nbchat.",
            code="unsupported_version")
    wanted = event.get("chatProfile")
    if session.started and wanted is not None and wanted != session.chat_profile:
        # The page's profile picker: a new chat under that profile (Chainlit starts a new
        # session), not a reconnect to the old one. An unknown name changes nothing.
        if wanted in {p.name for p in await _profiles(session)}:
            await session.new_chat()
        else:
            session.error("unknown_profile", f"no chat profile named {wanted!r}")
    if not session.started:
        profiles = await _profiles(session)
        names = [p.name for p in profiles]
        if wanted is not None and wanted not in names:
            session.error("unknown_profile", f"no chat profile named {wanted!r}; "
                          f"available: {', '.join(names) or 'none'}")
            wanted = None
        default = next((p.name for p in profiles if p.default), names[0] if names else None)
        session.chat_profile = wanted or default
        chosen = next((p for p in profiles if p.name == session.chat_profile), None)
        session.started = True
        session.emit(_welcome(session, profiles, await _starters(session, chosen)))
        if "resumeThreadId" in event and await _resume(session, event["resumeThreadId"],
                                                       profiles):
            return
        session.spawn(run_callback(session, "on_chat_start"))
        return
    # A reconnecting or newly rendered client: replay what it missed, or a snapshot.
    if "lastSeq" in event:
        missed = session.emitter.missed_since(event["lastSeq"])
        if missed is not None:
            session.emitter.send_direct(missed)
            return
    profiles = await _profiles(session)
    chosen = next((p for p in profiles if p.name == session.chat_profile), None)
    session.emit(_welcome(session, profiles, await _starters(session, chosen)))
    session.emit(session.state.snapshot())


async def _resume(session: ChatSession, thread_id: str, profiles: list[ChatProfile]) -> bool:
    """Show a stored thread and run on_chat_resume; False (and an error) if it cannot.
    `profiles` are what the app offers this user now (see `_resumed_profile`)."""
    if session.recorder is None:
        session.error("no_persistence", "resuming a stored thread needs persistence, "
                      "which is turned off here (data.enabled)")
        return False
    try:
        thread = await session.recorder.load(thread_id)
    except InvalidDataError:  # not an id at all: as unknown as one that is not stored
        thread = None
    if thread is None:
        session.error("unknown_thread", f"no thread {thread_id!r}; a new chat was started")
        return False
    session.thread_id = thread["id"]
    metadata = thread.get("metadata") or {}
    session.chat_settings = dict(metadata.get("chat_settings") or {})
    # The app's user_session values stored with the chat, back before on_chat_resume.
    session.user_data.update({k: v for k, v in metadata.items() if k not in BUILTIN_KEYS})
    session.chat_profile = _resumed_profile(session, metadata.get("chat_profile"), profiles)
    for step in thread["steps"]:
        feedback = step.get("feedback")
        if feedback:
            session.feedback[step["id"]] = feedback
        session.emit({"type": "step", "step": step})
    for element in thread.get("elements") or []:
        session.emit({"type": "element", "element": element})
    # The stored history goes to the client only, not back to the store.
    session.recorder.muted = True
    try:
        session.emitter.flush()
    finally:
        session.recorder.muted = False
    session.emit({"type": "thread", "id": thread["id"], "name": thread.get("name")})
    session.spawn(run_callback(session, "on_chat_resume", thread))
    return True


def _resumed_profile(session: ChatSession, stored: Any, profiles: list[ChatProfile]) -> str | None:
    """The thread's stored profile if the app still offers it to this user; else the
    profile the session started with (the default), and the user is told."""
    if not stored or stored == session.chat_profile:
        return session.chat_profile
    if stored in {p.name for p in profiles}:
        return str(stored)
    now = f"{session.chat_profile!r}" if session.chat_profile else "no profile"
    session.emit({"type": "notice", "level": "warning",
                  "message": f"this chat used the profile {str(stored)[:100]!r}, which is no "
                             f"longer offered to you; it continues with {now}"})
    return session.chat_profile


def _author(user: User | None) -> str:
    if user is None:
        return "User"
    return user.display_name or user.identifier


def _text_ask(session: ChatSession) -> Any:
    return next((a for a in reversed(session.asks.values()) if a.kind == "text"), None)


async def _user_message(session: ChatSession, event: Any, _: list[bytes]) -> None:
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
    msg = Message(content=event["content"], author=_author(session.user), type="user_message")
    msg.command = command
    msg.client_id = event.get("clientId")
    msg.elements = [File.from_upload(f) for f in files]
    await msg.send()
    if ask is not None:
        session.answer_ask(ask, msg.to_dict())
        return
    if session.recorder is not None:
        session.emitter.flush()
        await session.recorder.before_message(msg.to_dict())
    session.spawn(_serialized(session, "on_message", msg))


async def _edit_message(session: ChatSession, event: Any, _: list[bytes]) -> None:
    if not session.config.features.edit_message:
        raise ProtocolError("editing messages is turned off (features.edit_message)",
                            code="forbidden")
    step = session.state.steps.get(event["id"])
    if step is None or step["type"] != "user_message":
        raise ProtocolError(f"no user message with id {event['id']!r}", code="unknown_step")
    await cancel_tasks(session)
    for later in session.state.steps_after(step["id"]):
        session.emit({"type": "step_delete", "id": later})
    msg = Message(content=event["content"], author=step["name"], type="user_message",
                  id=step["id"], created_at=step["createdAt"])
    await msg.send()
    session.spawn(_serialized(session, "on_message", msg))


async def _action(session: ChatSession, event: Any, _: list[bytes]) -> None:
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
    session.spawn(run_callback(session, f"action_callback({action.name!r})", action,
                               func=func))


async def _ask_response(session: ChatSession, event: Any, _: list[bytes]) -> None:
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


async def _stop(session: ChatSession, _event: Any, _: list[bytes]) -> None:
    await cancel_tasks(session)
    if session.config.ui.stop_message:  # Chainlit posts it on every Stop
        await Message(content=session.config.ui.stop_message).send()
    session.spawn(run_callback(session, "on_stop"))


async def _settings_update(session: ChatSession, event: Any, _: list[bytes]) -> None:
    values = dict(session.chat_settings)
    for key, value in event["settings"].items():
        widget = session.settings_inputs.get(key)
        if widget is None:
            raise ProtocolError(f"unknown setting {key!r}", code="unknown_setting")
        try:
            values[key] = widget.validate(value)
        except ValueError as exc:
            raise ProtocolError(str(exc), code="bad_setting") from None
    session.chat_settings = values
    session.state.confirm_settings(values)
    if session.recorder is not None:
        session.recorder.settings_changed()
    session.spawn(run_callback(session, "on_settings_update", dict(values)))


def _rated_step(session: ChatSession, step_id: str) -> None:
    step = session.state.steps.get(step_id)
    if step is None or step["type"] == "user_message":
        raise ProtocolError(f"no assistant message or step with id {step_id!r}",
                            code="unknown_step")


async def _feedback(session: ChatSession, event: Any, _: list[bytes]) -> None:
    _rated_step(session, event["stepId"])
    comment = event.get("comment")
    if comment is not None and len(comment) > 10_000:
        raise ProtocolError("feedback comment is longer than 10,000 characters")
    previous = session.feedback.get(event["stepId"])
    feedback: FeedbackDict = {"id": previous["id"] if previous else new_id(),
                              "forId": event["stepId"], "value": event["value"],
                              "comment": comment, "threadId": session.thread_id}
    session.feedback[event["stepId"]] = feedback
    session.emit({"type": "feedback", "stepId": event["stepId"], "feedback": feedback})


async def _feedback_delete(session: ChatSession, event: Any, _: list[bytes]) -> None:
    _rated_step(session, event["stepId"])
    if session.feedback.pop(event["stepId"], None) is not None:
        session.emit({"type": "feedback", "stepId": event["stepId"], "feedback": None})


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


async def _upload_start(session: ChatSession, event: Any, _: list[bytes]) -> None:
    ticket = session.files.begin(event["uploadId"], event["name"], event["mime"],
                                 event["size"], _upload_limits(session),
                                 over_http=event.get("via") == "http", owner=session.user)
    if ticket is not None:
        session.emit({"type": "upload_ticket", "uploadId": event["uploadId"],
                      "ticket": ticket})


async def _upload_chunk(session: ChatSession, event: Any, buffers: list[bytes]) -> None:
    if not buffers:
        raise ProtocolError("upload_chunk carries its bytes as binary buffers; none came")
    for buffer in buffers:
        session.files.write(event["uploadId"], bytes(buffer))


async def _upload_end(session: ChatSession, event: Any, _: list[bytes]) -> None:
    file = session.files.finish(event["uploadId"])
    session.emit({"type": "upload_done", "uploadId": event["uploadId"], "fileId": file.id})


async def _upload_cancel(session: ChatSession, event: Any, _: list[bytes]) -> None:
    session.files.abort(event["uploadId"])


_HANDLERS: dict[str, Handler] = {
    "hello": _hello,
    "user_message": _user_message,
    "edit_message": _edit_message,
    "action": _action,
    "ask_response": _ask_response,
    "stop": _stop,
    "settings_update": _settings_update,
    "feedback": _feedback,
    "feedback_delete": _feedback_delete,
    "upload_start": _upload_start,
    "upload_chunk": _upload_chunk,
    "upload_end": _upload_end,
    "upload_cancel": _upload_cancel,
}


async def end_session(session: ChatSession) -> None:
    """Cancel what runs and call on_chat_end (part of ChatSession.close)."""
    await cancel_tasks(session)
    if session.started and session.app.get("on_chat_end") is not None:
        token = current_session.set(session)
        try:
            await run_callback(session, "on_chat_end")
        finally:
            current_session.reset(token)
