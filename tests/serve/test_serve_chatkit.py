"""`nbchat serve` with `server.chatkit: true`: ChatKit's front end at `<root>chatkit`, on a
real server with password login, spoken to in ChatKit's own shapes (the request models
of the openai-chatkit package, its server-sent events parsed as ChatKit's
ThreadStreamEvent), behind the same cookie session and XSRF check as the page's own
calls, and stored in the history the REST API and the chat socket read."""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from chatkit.types import (
    AssistantMessageContentPartTextDelta,
    AttachmentCreateParams,
    AttachmentsCreateReq,
    InferenceOptions,
    ThreadCreatedEvent,
    ThreadCreateParams,
    ThreadGetByIdParams,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadListParams,
    ThreadsCreateReq,
    ThreadsGetByIdReq,
    ThreadsListReq,
    ThreadStreamEvent,
    UserMessageInput,
    UserMessageTextContent,
)
from pydantic import TypeAdapter
from tornado.httpclient import AsyncHTTPClient, HTTPResponse

from nbchat.errors import ConfigError
from nbchat.server.serve import RunningServer, ServeOptions, start_server
from serve.helpers import WsClient

SECRET = "k" * 48
APP = '''
import nbchat as cl


@cl.password_auth_callback
def check(username: str, password: str):
    return cl.User(identifier=username) if password == username + "-pw" else None


@cl.on_message
async def answer(message: cl.Message):
    reply = cl.Message(content="")
    for part in ("You said: ", message.content):
        await reply.stream_token(part)
    await reply.send()
'''
EVENT = TypeAdapter[ThreadStreamEvent](ThreadStreamEvent)


def user_input(text: str, attachments: list[str] | None = None) -> UserMessageInput:
    return UserMessageInput(content=[UserMessageTextContent(text=text)],
                            attachments=attachments or [],
                            inference_options=InferenceOptions())


@dataclass
class Browser:
    """A signed-in browser: its cookies, and the XSRF header the page's fetch adds."""

    url: str
    cookies: dict[str, str] = field(default_factory=dict)
    http: AsyncHTTPClient = field(default_factory=AsyncHTTPClient)

    async def fetch(self, path: str, method: str = "GET", body: bytes | None = None,
                    *, xsrf: bool = True, **kwargs: Any) -> HTTPResponse:
        headers = dict(kwargs.pop("headers", {}))
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if xsrf and "_xsrf" in self.cookies:
            headers["X-XSRFToken"] = self.cookies["_xsrf"]
        url = path if path.startswith("http") else self.url + path
        response = await self.http.fetch(url, method=method, body=body, headers=headers,
                                         raise_error=False, follow_redirects=False,
                                         **kwargs)
        for line in response.headers.get_list("Set-Cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(line)
            self.cookies.update({name: morsel.value for name, morsel in jar.items()})
        return response

    async def login(self, name: str) -> None:
        page = await self.fetch("login")
        found = re.search(r'name="_xsrf" value="([^"]+)"', page.body.decode())
        assert found, page.body
        form = {"username": name, "password": f"{name}-pw", "_xsrf": found.group(1)}
        done = await self.fetch("login", "POST", urlencode(form).encode(), xsrf=False)
        assert done.code == 303, done.body
        assert "nbchat_session" in self.cookies

    async def chatkit(self, request: Any, **kwargs: Any) -> HTTPResponse:
        return await self.fetch("chatkit", "POST", request.model_dump_json().encode(),
                                headers={"Content-Type": "application/json"}, **kwargs)

    async def stream(self, request: Any) -> list[Any]:
        response = await self.chatkit(request)
        assert response.code == 200, response.body
        assert response.headers["Content-Type"] == "text/event-stream"
        frames = [f for f in response.body.split(b"\n\n") if f]
        assert all(f.startswith(b"data: ") for f in frames)
        return [EVENT.validate_json(f[len(b"data: "):]) for f in frames]


async def serving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, yaml: str,
                  ) -> RunningServer:
    monkeypatch.setenv("NBCHAT_AUTH_SECRET", SECRET)
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    (tmp_path / "nbchat.yaml").write_text(yaml, encoding="utf-8")
    return await start_server(ServeOptions(tmp_path / "app.py", port=0, root_path="/sub/"),
                              out=io.StringIO())


@pytest.fixture
async def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 ) -> AsyncIterator[RunningServer]:
    running = await serving(tmp_path, monkeypatch, "server:\n  chatkit: true\n"
                            "features:\n  spontaneous_file_upload:\n    max_size_mb: 1\n")
    yield running
    await running.stop()


async def signed_in(server: RunningServer, name: str) -> Browser:
    browser = Browser(server.url)
    await browser.login(name)
    return browser


