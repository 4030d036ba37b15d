"""Drive an nbchat app in-process, without a browser: for the app's own pytest tests.

    from nbchat.testing import ChatTestClient

    async with ChatTestClient("app.py") as client:   # runs on_chat_start
        turn = await client.send("hello")             # steps created or changed this turn
        assert client.messages[-1]["output"] == "You said: hello"

Every call goes through the real protocol (validated events over an in-memory transport
that round-trips JSON), so what passes here passes over the comm and the WebSocket too.
"""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from nbchat.app import App, default_app
from nbchat.config import Config, load
from nbchat.data import AdaptedDataLayer, BaseDataLayer, NativeDataLayer
from nbchat.data.plug import app_data_layer, native_layer
from nbchat.ids import new_id
from nbchat.loader import load_app
from nbchat.protocol import PROTOCOL_VERSION
from nbchat.runtime.builder import SessionBuilder
from nbchat.runtime.session import ChatSession
from nbchat.runtime.state import SessionState
from nbchat.transports.memory import MemoryTransport
from nbchat.types import MESSAGE_STEP_TYPES, StepDict, User

CHUNK = 256 * 1024


class ChatTestClient:
    """One chat session of an app. `app` is a path (.py/.ipynb), an App, or None for the
    default app (the decorators of the current process). With `data_layer` (nbchat's or a
    Chainlit-style BaseDataLayer), the chat is persisted as in a real host; without it, in
    the app's own layer (`@cl.data_layer`, `nbchat.data._data_layer`) if it has one.
    `resume_thread` opens a stored thread instead of a new one.
    """

    def __init__(
        self,
        app: str | Path | App | None = None,
        *,
        user: User | None = None,
        config: Config | None = None,
        chat_profile: str | None = None,
        data_layer: NativeDataLayer | BaseDataLayer | None = None,
        resume_thread: str | None = None,
        timeout: float | None = 10.0,
        on_events: Callable[[list[dict[str, Any]]], None] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self._app_source = app
        # The user's values of `project.user_env` (sent in hello, as the page does).
        self.env = env
        self.user = user
        self.config = config
        self.chat_profile = chat_profile
        self.timeout = timeout
        self.data_layer = data_layer
        self.resume_thread = resume_thread
        # Also called with every batch received (the terminal chat prints from it).
        self.on_events = on_events
        self.events: list[dict[str, Any]] = []
        self.state = SessionState()
        self.namespace: dict[str, Any] = {}
        self._session: ChatSession | None = None
        self._own_layer: NativeDataLayer | None = None
        self.transport: MemoryTransport | None = None

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> ChatTestClient:
        await self.open()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def open(self) -> None:
        """Load the app and start its chat (what `async with` does)."""
        source = self._app_source
        app_dir = Path.cwd()
        if isinstance(source, str | Path):
            app_dir = Path(source).resolve().parent
            config = self.config or load(app_dir)
            app, self.namespace = await load_app(source, config)
        else:
            app = source or default_app
            config = self.config or load(app_dir)
        layer: NativeDataLayer | None
        if self.data_layer is None:  # the app's own layer (unless data.enabled is false)
            layer = self._own_layer = (app_data_layer(app, config.app_dir)
                                       if config.data.enabled else None)
        elif isinstance(self.data_layer, NativeDataLayer):
            layer = self.data_layer
        else:  # a Chainlit-style layer: the client's own adapter (the layer stays open)
            layer = self._own_layer = native_layer(self.data_layer, config.app_dir,
                                                   close_layer=False)
        self._session = SessionBuilder(app, config, layer).build(self.user)
        self._connect()
        hello: dict[str, Any] = {"type": "hello", "protocolVersion": PROTOCOL_VERSION}
        if self.chat_profile is not None:
            hello["chatProfile"] = self.chat_profile
        if self.resume_thread is not None:
            hello["resumeThreadId"] = self.resume_thread
        if self.env is not None:
            hello["env"] = dict(self.env)
        await self.send_event(hello)

    async def close(self) -> None:
        """End the chat (on_chat_end runs) and release what it holds."""
        if self._session is not None:
            await self._session.close()
        if self._own_layer is not None:  # this client's adapter, or the app's nbchat layer
            layer, self._own_layer = self._own_layer, None
            if isinstance(layer, AdaptedDataLayer):
                await layer.close()  # the adapter only: the app's layer stays open
            else:
                await layer.flush()

    @property
    def session(self) -> ChatSession:
        """The live chat session; the client must be open."""
        if self._session is None:
            raise AssertionError("the client is not open: use `async with ChatTestClient(…)`")
        return self._session

    def _connect(self) -> None:
        self.transport = MemoryTransport(self._receive)
        self.session.attach(self.transport)

    def _receive(self, batch: list[dict[str, Any]]) -> None:
        self.events.extend(batch)
        self.state.apply(batch)
        if self.on_events is not None:
            self.on_events(batch)

    # ------------------------------------------------------------------ views

    @property
    def steps(self) -> list[StepDict]:
        """Every step, messages included, in creation order, as the client sees them."""
        return list(self.state.steps.values())

    @property
    def messages(self) -> list[StepDict]:
        """The message steps shown so far, in order."""
        return [s for s in self.steps if s["type"] in MESSAGE_STEP_TYPES]

    @property
    def pending_ask(self) -> dict[str, Any] | None:
        """The pending `ask` event (askId, kind, stepId, spec), or None."""
        return self.state.ask

    @property
    def actions(self) -> list[dict[str, Any]]:
        """The actions shown now."""
        return list(self.state.actions.values())

    @property
    def elements(self) -> list[dict[str, Any]]:
        """The elements shown now."""
        return list(self.state.elements.values())

    @property
    def errors(self) -> list[dict[str, Any]]:
        """Every `error` event received."""
        return [e for e in self.events if e["type"] == "error"]

    @property
    def window_messages(self) -> list[Any]:
        """What the app posted to the embedding page (`cl.send_window_message`), in order."""
        return [e["data"] for e in self.events if e["type"] == "window_message"]

    @property
    def call_fns(self) -> list[dict[str, Any]]:
        """The `call_fn` events (`cl.CopilotFunction`) still waiting for an answer."""
        return [e for e in self.events
                if e["type"] == "call_fn" and e["callId"] in self.session.calls]

    @property
    def token_count(self) -> int:
        """The tokens reported with `cl.context.emitter.update_token_count`, added up."""
        return sum(int(e["count"]) for e in self.events if e["type"] == "token_usage")

    @property
    def last_seq(self) -> int:
        """The seq of the last event received (0 before any)."""
        return int(self.events[-1]["seq"]) if self.events else 0

    # ------------------------------------------------------------------ acting

    async def send_event(self, event: dict[str, Any],
                         buffers: list[bytes] | None = None) -> list[StepDict]:
        """Send one raw protocol event; wait until the app is idle or asks; return the
        steps created or changed meanwhile."""
        mark = len(self.events)
        await self.session.receive(event, buffers)
        await self.settle()
        touched: dict[str, None] = {}
        for e in self.events[mark:]:
            if e["type"] == "step":
                touched[e["step"]["id"]] = None
            elif e["type"] == "token":
                touched[e["id"]] = None
        return [self.state.steps[i] for i in touched if i in self.state.steps]

    async def settle(self) -> None:
        """Wait until no callback runs (or one waits on an ask) and all events arrived.

        `timeout=None` waits without a timer: every timed wait leaves a cancelled timer in
        the loop's heap until it would have fired, which memory measurements would count."""
        if self.timeout is None:
            await self.session.wait_quiet()
            return
        try:
            await asyncio.wait_for(self.session.wait_quiet(), self.timeout)
        except TimeoutError:
            raise AssertionError(
                f"the app was still busy after {self.timeout} s; pass a larger timeout= "
                "to ChatTestClient if it is just slow"
            ) from None

    async def send(self, content: str, *, command: str | None = None,
                   files: list[str | Path] | None = None,
                   modes: dict[str, str] | None = None) -> list[StepDict]:
        """Send a user message (`command`, `files` uploaded first, the mode pickers'
        choices as {mode id: option id}); return the steps changed."""
        event: dict[str, Any] = {"type": "user_message", "content": content}
        if command is not None:
            event["command"] = command
        if modes is not None:
            event["modes"] = dict(modes)
        if files:
            event["fileIds"] = [await self._upload_one(Path(p)) for p in files]
        return await self.send_event(event)

    def _ask(self, kind: str) -> dict[str, Any]:
        ask = self.pending_ask
        if ask is None or ask["kind"] != kind:
            found = ask["kind"] if ask else "none"
            raise AssertionError(f"expected a pending {kind} ask, found {found}")
        return ask

    async def answer(self, content: str) -> list[StepDict]:
        """Answer a pending AskUserMessage."""
        self._ask("text")
        return await self.send(content)

    async def choose(self, name: str) -> list[StepDict]:
        """Answer a pending AskActionMessage with the action called `name`."""
        ask = self._ask("action")
        action = next((a for a in ask["spec"]["actions"] if a["name"] == name), None)
        if action is None:
            names = [a["name"] for a in ask["spec"]["actions"]]
            raise AssertionError(f"the ask offers no action {name!r}; it offers {names}")
        return await self.send_event({"type": "ask_response", "askId": ask["askId"],
                                      "actionId": action["id"]})

    async def _upload_one(self, path: Path) -> str:
        upload_id = new_id()
        data = path.read_bytes()
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        await self.session.receive({"type": "upload_start", "uploadId": upload_id,
                                    "name": path.name, "mime": mime, "size": len(data)})
        for offset in range(0, len(data), CHUNK):
            await self.session.receive({"type": "upload_chunk", "uploadId": upload_id},
                                       [data[offset:offset + CHUNK]])
        mark = len(self.events)
        await self.session.receive({"type": "upload_end", "uploadId": upload_id})
        self.session.emitter.flush()
        for event in self.events[mark:]:
            if event["type"] == "upload_done" and event["uploadId"] == upload_id:
                return str(event["fileId"])
            if event["type"] == "error":
                raise AssertionError(f"upload of {path.name} refused: {event['message']}")
        errors = [e["message"] for e in self.errors]
        raise AssertionError(f"upload of {path.name} was not accepted: {errors}")

    async def upload(self, paths: list[str | Path]) -> list[StepDict]:
        """Answer a pending AskFileMessage with these local files (sent in chunks)."""
        ask = self._ask("file")
        file_ids = [await self._upload_one(Path(p)) for p in paths]
        mark = len(self.events)
        turn = await self.send_event({"type": "ask_response", "askId": ask["askId"],
                                      "fileIds": file_ids})
        refused = [e["message"] for e in self.events[mark:] if e["type"] == "error"]
        if refused:
            raise AssertionError(f"the app refused the files: {'; '.join(refused)}")
        return turn

    async def click(self, name: str, payload: dict[str, Any] | None = None) -> list[StepDict]:
        """Click the action button called `name` (and with `payload`, if given)."""
        for action in self.actions:
            if action["name"] == name and (payload is None or action["payload"] == payload):
                return await self.send_event({"type": "action", "id": action["id"]})
        shown = list(dict.fromkeys(a["name"] for a in self.actions))  # once each, in order
        raise AssertionError(f"no action {name!r} is shown; shown: {shown}")

    async def post_window_message(self, data: Any) -> list[StepDict]:
        """Post `data` as the page embedding the chat would (runs @cl.on_window_message)."""
        return await self.send_event({"type": "window_message", "data": data})

    async def answer_call_fn(self, result: Any = None, *, name: str | None = None,
                             error: str | None = None) -> list[StepDict]:
        """Answer the oldest waiting `cl.CopilotFunction` call (the one named `name`) as
        the embedding page would: with `result`, or with `error`."""
        waiting = [c for c in self.call_fns if name is None or c["name"] == name]
        if not waiting:
            names = [c["name"] for c in self.call_fns]
            raise AssertionError(f"no CopilotFunction call {name or ''} is waiting; "
                                 f"waiting: {names}")
        event: dict[str, Any] = {"type": "call_fn_result", "callId": waiting[0]["callId"]}
        if error is not None:
            event["error"] = error
        else:
            event["result"] = result
        return await self.send_event(event)

    async def stop(self) -> list[StepDict]:
        """Press Stop; return the steps created or changed."""
        return await self.send_event({"type": "stop"})

    async def update_settings(self, **values: Any) -> list[StepDict]:
        """Change chat settings as the panel would; return the steps created or changed."""
        return await self.send_event({"type": "settings_update", "settings": values})

    async def edit_settings(self, **values: Any) -> list[StepDict]:
        """Edit the settings form without confirming (runs @cl.on_settings_edit)."""
        return await self.send_event({"type": "settings_edit", "settings": values})

    async def feedback(self, step_id: str, value: int,
                       comment: str | None = None) -> list[StepDict]:
        """Rate a step (1 up, 0 down); return the steps created or changed."""
        event: dict[str, Any] = {"type": "feedback", "stepId": step_id, "value": value}
        if comment is not None:
            event["comment"] = comment
        return await self.send_event(event)

    async def edit(self, step_id: str, content: str) -> list[StepDict]:
        """Edit a sent message (later steps go, on_message runs again); return the steps changed."""
        return await self.send_event({"type": "edit_message", "id": step_id,
                                      "content": content})

    async def reconnect(self, last_seq: int | None = None) -> None:
        """Drop the connection and reconnect, asking for events after `last_seq`
        (default: the last one received). Without a replay the client starts empty."""
        if self.transport is not None:
            self.transport.close()
        self.session.detach()
        self._connect()
        hello: dict[str, Any] = {"type": "hello", "protocolVersion": PROTOCOL_VERSION}
        if last_seq is not None:
            hello["lastSeq"] = last_seq
        else:
            self.state = SessionState()
        await self.send_event(hello)

    def disconnect(self) -> None:
        """Drop the connection; events keep going to the replay buffer."""
        if self.transport is not None:
            self.transport.close()
        self.session.detach()
