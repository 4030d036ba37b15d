"""Attack classes of issue 5 §5 at the auth layer: missing XSRF, WebSocket without a
session or from another origin, session and thread hijack at connect, a client-claimed
author, and CORS with credentials."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import tornado.httpclient

from seeding import seed

from .served import API, ROOT, Browser, Served, body, is_final_reply

UPLOAD = (b"--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.txt\"\r\n"
          b"Content-Type: text/plain\r\n\r\nhello\r\n--B--\r\n")


@pytest.mark.parametrize(("method", "path", "payload"), [
    ("PATCH", "/threads/{t}", {"name": "renamed"}),
    ("PATCH", "/threads/{t}", {"shared": True}),
    ("DELETE", "/threads/{t}", None),
    ("PUT", "/threads/{t}/steps/{s}/feedback", {"value": 0}),
    ("DELETE", "/threads/{t}/steps/{s}/feedback", None),
    ("POST", "/threads/{t}/files", None),
])
async def test_state_changing_calls_without_the_xsrf_token_are_refused(
        served: Served, alice: Browser, method: str, path: str, payload: Any) -> None:
    s = await seed(served.data, "alice")
    url = API + path.format(t=s.thread_id, s=s.reply_step)
    before = await served.data.get_thread(s.thread_id)
    extra: dict[str, Any] = {"body": payload}
    if method == "POST":
        extra = {"raw": UPLOAD, "headers": {"Content-Type": "multipart/form-data; boundary=B"}}
    refused = await alice.fetch(method, url, xsrf=False, **extra)
    assert refused.code == 403, refused.body
    assert body(refused) == {"error": {"code": "forbidden", "message": body(refused)["error"][
        "message"]}, "status": 403}
    assert "_xsrf" in body(refused)["error"]["message"]
    assert await served.data.get_thread(s.thread_id) == before
    # A token that is not the cookie's is refused too.
    forged = await alice.fetch(method, url, headers={"X-XSRFToken": "2|00|00|1", **extra.get(
        "headers", {})}, **{k: v for k, v in extra.items() if k != "headers"})
    assert forged.code == 403
    allowed = await alice.fetch(method, url, **extra)
    assert allowed.code in (200, 201, 204), allowed.body


async def test_a_websocket_without_a_session_is_refused(
        browsers: Callable[[], Browser]) -> None:
    with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
        await browsers().ws()
    assert refused.value.code == 401


async def test_a_cross_origin_websocket_is_refused_even_with_a_session(alice: Browser) -> None:
    for origin in ("https://evil.example", "null", "http://127.0.0.1.evil.example"):
        with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
            await alice.ws(origin=origin)
        assert refused.value.code == 403
    ws = await alice.ws()  # same origin
    await ws.hello()


async def test_another_users_session_id_is_not_attached(alice: Browser, bob: Browser) -> None:
    mine = await alice.ws()
    welcome = await mine.hello()
    await mine.send({"type": "user_message", "content": "private"})
    await mine.until(is_final_reply)
    theirs = await bob.ws()
    await theirs.send({"type": "hello", "protocolVersion": 1,
                       "sessionId": welcome["sessionId"], "lastSeq": 0})
    error = await theirs.until(lambda e: e["type"] == "error")
    assert error["code"] == "unknown_session"
    other = await theirs.until(lambda e: e["type"] == "welcome")
    assert other["sessionId"] != welcome["sessionId"]
    assert not any(e["type"] in ("step", "token") for e in theirs.events)


async def test_another_users_thread_is_not_resumed(
        served: Served, bob: Browser) -> None:
    s = await seed(served.data, "alice", "private words")
    ws = await bob.ws()
    await ws.send({"type": "hello", "protocolVersion": 1, "resumeThreadId": s.thread_id})
    error = await ws.until(lambda e: e["type"] == "error")
    assert error["code"] == "unknown_thread"
    await ws.until(lambda e: e["type"] == "welcome")
    assert "private words" not in str(ws.events)


async def test_the_author_is_the_signed_in_user_whatever_the_client_claims(
        served: Served, alice: Browser) -> None:
    ws = await alice.ws()
    await ws.hello()
    await ws.send({"type": "user_message", "content": "hi", "author": "Assistant",
                   "type_": "assistant_message"})
    refused = await ws.until(lambda e: e["type"] == "error")
    assert refused["code"] == "bad_event"
    await ws.send({"type": "user_message", "content": "hi"})
    assert await served.probe.received.get() == "hi"
    thread = await ws.until(lambda e: e["type"] == "thread")
    await ws.until(is_final_reply)
    await served.data.flush()
    stored = await served.data.get_thread(thread["id"])
    assert stored is not None
    assert stored["userIdentifier"] == "alice"
    [asked] = [s for s in stored["steps"] if s["type"] == "user_message"]
    assert asked["name"] == "Alice A."
    assert asked["output"] == "hi"


@pytest.mark.parametrize("path", [API + "/threads", API + "/openapi.json", ROOT + "login"])
async def test_no_cors_headers_for_another_origin(alice: Browser, path: str) -> None:
    evil = {"Origin": "https://evil.example"}
    for method in ("GET", "OPTIONS"):
        response = await alice.fetch(method, path, headers=evil)
        allowed = {k.lower() for k in response.headers}
        assert "access-control-allow-origin" not in allowed, (method, path)
        assert "access-control-allow-credentials" not in allowed, (method, path)