async def test_a_chatkit_turn_as_the_signed_in_user_lands_in_nbchat_history(
        server: RunningServer) -> None:
    alice = await signed_in(server, "alice")
    events = await alice.stream(ThreadsCreateReq(params=ThreadCreateParams(
        input=user_input("hi there"))))
    assert isinstance(events[0], ThreadCreatedEvent)
    thread_id = events[0].thread.id
    deltas = [e.update.delta for e in events if isinstance(e, ThreadItemUpdatedEvent)
              and isinstance(e.update, AssistantMessageContentPartTextDelta)]
    assert "".join(deltas) == "You said: hi there"
    done = [e.item for e in events if isinstance(e, ThreadItemDoneEvent)]
    assert [i.type for i in done] == ["user_message", "assistant_message"]
    # The chat's own REST API, same session: alice's thread, with both messages.
    listed = await alice.fetch("nbchat/api/threads")
    assert [t["id"] for t in json.loads(listed.body)["data"]] == [thread_id]
    thread = json.loads((await alice.fetch(f"nbchat/api/threads/{thread_id}")).body)
    assert thread["userIdentifier"] == "alice"
    assert [s["output"] for s in thread["steps"]] == ["hi there", "You said: hi there"]
    # …and it resumes over the chat socket of the same server.
    ws = server.url.replace("http://", "ws://") + "ws"
    session = alice.cookies["nbchat_session"]
    client = await WsClient.connect(ws, {"Cookie": f"nbchat_session={session}",
                                         "Origin": server.url.removesuffix("/sub/")})
    await client.hello(resumeThreadId=thread_id)
    await client.until(lambda e: e["type"] == "thread")
    shown = [e["step"]["output"] for e in client.events if e["type"] == "step"]
    assert shown == ["hi there", "You said: hi there"]
    await client.close()


async def test_another_user_sees_nothing_of_it(server: RunningServer) -> None:
    alice, bob = await signed_in(server, "alice"), await signed_in(server, "bob")
    events = await alice.stream(ThreadsCreateReq(params=ThreadCreateParams(
        input=user_input("mine"))))
    thread_id = events[0].thread.id
    listed = await bob.chatkit(ThreadsListReq(params=ThreadListParams()))
    assert listed.code == 200
    assert json.loads(listed.body)["data"] == []
    got = await bob.chatkit(ThreadsGetByIdReq(params=ThreadGetByIdParams(thread_id=thread_id)))
    assert got.code == 404
    assert json.loads(got.body)["error"]["code"] == "not_found"
    mine = await alice.chatkit(ThreadsGetByIdReq(params=ThreadGetByIdParams(
        thread_id=thread_id)))
    assert json.loads(mine.body)["id"] == thread_id


async def test_no_session_is_401_and_no_xsrf_token_is_403(server: RunningServer) -> None:
    anonymous = Browser(server.url)
    await anonymous.fetch("login")  # has an _xsrf cookie, no session
    refused = await anonymous.chatkit(ThreadsListReq(params=ThreadListParams()))
    assert refused.code == 401
    assert json.loads(refused.body)["error"]["code"] == "unauthenticated"
    alice = await signed_in(server, "alice")
    forged = await alice.chatkit(ThreadsListReq(params=ThreadListParams()), xsrf=False)
    assert forged.code == 403  # a cross-site form post carries the cookie, not the header
    assert json.loads(forged.body)["status"] == 403


async def test_an_attachment_uploads_to_the_host_the_browser_reached(
        server: RunningServer) -> None:
    alice, bob = await signed_in(server, "alice"), await signed_in(server, "bob")
    made = await alice.chatkit(AttachmentsCreateReq(params=AttachmentCreateParams(
        name="notes.txt", size=6, mime_type="text/plain")))
    assert made.code == 200, made.body
    attachment = json.loads(made.body)
    url = attachment["upload_descriptor"]["url"]
    assert url == f"{server.url}chatkit/attachments/{attachment['id']}"
    assert (await bob.fetch(url, "PUT", b"theirs")).code == 404
    too_big = await alice.fetch(url, "PUT", b"x" * (1024 * 1024 + 1))
    assert too_big.code == 413
    # ChatKit's own upload carries the cookie but not the app's XSRF header.
    assert (await alice.fetch(url, "PUT", b"notes!", xsrf=False)).code == 204
    events = await alice.stream(ThreadsCreateReq(params=ThreadCreateParams(
        input=user_input("see file", [attachment["id"]]))))
    thread_id = events[0].thread.id
    thread = json.loads((await alice.fetch(f"nbchat/api/threads/{thread_id}")).body)
    [element] = thread["elements"]
    # The bytes are the element's file, served by nbchat's own file route.
    served = await alice.fetch(f"nbchat/api/threads/{thread_id}/files/{element['id']}")
    assert served.body == b"notes!"


async def test_off_by_default_and_refused_without_persistence(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    off = await serving(tmp_path / "off", monkeypatch, "project:\n  name: plain\n")
    try:
        alice = await signed_in(off, "alice")
        response = await alice.chatkit(ThreadsListReq(params=ThreadListParams()))
        assert response.code == 404
    finally:
        await off.stop()
    with pytest.raises(ConfigError, match=r"data\.enabled"):
        await serving(tmp_path / "nodata", monkeypatch,
                      "server:\n  chatkit: true\ndata:\n  enabled: false\n")
