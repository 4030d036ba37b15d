"""ChatSession: everything one open chat holds, and the registry that owns sessions.

A session outlives its connection: a transport attaches and detaches, and a client that
reconnects gets what it missed. Closing a session releases everything it held.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from nbchat.app import App
from nbchat.config import Config
from nbchat.data import NativeDataLayer
from nbchat.ids import new_id
from nbchat.protocol import outbound
from nbchat.protocol.client_events import ClientEvent
from nbchat.protocol.server_events import ServerEvent
from nbchat.runtime.context import current_session
from nbchat.runtime.dispatch import end_session, handle, handle_event
from nbchat.runtime.emitter import Emitter
from nbchat.runtime.recorder import ThreadRecorder
from nbchat.runtime.state import SessionState
from nbchat.transports.base import Transport
from nbchat.types import FeedbackDict, User
from nbchat.uploads.files import FileStore

if TYPE_CHECKING:
    from nbchat.action import Action
    from nbchat.ask import PendingAsk
    from nbchat.chat_settings import Mode
    from nbchat.element import Element
    from nbchat.input_widget import InputWidget
    from nbchat.message import Message
    from nbchat.step import StepBase
    from nbchat.uploads.tickets import TicketDesk

log = logging.getLogger("nbchat")


class ChatSession:
    """One chat. Hosts make theirs through `runtime.builder.SessionBuilder`, which passes
    what the host decided (persistence, uploads over HTTP, who views it) here at once."""

    def __init__(
        self,
        app: App,
        config: Config,
        *,
        user: User | None = None,
        id: str | None = None,
        thread_id: str | None = None,
        data_layer: NativeDataLayer | None = None,
        tickets: TicketDesk | None = None,
        client_type: str = "webapp",
        viewer_is_author: bool = False,
        transport: Transport | None = None,
    ) -> None:
        self.id = id or new_id()
        self.app = app
        # The host's config; `config` is it with the chosen chat profile's overrides.
        self.base_config = config
        self.config = config
        self.user = user
        self.thread_id = thread_id or new_id()
        runtime = config.runtime
        self.emitter = Emitter(
            interval=runtime.stream_interval_ms / 1000,
            max_chars=runtime.stream_max_chars,
            replay_size=runtime.replay_buffer,
        )
        self.state = SessionState()
        self.emitter.listeners.append(self.state.apply)
        self.user_data: dict[str, Any] = {}
        self.chat_profile: str | None = None
        self.chat_settings: dict[str, Any] = {}
        self.settings_inputs: dict[str, InputWidget] = {}
        # Values of the settings form the user is editing, not yet confirmed.
        self.settings_draft: dict[str, Any] = {}
        self.commands: list[dict[str, Any]] = []
        self.modes: list[Mode] = []
        # The chat's messages in order, for `cl.chat_context` (what an LLM call is sent).
        self.chat_context: dict[str, Message] = {}  # by id, in the order sent
        # Values of `project.user_env` the user gave (`cl.user_session.get("env")`).
        self.user_env: dict[str, str] = {}
        # Who shows the chat, as Chainlit's `context.session.client_type`: "webapp" for a
        # browser page (served, and what the test client imitates), "notebook" for the widget.
        self.client_type = client_type
        self.actions: dict[str, Action] = {}
        self.elements: dict[str, Element] = {}
        self.open_steps: dict[str, StepBase] = {}
        self.asks: dict[str, PendingAsk] = {}
        # Functions the embedding page runs (CopilotFunction), waiting for its answer.
        self.calls: dict[str, asyncio.Future[Any]] = {}
        self.feedback: dict[str, FeedbackDict] = {}
        self.blobs: dict[str, tuple[bytes, str]] = {}
        # `tickets`: the host takes upload bodies over HTTP (uploads/tickets.py).
        self.files = FileStore(tickets)
        # The chat's MCP servers, as Chainlit's: name -> (mcp.ClientSession, its closer).
        self.mcp_sessions: dict[str, tuple[Any, Any]] = {}
        self.tasks: set[asyncio.Task[Any]] = set()
        self.message_lock = asyncio.Lock()
        # Set while no callback runs, or while one waits on an ask: "the app is idle".
        self.quiet = asyncio.Event()
        self.quiet.set()
        self._busy = 0
        self.started = False
        self.closed = False
        # Persistence, when the host has a data layer (see recorder.py).
        self.recorder = (ThreadRecorder.attach(self, data_layer)
                         if data_layer is not None else None)
        # The one viewing this chat wrote the app (the notebook widget, not a served page):
        # a failing callback shows its traceback in the chat (callback_errors.py).
        self.viewer_is_author = viewer_is_author
        # Steps as OpenTelemetry spans (otel.enabled; integrations/otel.py).
        self.spans: Any = None
        if config.otel.enabled:
            from nbchat.integrations import otel

            self.spans = otel.attach(self, config.otel)
        if transport is not None:
            self.attach(transport)

    # ------------------------------------------------------------------ values

    def builtin_values(self) -> dict[str, Any]:
        return {"id": self.id, "user": self.user, "chat_profile": self.chat_profile,
                "chat_settings": dict(self.chat_settings), "thread_id": self.thread_id,
                "env": dict(self.user_env), "client_type": self.client_type}

    # ------------------------------------------------------------------ outbound

    def attach(self, transport: Transport) -> None:
        if self.emitter.transport is not None and self.emitter.transport is not transport:
            self.emitter.transport.close()
        self.emitter.transport = transport

    def detach(self, transport: Transport | None = None) -> bool:
        """Let go of `transport` (default: whichever is attached). False when another one
        is attached by now (a reconnect took over): then the session is not left alone."""
        if transport is None or self.emitter.transport is transport:
            self.emitter.transport = None
            return True
        return False

    def emit(self, event: ServerEvent) -> None:
        self.emitter.emit(event)

    def error(self, code: str, message: str) -> None:
        self.emitter.emit(outbound.error(code, message))

    def step_changed(self, step: StepBase) -> None:
        self.emitter.emit(outbound.step(step.to_dict(), step.client_id))

    def step_removed(self, step: StepBase) -> None:
        self.open_steps.pop(step.id, None)
        self.emitter.emit(outbound.step_delete(step.id))

    def put_blob(self, data: bytes, mime: str) -> str:
        key = new_id()
        self.blobs[key] = (data, mime)
        return key

    def get_blob(self, key: str) -> tuple[bytes, str] | None:
        """Bytes of an element or uploaded file of this session, by server-made key.
        (Elements of a resumed thread are in storage: see `read_blob`.)"""
        if key in self.blobs:
            return self.blobs[key]
        file = self.files.files.get(key)
        if file is not None:
            with open(file.path, "rb") as handle:
                return handle.read(), file.type
        return None

    async def load_blob(self, key: str) -> tuple[bytes, str] | None:
        """get_blob, reading an uploaded file in a thread, not on the event loop (it may
        be hundreds of MB)."""
        if key not in self.blobs and key in self.files.files:
            return await asyncio.to_thread(self.get_blob, key)
        return self.get_blob(key)

    async def read_blob(self, key: str) -> tuple[bytes, str] | None:
        """Like load_blob, also finding stored elements of a resumed thread."""
        blob = await self.load_blob(key)
        if blob is None and self.recorder is not None:
            data = await self.recorder.read_stored_blob(key)
            if data is not None:
                mime = next((e.get("mime") for e in self.state.elements.values()
                             if e.get("objectKey") == key), None)
                blob = (data, mime or "application/octet-stream")
        return blob

    async def read_named_blob(self, key: str) -> tuple[bytes, str, str | None] | None:
        """read_blob, with the file name its element or upload was given (None: none)."""
        blob = await self.read_blob(key)
        if blob is None:
            return None
        name = next((e.get("name") for e in self.state.elements.values()
                     if e.get("objectKey") == key), None)
        if name is None and key in self.files.files:
            name = self.files.files[key].name
        return blob[0], blob[1], name

    # ------------------------------------------------------------------ asks and tasks

    def open_ask(self, ask: PendingAsk) -> None:
        self.asks[ask.id] = ask
        assert ask.event is not None, "an ask is opened once it is sent"
        self.emitter.emit(ask.event)
        self._update_quiet()

    def answer_ask(self, ask: PendingAsk, value: Any) -> None:
        """Resolve an ask. It stops counting as pending at once, so whoever waits for the
        app to be quiet waits for the callback to carry on with the answer."""
        self.asks.pop(ask.id, None)
        ask.future.set_result(value)
        self._update_quiet()

    def close_ask(self, ask: PendingAsk) -> None:
        """The ask is over (answered, timed out, stopped): tell the client to hide it."""
        self.asks.pop(ask.id, None)
        if not self.closed:
            self.emitter.emit(outbound.ask_cancel(ask.id))
        self._update_quiet()

    def open_call(self, call_id: str, future: asyncio.Future[Any]) -> None:
        self.calls[call_id] = future
        self._update_quiet()

    def close_call(self, call_id: str) -> None:
        self.calls.pop(call_id, None)
        self._update_quiet()

    def _update_quiet(self) -> None:
        # A callback waiting on the user (an ask) or on the embedding page (a call) is idle.
        if self._busy == 0 or self.asks or self.calls:
            self.quiet.set()
        else:
            self.quiet.clear()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run `coro` as a task of this session (its context carries the session)."""
        token = current_session.set(self)
        try:
            task = asyncio.get_running_loop().create_task(coro)
        finally:
            current_session.reset(token)
        self.tasks.add(task)
        self._busy += 1
        self._update_quiet()
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        self._busy -= 1
        self._update_quiet()
        if not task.cancelled() and task.exception() is not None:
            log.error("nbchat task failed", exc_info=task.exception())

    async def wait_quiet(self) -> None:
        """Return once no callback runs or one waits on an ask; flush what is pending."""
        await self.quiet.wait()
        self.emitter.flush()

    # ------------------------------------------------------------------ inbound

    async def receive(self, frame: str | bytes | dict[str, Any],
                      buffers: list[bytes] | None = None) -> None:
        """Handle one client event (as sent on the wire) and its binary buffers."""
        await handle(self, frame, buffers or [])

    async def receive_event(self, event: ClientEvent, buffers: list[bytes] | None = None) -> None:
        """Handle one client event the protocol decoded already (a connection's hello)."""
        await handle_event(self, event, buffers or [])

    async def new_chat(self) -> None:
        """End this chat (its tasks cancelled, on_chat_end run, its writes stored) and make
        the session a fresh, unstarted one in a new thread: the next hello starts it, as
        switching the chat profile in the page does. Nothing of the old chat reaches the
        client, which has cleared its view already."""
        transport, self.emitter.transport = self.emitter.transport, None
        try:
            await end_session(self)
            self.emitter.flush()
        finally:
            self.emitter.transport = transport
        self.emitter.replay.clear()
        if self.recorder is not None:
            old = self.recorder
            await old.close()
            self.emitter.listeners.remove(old.on_batch)
            self.recorder = type(old).attach(self, old.data)
        self._forget_chat()
        # The mirror first, where it was: the recorder reads it for every batch.
        state = SessionState()
        at = self.emitter.listeners.index(self.state.apply)
        self.emitter.listeners[at] = state.apply
        self.state = state
        self.thread_id = new_id()
        self.chat_profile = None
        self.chat_settings = {}
        self.settings_inputs = {}
        self.commands = []
        self.feedback = {}
        self.started = False

    def _forget_chat(self) -> None:
        """Drop what the chat held: asks (cancelled), actions, elements, steps, values."""
        for ask in list(self.asks.values()):
            ask.future.cancel()
        self.asks.clear()
        self.blobs.clear()
        self.actions.clear()
        self.elements.clear()
        self.open_steps.clear()
        self.user_data.clear()
        self.chat_context.clear()
        self._update_quiet()

    async def close(self) -> None:
        """End the chat: on_chat_end, cancel tasks and asks, release files and memory."""
        if self.closed:
            return
        await end_session(self)
        if self.recorder is not None:
            self.emitter.flush()
            await self.recorder.close()
        self.closed = True
        if self.spans is not None:
            self.emitter.flush()
            self.spans.close()
        self._forget_chat()
        self.files.close()
        self.emitter.close()
        self.state = SessionState()


class SessionRegistry:
    """The live sessions of one host (a widget kernel, a server worker)."""

    def __init__(self) -> None:
        self.sessions: dict[str, ChatSession] = {}

    def add(self, session: ChatSession) -> ChatSession:
        self.sessions[session.id] = session
        return session

    def get(self, session_id: str) -> ChatSession | None:
        return self.sessions.get(session_id)

    async def close(self, session_id: str) -> None:
        session = self.sessions.pop(session_id, None)
        if session is not None:
            await session.close()

    async def close_all(self) -> None:
        for session_id in list(self.sessions):
            await self.close(session_id)

    def __len__(self) -> int:
        return len(self.sessions)
