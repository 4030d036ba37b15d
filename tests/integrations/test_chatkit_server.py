"""NbchatChatKitServer over real HTTP: ChatKit's request JSON in, server-sent events out,
the turn answered by an nbchat app's on_message and stored in nbchat's history.

The server is a real tornado HTTP server on a free loopback port. Who is signed in comes
from an `X-Test-User` header (a test Identity): the cookie login of `nbchat serve` is
tested in tests/serve_auth; here what matters is that the route takes the user from the
host's Identity.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import tornado.web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port
from tornado.web import RequestHandler

from nbchat.app import App
from nbchat.config import load
from nbchat.integrations.chatkit import NbchatStore
from nbchat.integrations.chatkit_attachments import NbchatAttachmentStore
from nbchat.integrations.chatkit_server import NbchatChatKitServer, chatkit_routes
from nbchat.message import Message
from nbchat.server.auth import Identity
from nbchat.testing import ChatTestClient
from nbchat.types import User


class HeaderIdentity(Identity):
    async def current_user(self, handler: RequestHandler) -> User | None:
        name = handler.request.headers.get("X-Test-User")
        return User(identifier=name) if name else None


class Served:
    def __init__(self, url: str, store: NbchatStore, release: asyncio.Event) -> None:
        self.url, self.store, self.release = url, store, release
        self.ended = asyncio.Event()  # set by the app's on_chat_end
        self.cancelled = asyncio.Event()
        self.http = AsyncHTTPClient()

    async def call(self, body: dict[str, Any], user: str = "alice") -> Any:
        response = await self.http.fetch(HTTPRequest(
            self.url, method="POST", body=json.dumps(body),
            headers={"X-Test-User": user, "Content-Type": "application/json"}))
        assert response.headers["Content-Type"].startswith("application/json")
        return json.loads(response.body)

    async def stream(self, body: dict[str, Any], user: str = "alice",
                     on_event: Any = None) -> list[dict[str, Any]]:
        """The SSE events of a streaming request, parsed as they arrive."""
        events: list[dict[str, Any]] = []
        buffer = b""

        def chunk(data: bytes) -> None:
            nonlocal buffer
            buffer += data
            while b"\n\n" in buffer:
                frame, buffer = buffer.split(b"\n\n", 1)
                assert frame.startswith(b"data: ")
                events.append(json.loads(frame[len(b"data: "):]))
                if on_event is not None:
                    on_event(events[-1])

        response = await self.http.fetch(HTTPRequest(
            self.url, method="POST", body=json.dumps(body), streaming_callback=chunk,
            headers={"X-Test-User": user, "Content-Type": "application/json"},
            request_timeout=20))
        assert response.headers["Content-Type"] == "text/event-stream"
        assert buffer == b""
        return events


class CancelAware(NbchatChatKitServer):
    """The bridge, telling the test when ChatKit's cancellation handling has finished."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cancelled = asyncio.Event()

    async def handle_stream_cancelled(self, thread: Any, pending_items: Any,
                                      context: Any) -> None:
        await super().handle_stream_cancelled(thread, pending_items, context)
        self.cancelled.set()


def user_input(text: str) -> dict[str, Any]:
    return {"content": [{"type": "input_text", "text": text}], "attachments": [],
            "inference_options": {}}


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    release = asyncio.Event()
    app = App("chatkit-bridge")

    async def answer(message: Message) -> None:
        if message.content == "fail":
            raise RuntimeError("the model is down")
        reply = Message(content="")
        await reply.stream_token("You said: ")
        if message.content == "wait":  # holds the turn until the client saw a delta
            await release.wait()
        await reply.stream_token(message.content)
        await reply.send()

    app.register("on_message", answer)
    ended = asyncio.Event()
    app.register("on_chat_end", ended.set)
    store = NbchatStore(str(tmp_path / "chat.db"), tmp_path)
    sock, port = bind_unused_port()
    uploads = NbchatAttachmentStore(f"http://127.0.0.1:{port}/chatkit/attachments")
    server = CancelAware(app, store, config=load(tmp_path), attachment_store=uploads)
    web = tornado.web.Application(chatkit_routes(server, HeaderIdentity(),
                                                 max_upload_bytes=1000))
    http = HTTPServer(web)
    http.add_sockets([sock])
    served = Served(f"http://127.0.0.1:{port}/chatkit", store, release)
    served.ended, served.cancelled = ended, server.cancelled
    yield served
    http.stop()
    await http.close_all_connections()
    await store.close()


