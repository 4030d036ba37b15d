"""Uploads whose bytes go over HTTP (`PUT {api}/uploads/{ticket}`) into a live chat:
the happy path into an AskFileMessage, and every way to misuse a ticket."""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path
from typing import Any

import pytest

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.config import Config
from nbchat.runtime.hosting import ChatHost
from nbchat.server import SingleUserIdentity
from nbchat.server.standalone import make_app
from wsclient import WsClient

from .served import API, PASSWORDS, Browser, Probe, Served, body, serve

NOTE = b"one two three\n"


def upload_app() -> App:
    app = App("uploads")
    with registering_on(app):

        @cl.password_auth_callback
        def check(username: str, password: str) -> cl.User | None:
            return cl.User(identifier=username) if PASSWORDS.get(username) == password else None

        @cl.on_message
        async def ask(message: cl.Message) -> None:
            files = await cl.AskFileMessage(content="a text file, please", accept=["text/plain"],
                                            max_size_mb=1, timeout=60).send()
            if files:
                text = Path(files[0].path).read_bytes().decode()
                await cl.Message(content=f"got {files[0].name}: {text!r}").send()

    return app


@pytest.fixture
async def served(tmp_path: Path, probe: Probe) -> Any:
    async with serve(tmp_path, upload_app(), probe) as running:
        yield running


async def asked(browser: Browser) -> WsClient:
    ws = await browser.ws()
    welcome = await ws.hello()
    assert welcome["httpUploads"] is True
    await ws.send({"type": "user_message", "content": "hi"})
    await ws.until(lambda e: e["type"] == "ask")
    return ws


async def ticket_for(ws: WsClient, upload_id: str, size: int = len(NOTE)) -> str:
    await ws.send({"type": "upload_start", "uploadId": upload_id, "name": "notes.txt",
                   "mime": "text/plain", "size": size, "via": "http"})
    event = await ws.until(lambda e: e["type"] == "upload_ticket" and e["uploadId"] == upload_id)
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", event["ticket"])
    return str(event["ticket"])


async def put(browser: Browser, ticket: str, data: bytes = NOTE, **kwargs: Any) -> Any:
    return await browser.fetch("PUT", f"{API}/uploads/{ticket}", raw=data,
                               headers={"Content-Type": "application/octet-stream"}, **kwargs)


async def answer(ws: WsClient, upload_id: str) -> dict[str, Any]:
    """upload_end → upload_done → the ask answered with the file → the app's reply."""
    await ws.send({"type": "upload_end", "uploadId": upload_id})
    done = await ws.until(lambda e: e["type"] == "upload_done" and e["uploadId"] == upload_id)
    ask = next(e for e in ws.events if e["type"] == "ask")
    await ws.send({"type": "ask_response", "askId": ask["askId"],
                   "fileIds": [done["fileId"]]})
    return await ws.until(lambda e: e["type"] == "step"
                          and e["step"]["output"].startswith("got "))


async def test_the_bytes_of_an_asked_file_arrive_over_http(served: Served, alice: Browser) -> None:
    ws = await asked(alice)
    ticket = await ticket_for(ws, "u1")
    response = await put(alice, ticket)
    assert response.code == 200, response.body
    assert body(response) == {"size": len(NOTE)}
    reply = await answer(ws, "u1")
    assert reply["step"]["output"] == f"got notes.txt: {NOTE.decode()!r}"
    # A ticket works once.
    again = await put(alice, ticket)
    assert again.code == 404
    assert body(again)["error"]["code"] == "unknown_ticket"


async def test_a_ticket_is_useless_to_another_user_and_to_no_user(
        served: Served, alice: Browser, bob: Browser, browsers: Any) -> None:
    ws = await asked(alice)
    ticket = await ticket_for(ws, "u1")
    stolen = await put(bob, ticket)
    assert stolen.code == 404
    assert body(stolen)["error"]["code"] == "unknown_ticket"
    anonymous = browsers()
    await anonymous.login_page()  # an XSRF cookie, but no session
    refused = await put(anonymous, ticket)
    assert refused.code == 401
    no_xsrf = await put(alice, ticket, xsrf=False)
    assert no_xsrf.code == 403
    # None of that used the ticket up: alice's upload still goes through.
    assert (await put(alice, ticket)).code == 200
    reply = await answer(ws, "u1")
    assert reply["step"]["output"].startswith("got notes.txt")


async def test_more_bytes_than_declared_are_refused_and_the_chat_goes_on(
        served: Served, alice: Browser) -> None:
    ws = await asked(alice)
    ticket = await ticket_for(ws, "u1", size=4)
    refused = await put(alice, ticket)  # 14 bytes, Content-Length says so: refused up front
    assert refused.code == 413
    assert "at most 4" in body(refused)["error"]["message"]
    await ws.send({"type": "upload_end", "uploadId": "u1"})
    error = await ws.until(lambda e: e["type"] == "error")
    assert error["code"] == "upload_rejected"
    # Same session, same ask: a correct upload still answers it.
    ticket = await ticket_for(ws, "u2")
    assert (await put(alice, ticket)).code == 200
    reply = await answer(ws, "u2")
    assert reply["step"]["output"] == f"got notes.txt: {NOTE.decode()!r}"


