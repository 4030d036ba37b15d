"""ChatKit's front end talking to an nbchat app: a ChatKitServer and a tornado route.

    from nbchat.integrations.chatkit import NbchatStore
    from nbchat.integrations.chatkit_server import NbchatChatKitServer, chatkit_routes

    server = NbchatChatKitServer("app.py", NbchatStore("sqlite:///chat.db"))
    routes = chatkit_routes(server, identity)        # POST /chatkit, the user from identity

Each ChatKit turn runs the app's callbacks in a fresh nbchat chat session (on_chat_start,
then on_message with the user's text, then on_chat_end), with the ChatKit user as
`cl.user_session.get("user")` and the ChatKit thread id as the session's thread id. The
app's assistant messages come back as ChatKit assistant message items, streamed tokens as
text deltas; ChatKit's server stores the items through the Store (the session records
nothing itself, so nothing is stored twice). Messages of on_chat_start are not replayed
on every turn; an `AskUserMessage` is not supported (ChatKit has no such round trip).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

from chatkit.errors import CustomStreamError
from chatkit.server import ChatKitServer, NonStreamingResult
from chatkit.store import AttachmentStore, NotFoundError
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageContentPartAdded,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
)
from pydantic import ValidationError
from tornado.iostream import StreamClosedError
from tornado.web import RequestHandler

from nbchat.app import App
from nbchat.config import Config, load
from nbchat.integrations.chatkit import Context, NbchatStore, user_identifier
from nbchat.integrations.chatkit_attachments import DEFAULT_MAX_BYTES, AttachmentHandler
from nbchat.integrations.chatkit_items import item_text
from nbchat.loader import load_app
from nbchat.protocol import PROTOCOL_VERSION
from nbchat.runtime.builder import SessionBuilder
from nbchat.runtime.session import ChatSession
from nbchat.server.auth import Identity
from nbchat.transports.memory import MemoryTransport
from nbchat.types import User

__all__ = ["ChatKitHandler", "NbchatChatKitServer", "chatkit_routes"]


class _Reply:
    """One assistant message of the turn, as ChatKit sees it while it streams."""

    def __init__(self, item: AssistantMessageItem) -> None:
        self.item = item
        self.text = ""


class NbchatChatKitServer(ChatKitServer[Context]):
    """A `chatkit.server.ChatKitServer` whose answers are an nbchat app's (module doc).

    `app`: an app file or notebook (loaded on first use with nbchat.loader.load_app) or
    an App. `config`: the app's configuration (default: read from the app's folder).
    """

    def __init__(self, app: App | str | Path, store: NbchatStore, *,
                 config: Config | None = None,
                 attachment_store: AttachmentStore[Context] | None = None) -> None:
        super().__init__(store, attachment_store)
        self._source = app
        self._app = app if isinstance(app, App) else None
        folder = Path(app).resolve().parent if isinstance(app, str | Path) else Path.cwd()
        self.config = config or load(folder)
        self._loading = asyncio.Lock()

    async def app(self) -> App:
        """The app whose callbacks answer (loaded once)."""
        async with self._loading:
            if self._app is None:
                self._app, _ = await load_app(Path(str(self._source)), self.config)
            return self._app

    async def respond(self, thread: ThreadMetadata, input_user_message: UserMessageItem | None,
                      context: Context) -> AsyncIterator[ThreadStreamEvent]:
        if input_user_message is None:
            return  # a client tool output or a retry without a message: nothing to run
        user = User(identifier=user_identifier(context))
        events: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
        session = SessionBuilder(await self.app(), self.config).build(
            user, thread_id=thread.id, transport=MemoryTransport(events.put_nowait))
        try:
            await session.receive({"type": "hello", "protocolVersion": PROTOCOL_VERSION})
            await session.wait_quiet()
            while not events.empty():
                events.get_nowait()  # on_chat_start's own output belongs to no turn
            await session.receive({"type": "user_message",
                                   "content": item_text(input_user_message)})
            async for event in self._translate(thread, session, events):
                yield event
        finally:
            await session.close()

    async def _translate(self, thread: ThreadMetadata, session: ChatSession,
                         events: asyncio.Queue[list[dict[str, Any]]],
                         ) -> AsyncIterator[ThreadStreamEvent]:
        replies: dict[str, _Reply] = {}
        quiet = asyncio.ensure_future(session.wait_quiet())
        try:
            while True:
                batch = events.get_nowait() if not events.empty() else None
                if batch is None:
                    if quiet.done():
                        break
                    getter = asyncio.ensure_future(events.get())
                    await asyncio.wait({getter, quiet}, return_when=asyncio.FIRST_COMPLETED)
                    if not getter.done():
                        getter.cancel()
                        continue
                    batch = getter.result()
                for event in batch:
                    for out in self._convert(thread, event, replies):
                        yield out
        finally:
            quiet.cancel()
        for reply in replies.values():
            yield ThreadItemDoneEvent(item=reply.item.model_copy(update={
                "content": [AssistantMessageContent(text=reply.text)]}))

    def _convert(self, thread: ThreadMetadata, event: dict[str, Any],
                 replies: dict[str, _Reply]) -> list[ThreadStreamEvent]:
        if event["type"] == "error":
            raise CustomStreamError(str(event.get("message") or "the app failed"),
                                    allow_retry=True)
        if event["type"] == "step" and event["step"]["type"] == "assistant_message":
            step = event["step"]
            if step.get("isError"):  # nbchat's message for a failed callback: ChatKit's
                raise CustomStreamError(step.get("output") or "the app failed",  # error
                                        allow_retry=True)
            out: list[ThreadStreamEvent] = []
            reply = replies.get(step["id"])
            if reply is None:
                reply = replies[step["id"]] = _Reply(AssistantMessageItem(
                    id=step["id"], thread_id=thread.id, created_at=datetime.now(),
                    content=[]))
                out += [ThreadItemAddedEvent(item=reply.item), ThreadItemUpdatedEvent(
                    item_id=reply.item.id, update=AssistantMessageContentPartAdded(
                        content_index=0, content=AssistantMessageContent(text="")))]
            out += self._text(reply, step.get("output") or "", replace=True)
            return out
        if event["type"] == "token" and event["id"] in replies:
            reply = replies[event["id"]]
            return self._text(reply, event["delta"], replace=bool(event.get("replace")))
        return []

    @staticmethod
    def _text(reply: _Reply, text: str, *, replace: bool) -> list[ThreadStreamEvent]:
        """The delta that takes the message from its text so far to the new text. A
        replacement that does not extend it (an edit) shows at the item's done event."""
        new = text if replace else reply.text + text
        delta = new[len(reply.text):] if new.startswith(reply.text) else ""
        reply.text = new
        if not delta:
            return []
        return [ThreadItemUpdatedEvent(item_id=reply.item.id,
                                       update=AssistantMessageContentPartTextDelta(
                                           content_index=0, delta=delta))]