async def test_threads_create_streams_the_apps_reply(served: Served) -> None:
    def on_event(event: dict[str, Any]) -> None:
        if event.get("update", {}).get("type") == "assistant_message.content_part.text_delta":
            served.release.set()  # the first delta arrived before the reply was finished

    events = await served.stream({"type": "threads.create",
                                  "params": {"input": user_input("wait")}},
                                 on_event=on_event)
    types = [e["type"] for e in events]
    assert types[0] == "thread.created"
    assert types[1] == "thread.item.done"
    assert events[1]["item"]["type"] == "user_message"
    assert "thread.item.added" in types
    assert types[-1] == "thread.item.done"
    deltas = [e["update"]["delta"] for e in events if e["type"] == "thread.item.updated"
              and e["update"]["type"] == "assistant_message.content_part.text_delta"]
    assert len(deltas) >= 2
    assert "".join(deltas) == "You said: wait"
    final = events[-1]["item"]
    assert final["type"] == "assistant_message"
    assert final["content"][0] == {"type": "output_text", "text": "You said: wait",
                                   "annotations": []}

    # Stored: ChatKit lists and loads it, nbchat sees it as alice's thread with messages.
    thread_id = events[0]["thread"]["id"]
    listed = await served.call({"type": "threads.list", "params": {}})
    assert [t["id"] for t in listed["data"]] == [thread_id]
    items = await served.call({"type": "items.list",
                               "params": {"thread_id": thread_id, "order": "asc"}})
    assert [i["type"] for i in items["data"]] == ["user_message", "assistant_message"]
    stored = await served.store.layer.get_thread(thread_id)
    assert stored is not None
    assert stored["userIdentifier"] == "alice"
    assert [(s["type"], s["output"]) for s in stored["steps"]] == [
        ("user_message", "wait"), ("assistant_message", "You said: wait")]


async def test_a_second_message_and_an_nbchat_resume(served: Served) -> None:
    served.release.set()
    created = await served.stream({"type": "threads.create",
                                   "params": {"input": user_input("one")}})
    thread_id = created[0]["thread"]["id"]
    more = await served.stream({"type": "threads.add_user_message",
                                "params": {"thread_id": thread_id, "input": user_input("two")}})
    assert more[-1]["item"]["content"][0]["text"] == "You said: two"
    async with ChatTestClient(App("viewer"), user=User(identifier="alice"),
                              data_layer=served.store.layer,
                              resume_thread=thread_id) as client:
        assert [m["output"] for m in client.messages] == [
            "one", "You said: one", "two", "You said: two"]


async def test_another_user_gets_404_and_nothing_changes(served: Served) -> None:
    served.release.set()
    created = await served.stream({"type": "threads.create",
                                   "params": {"input": user_input("mine")}})
    thread_id = created[0]["thread"]["id"]
    for body in ({"type": "threads.get_by_id", "params": {"thread_id": thread_id}},
                 {"type": "threads.add_user_message",
                  "params": {"thread_id": thread_id, "input": user_input("x")}}):
        with pytest.raises(HTTPClientError) as caught:
            await served.call(body, user="bob")
        assert caught.value.code == 404
        assert caught.value.response is not None
        assert json.loads(caught.value.response.body)["error"]["code"] == "not_found"
    assert (await served.call({"type": "threads.list", "params": {}}, user="bob"))["data"] == []
    items = await served.call({"type": "items.list", "params": {"thread_id": thread_id}})
    assert len(items["data"]) == 2


async def test_bad_requests_are_clear_errors(served: Served) -> None:
    for body, user, status in ((b"{}", "alice", 400), (b'{"type": "threads.list"}', None, 401)):
        headers = {"X-Test-User": user} if user else {}
        with pytest.raises(HTTPClientError) as caught:
            await served.http.fetch(HTTPRequest(served.url, method="POST", body=body,
                                                headers=headers))
        assert caught.value.code == status
        assert caught.value.response is not None
        assert json.loads(caught.value.response.body)["status"] == status


async def test_a_failing_callback_is_an_error_event(served: Served) -> None:
    events = await served.stream({"type": "threads.create",
                                  "params": {"input": user_input("fail")}})
    errors = [e for e in events if e["type"] == "error"]
    assert errors == [{"type": "error", "code": "custom", "allow_retry": True,
                       "message": "An error occurred in on_message. The details are in "
                                  "the server log."}]
    assert [e["item"]["type"] for e in events if e["type"] == "thread.item.done"] == [
        "user_message"]
    # The user's message is stored; the thread stays usable.
    served.release.set()
    thread_id = events[0]["thread"]["id"]
    more = await served.stream({"type": "threads.add_user_message",
                                "params": {"thread_id": thread_id, "input": user_input("ok")}})
    assert more[-1]["item"]["content"][0]["text"] == "You said: ok"