async def test_the_limit_is_enforced_while_the_body_streams(served: Served,
                                                           alice: Browser) -> None:
    ws = await asked(alice)
    ticket = await ticket_for(ws, "u1", size=10)
    # Chunked transfer: no Content-Length to refuse up front, so the size check on the
    # streamed bytes must catch it.
    async def chunks(write: Any) -> None:
        for _ in range(4):
            await write(b"x" * 8)

    import tornado.httpclient

    request = tornado.httpclient.HTTPRequest(
        # tornado documents a coroutine function as a body_producer; its annotation only
        # names a function returning a Future.
        served.origin + f"{API}/uploads/{ticket}", method="PUT",
        body_producer=chunks,  # type: ignore[arg-type]
        headers={"Cookie": alice.cookie_header(), "X-XSRFToken": alice.cookies["_xsrf"]})
    response = await alice.client.fetch(request, raise_error=False)
    assert response.code == 413
    assert "larger than declared or allowed" in body(response)["error"]["message"]
    await ws.send({"type": "upload_end", "uploadId": "u1"})
    assert (await ws.until(lambda e: e["type"] == "error"))["code"] == "upload_rejected"


async def test_a_body_cut_short_stores_nothing(served: Served, alice: Browser) -> None:
    ws = await asked(alice)
    ticket = await ticket_for(ws, "u1", size=100)
    head = (f"PUT {API}/uploads/{ticket} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Cookie: {alice.cookie_header()}\r\nX-XSRFToken: {alice.cookies['_xsrf']}\r\n"
            "Content-Length: 100\r\n\r\n").encode() + b"y" * 40
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    writer.write(head)
    await writer.drain()
    writer.transport.get_extra_info("socket").shutdown(socket.SHUT_WR)
    assert await reader.read() == b""  # the server dropped the connection
    writer.close()
    await ws.send({"type": "upload_end", "uploadId": "u1"})
    error = await ws.until(lambda e: e["type"] == "error")
    assert error["code"] == "upload_rejected"
    assert "not arrived" in error["message"] or "no upload" in error["message"]


async def test_an_upload_start_over_the_ask_limit_gets_no_ticket(served: Served,
                                                                 alice: Browser) -> None:
    ws = await asked(alice)
    await ws.send({"type": "upload_start", "uploadId": "big", "name": "notes.txt",
                   "mime": "text/plain", "size": 5 * 1024 * 1024, "via": "http"})
    error = await ws.until(lambda e: e["type"] == "error")
    assert error["code"] == "upload_rejected"
    assert not any(e["type"] == "upload_ticket" for e in ws.events)


async def test_served_without_persistence_still_takes_http_uploads(free_port: int) -> None:
    import tornado.httpclient
    import tornado.httpserver
    import tornado.websocket

    app = upload_app()
    host = ChatHost(app, Config())
    application = make_app(app, Config(), host=host, services=None,
                           identity=SingleUserIdentity("local"), headless=True)
    server = tornado.httpserver.HTTPServer(application)
    server.listen(free_port, "127.0.0.1")
    origin = f"127.0.0.1:{free_port}"
    conn = await tornado.websocket.websocket_connect(tornado.httpclient.HTTPRequest(
        f"ws://{origin}/ws", headers={"Origin": f"http://{origin}"}))
    ws = WsClient(conn)
    try:
        assert (await ws.hello())["httpUploads"] is True
        await ws.send({"type": "user_message", "content": "hi"})
        await ws.until(lambda e: e["type"] == "ask")
        ticket = await ticket_for(ws, "u1")
        client = tornado.httpclient.AsyncHTTPClient(force_instance=True)
        # Headless serving without login has no XSRF cookie to echo: it takes a form
        # field or header, so fetch one the way the page does (the cookie tornado sets).
        response = await client.fetch(f"http://{origin}/nbchat/api/uploads/{ticket}",
                                      method="PUT", body=NOTE, raise_error=False,
                                      headers={"X-XSRFToken": "t", "Cookie": "_xsrf=t"})
        client.close()
        assert response.code == 200, response.body
        reply = await answer(ws, "u1")
        assert reply["step"]["output"] == f"got notes.txt: {NOTE.decode()!r}"
    finally:
        conn.close()
        server.stop()
        await host.close()


async def test_a_cancelled_upload_revokes_its_ticket(served: Served, alice: Browser) -> None:
    ws = await asked(alice)
    ticket = await ticket_for(ws, "u1")
    await ws.send({"type": "upload_cancel", "uploadId": "u1"})
    await ws.send({"type": "upload_end", "uploadId": "u1"})  # no such upload any more
    error = await ws.until(lambda e: e["type"] == "error")
    assert error["code"] == "upload_rejected"
    assert (await put(alice, ticket)).code == 404