class ChatKitHandler(RequestHandler):
    """POST a ChatKit request (the JSON ChatKit's front end sends); the answer is JSON or
    a server-sent event stream. The user is the host's (`identity`): ChatKit's
    `user_id` is the signed-in identifier, so a user sees only their own threads."""

    def initialize(self, server: NbchatChatKitServer, identity: Identity) -> None:
        self.server = server
        self.identity = identity

    def _error(self, status: int, code: str, message: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps({"error": {"code": code, "message": message},
                                "status": status}))

    async def post(self) -> None:
        user = await self.identity.current_user(self)
        if user is None:
            self._error(401, "unauthenticated", "this request carries no user; sign in first")
            return
        context = {"user_id": user.identifier}
        try:
            result = await self.server.process(self.request.body, context)
        except ValidationError as exc:
            self._error(400, "bad_request", f"not a ChatKit request: {exc.errors()[:3]}")
            return
        except NotFoundError as exc:
            self._error(404, "not_found", str(exc) or "not found")
            return
        if isinstance(result, NonStreamingResult):
            self.set_header("Content-Type", "application/json")
            self.finish(result.json)
        else:
            await self._stream(result.json_events)

    async def _stream(self, chunks: AsyncGenerator[bytes, None]) -> None:
        # The events are pumped by a task of their own, which a closed connection cancels:
        # ChatKit's cancellation then runs (the partial reply is stored, the turn's chat
        # session ends with on_chat_end), as when its front end stops a response.
        self._pump = asyncio.ensure_future(self._pump_events(chunks))
        try:
            await self._pump
        except (asyncio.CancelledError, StreamClosedError):
            if not self._pump.cancelled():
                self._pump.cancel()
            return
        if not self._finished:  # (a 404 is already written)
            self.finish()

    async def _pump_events(self, chunks: AsyncGenerator[bytes, None]) -> None:
        started = False
        try:
            async for chunk in chunks:
                if not started:
                    self.set_header("Content-Type", "text/event-stream")
                    self.set_header("Cache-Control", "no-cache")
                    started = True
                self.write(chunk)
                await self.flush()
        except NotFoundError as exc:  # before the first event (another user's thread)
            if started:
                raise
            self._error(404, "not_found", str(exc) or "not found")
        finally:
            await chunks.aclose()

    def on_connection_close(self) -> None:
        pump = getattr(self, "_pump", None)
        if pump is not None and not pump.done():
            pump.cancel()


def chatkit_routes(server: NbchatChatKitServer, identity: Identity, root: str = "/", *,
                   max_upload_bytes: int = DEFAULT_MAX_BYTES,
                   ) -> list[tuple[str, type[RequestHandler], dict[str, Any]]]:
    """The tornado routes for `server`, behind `identity`'s auth: `<root>chatkit` (ChatKit's
    requests) and `<root>chatkit/attachments/<id>` (uploads of an NbchatAttachmentStore
    made with `upload_url=<base URL>/chatkit/attachments`)."""
    base = f"{root.rstrip('/')}/chatkit"
    store = server.store
    if not isinstance(store, NbchatStore):
        raise TypeError("chatkit_routes needs a server on an NbchatStore")
    return [
        (base, ChatKitHandler, {"server": server, "identity": identity}),
        (base + r"/attachments/([^/]+)", AttachmentHandler,
         {"store": store, "identity": identity, "max_bytes": max_upload_bytes}),
    ]