async def test_the_example_serves_echo(tmp_path: Path) -> None:
    """examples/chatkit_server.py, as documented in docs/chatkit.md, over real HTTP."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "examples" / "chatkit_server.py"
    spec = importlib.util.spec_from_file_location("chatkit_example", path)
    assert spec is not None
    assert spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    store = NbchatStore(str(tmp_path / "chat.db"), tmp_path)
    sock, port = bind_unused_port()
    http = HTTPServer(example.make_application(store))
    http.add_sockets([sock])
    try:
        client = Served(f"http://127.0.0.1:{port}/chatkit", store, asyncio.Event())
        events = await client.stream({"type": "threads.create",
                                      "params": {"input": user_input("hello there")}},
                                     user="local")
        assert events[-1]["item"]["content"][0]["text"] == "hello there "
        alice = await store.layer.get_user("local")
        assert alice is not None
        assert [t["id"] for t in await store.layer.export_threads(alice.id)] == [
            events[0]["thread"]["id"]]
    finally:
        http.stop()
        await http.close_all_connections()
        await store.close()


async def test_two_phase_upload_into_nbchat_files(served: Served) -> None:
    served.release.set()
    made = await served.call({"type": "attachments.create", "params": {
        "name": "photo.png", "size": 5, "mime_type": "image/png"}})
    assert made["type"] == "image"
    upload = made["upload_descriptor"]
    assert upload["method"] == "PUT"
    assert made["preview_url"] == upload["url"]
    put = await served.http.fetch(HTTPRequest(upload["url"], method="PUT", body=b"\x89PNG!",
                                              headers={"X-Test-User": "alice"}))
    assert put.code == 204
    for user, body, status in (("bob", b"x", 404), ("alice", b"x" * 1001, 413)):
        with pytest.raises(HTTPClientError) as caught:
            await served.http.fetch(HTTPRequest(upload["url"], method="PUT", body=body,
                                                headers={"X-Test-User": user}))
        assert caught.value.code == status
    with pytest.raises(HTTPClientError) as caught:
        await served.http.fetch(HTTPRequest(upload["url"], headers={"X-Test-User": "bob"}))
    assert caught.value.code == 404
    events = await served.stream({"type": "threads.create", "params": {"input": {
        **user_input("look"), "attachments": [made["id"]]}}})
    sent = events[1]["item"]
    assert [a["id"] for a in sent["attachments"]] == [made["id"]]
    assert "upload_descriptor" not in sent["attachments"][0]  # cleared by the upload
    got = await served.http.fetch(HTTPRequest(upload["url"], headers={"X-Test-User": "alice"}))
    assert (got.body, got.headers["Content-Type"]) == (b"\x89PNG!", "image/png")
    # In nbchat: an image element of the user's message, its bytes the uploaded ones.
    thread = await served.store.layer.get_thread(events[0]["thread"]["id"])
    assert thread is not None
    [element] = thread["elements"] or []
    assert (element["type"], element["forId"]) == ("image", sent["id"])
    assert await served.store.storage.get(str(element["objectKey"])) == b"\x89PNG!"


async def test_a_closed_connection_cancels_the_turn(served: Served) -> None:
    """The client goes away mid-reply: ChatKit's cancellation stores the partial reply and
    the turn's chat session ends (on_chat_end), without waiting for the app."""
    from urllib.parse import urlsplit

    url = urlsplit(served.url)
    body = json.dumps({"type": "threads.create", "params": {"input": user_input("wait")}})
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write((f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                  f"X-Test-User: alice\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {len(body)}\r\n\r\n{body}").encode())
    await writer.drain()
    seen = b""
    while b"text_delta" not in seen:  # the reply has started streaming
        chunk = await asyncio.wait_for(reader.read(65536), 10)
        assert chunk, seen
        seen += chunk
    thread_id = json.loads(seen.split(b"data: ", 1)[1].split(b"\n\n", 1)[0])["thread"]["id"]
    writer.close()
    await writer.wait_closed()
    await asyncio.wait_for(served.ended.wait(), 10)  # release was never set
    await asyncio.wait_for(served.cancelled.wait(), 10)
    items = await served.store.load_thread_items(thread_id, None, 10, "asc",
                                                 {"user_id": "alice"})
    assert [i.type for i in items.data] == [
        "user_message", "assistant_message", "sdk_hidden_context"]
    assert items.data[1].content[0].text == "You said: "  # type: ignore[union-attr]
