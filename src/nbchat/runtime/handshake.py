"""The handshake: `hello` starts a chat (profile, welcome, on_chat_start) or resumes a
stored thread, and a reconnecting client gets what it missed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbchat.app import call_user
from nbchat.chat_settings import ChatProfile, Starter, StarterCategory
from nbchat.config import with_overrides
from nbchat.data import InvalidDataError
from nbchat.errors import ConfigError, ProtocolError
from nbchat.protocol import PROTOCOL_VERSION, outbound
from nbchat.protocol.client_events import Hello
from nbchat.protocol.server_events import Welcome
from nbchat.runtime.callbacks import run_callback
from nbchat.types import User
from nbchat.user_session import BUILTIN_KEYS

if TYPE_CHECKING:
    from nbchat.runtime.session import ChatSession


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


async def _starter_categories(session: ChatSession) -> list[StarterCategory]:
    func = session.app.get("set_starter_categories")
    categories = await call_user(func, session.user) if func else None
    return list(categories or [])


def _apply_profile(session: ChatSession, profile: ChatProfile | None) -> None:
    """The chat's config: the host's, with the chosen profile's `config_overrides`."""
    overrides = profile.config_overrides if profile is not None else None
    session.config = session.base_config
    if overrides:
        try:
            session.config = with_overrides(session.base_config, overrides)
        except ConfigError as exc:
            session.error("bad_config_overrides", f"chat profile {profile.name!r}: {exc}"
                          if profile is not None else str(exc))


def user_env(session: ChatSession, given: dict[str, Any]) -> None:
    """Keep the `project.user_env` values the client gave; say which are missing."""
    wanted = session.config.project.user_env
    session.user_env = {k: str(given[k]) for k in wanted if isinstance(given.get(k), str)}
    missing = [k for k in wanted if k not in session.user_env]
    if missing:
        session.error("missing_env", "this app needs values for: " + ", ".join(missing))


def _public_user(user: User | None) -> dict[str, Any] | None:
    """What the browser is told of the user: its metadata (OAuth tokens, roles an auth
    callback put there) stays on the server."""
    if user is None:
        return None
    return {"identifier": user.identifier, "display_name": user.display_name}


async def _welcome(session: ChatSession, profiles: list[ChatProfile],
                   starters: list[Starter]) -> Welcome:
    return {"type": "welcome", "seq": 0, "protocolVersion": PROTOCOL_VERSION,
            "sessionId": session.id, "threadId": session.thread_id,
            "user": _public_user(session.user),
            "config": session.config.to_client(),
            "chatProfiles": [p.to_dict() for p in profiles],
            "chatProfile": session.chat_profile,
            "starters": [s.to_dict() for s in starters],
            "starterCategories": [c.to_dict() for c in await _starter_categories(session)],
            "commands": session.commands, "modes": [m.to_dict() for m in session.modes],
            "httpUploads": session.files.tickets is not None,
            "forks": session.recorder is not None}


async def hello(session: ChatSession, event: Hello, _: list[bytes]) -> None:
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
        _apply_profile(session, chosen)
        session.started = True
        session.emit(await _welcome(session, profiles, await _starters(session, chosen)))
        user_env(session, event.get("env") or {})
        if "resumeThreadId" in event and await _resume(session, event["resumeThreadId"],
                                                       profiles):
            return
        session.spawn(_chat_started(session, "on_chat_start"))
        return
    # A reconnecting or newly rendered client: replay what it missed, or a snapshot.
    if "lastSeq" in event:
        missed = session.emitter.missed_since(event["lastSeq"])
        if missed is not None:
            session.emitter.send_direct(missed)
            return
    profiles = await _profiles(session)
    chosen = next((p for p in profiles if p.name == session.chat_profile), None)
    session.emit(await _welcome(session, profiles, await _starters(session, chosen)))
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
    _apply_profile(session, next((p for p in profiles if p.name == session.chat_profile), None))
    for step in thread["steps"]:
        feedback = step.get("feedback")
        if feedback:
            session.feedback[step["id"]] = feedback
        session.emit(outbound.step(step))
    for element in thread.get("elements") or []:
        session.emit(outbound.element(element))
    # The stored history goes to the client only, not back to the store.
    session.recorder.muted = True
    try:
        session.emitter.flush()
    finally:
        session.recorder.muted = False
    session.emit(outbound.thread(thread["id"], thread.get("name")))
    session.spawn(_chat_started(session, "on_chat_resume", thread))
    return True


async def _chat_started(session: ChatSession, hook: str, *args: Any) -> None:
    """on_chat_start (or on_chat_resume), then the MCP servers nbchat.yaml declares."""
    await run_callback(session, hook, *args)
    mcp = session.config.mcp
    if mcp.enabled and mcp.servers:
        from nbchat.integrations import mcp_chat  # the mcp SDK, only for apps that use it

        await mcp_chat.connect_declared(session)


def _resumed_profile(session: ChatSession, stored: Any, profiles: list[ChatProfile]) -> str | None:
    """The thread's stored profile if the app still offers it to this user; else the
    profile the session started with (the default), and the user is told."""
    if not stored or stored == session.chat_profile:
        return session.chat_profile
    if stored in {p.name for p in profiles}:
        return str(stored)
    now = f"{session.chat_profile!r}" if session.chat_profile else "no profile"
    session.emit(outbound.notice(
        "warning", f"this chat used the profile {str(stored)[:100]!r}, which is no "
                             f"longer offered to you; it continues with {now}"))
    return session.chat_profile
