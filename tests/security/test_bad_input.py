"""Bad input never cuts a chat (issue 10 §1), on a real `make_app` server.

Text that cannot be sent back or stored (a lone surrogate, NUL), JSON nested 50,000 deep,
a text frame that is not UTF-8, a frame over the size limit, a `resumeThreadId` that is not
an id, a callback that raises while an event is handled: each gets a clear answer (an
`error` event, a 400, a close code), and the session and its stored thread live on.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.config import Config, ProjectConfig, RuntimeConfig
from nbchat.server.standalone import UPLOAD_CHUNK_ROOM
from serve.helpers import WsClient
from serve.test_serve_app import Served

from .conftest import Start, api, connect

LIMIT = 256 * 1024   # room for JSON nested DEEP levels
DEEP = 50_000


def echo_app(failing: list[str]) -> App:
    """Echoes messages; `set_starters` raises while `failing` is not empty."""
    app = App("bad-input")
    with registering_on(app):

        @cl.set_starters
        async def starters(user: Any) -> list[cl.Starter]:
            if failing:
                raise RuntimeError(failing.pop())
            return []

        @cl.on_message
        async def echo(message: cl.Message) -> None:
            await cl.Message(content=f"echo {message.content}").send()

    return app


@pytest.fixture
def failing() -> list[str]:
    return []


@pytest.fixture
async def served(start: Start, tmp_path: Path, failing: list[str]) -> AsyncIterator[Served]:
    config = Config(app_dir=tmp_path, runtime=RuntimeConfig(max_event_bytes=LIMIT),
                    project=ProjectConfig(session_timeout=3600))   # a closed socket waits
    async with start(app=echo_app(failing), config=config) as running:
        yield running


def is_echo(text: str) -> Any:
    return lambda e: (e["type"] == "step" and e["step"]["type"] == "assistant_message"
                      and e["step"]["output"] == f"echo {text}" and not e["step"]["streaming"])


async def chat(ws: WsClient, text: str) -> dict[str, Any]:
    await ws.send({"type": "user_message", "content": text})
    return await ws.until(is_echo(text))


async def stored_thread(served: Served, welcome: dict[str, Any]) -> dict[str, Any]:
    """The thread as stored once its session has ended (everything written)."""
    await served.host.sessions.close(welcome["sessionId"])
    layer = served.host.data_layer
    assert layer is not None
    await layer.flush()
    thread = await layer.get_thread(welcome["threadId"])
    assert thread is not None
    return dict(thread)


async def stored_outputs(served: Served, welcome: dict[str, Any]) -> list[str]:
    thread = await stored_thread(served, welcome)
    assert thread is not None
    return [s["output"] for s in thread["steps"]]


# ---------------------------------------------------------------- text that cannot be kept


async def test_a_lone_surrogate_is_refused_and_reconnect_and_reload_still_work(
        served: Served) -> None:
    ws = await connect(served, "alice")
    welcome = await ws.hello()
    await chat(ws, "before")
    # json.dumps writes the lone surrogate as the escape "\ud800", as a buggy client would.
    await ws.send({"type": "user_message", "content": "cut \ud800 here"})
    error = await ws.until(lambda e: e["type"] == "error")
    assert error["code"] == "bad_text"
    assert "content" in error["message"]
    assert "surrogate" in error["message"]
    await chat(ws, "after")
    last_seq = ws.events[-1]["seq"]
    await ws.close()

    # A reconnect replays what it missed (nothing): no cut, the chat goes on.
    again = await connect(served, "alice")
    await again.send({"type": "hello", "protocolVersion": 1,
                      "sessionId": welcome["sessionId"], "lastSeq": last_seq - 3})
    await again.until(lambda e: e["seq"] == last_seq)
    await chat(again, "reconnected")
    await again.close()

    # A reload of the same session gets welcome and a snapshot with the whole chat.
    reload = await connect(served, "alice")
    assert (await reload.hello(sessionId=welcome["sessionId"]))["sessionId"] == \
        welcome["sessionId"]
    snapshot = await reload.until(lambda e: e["type"] == "snapshot")
    outputs = [s["output"] for s in snapshot["steps"]]
    assert outputs == ["before", "echo before", "after", "echo after", "reconnected",
                       "echo reconnected"]
    await chat(reload, "reloaded")
    await reload.close()
    stored = await stored_outputs(served, welcome)   # ends the session
    assert stored == [*outputs, "reloaded", "echo reloaded"]

    # Reopening the stored thread (a reload after the session ended) shows it all.
    reopened = await connect(served, "alice")
    await reopened.hello(resumeThreadId=welcome["threadId"])
    await reopened.until(lambda e: e["type"] == "thread")
    shown = [e["step"]["output"] for e in reopened.events if e["type"] == "step"]
    assert shown == stored
    await chat(reopened, "resumed")
    await reopened.close()


@pytest.mark.parametrize("bad", [chr(0), chr(0xDC00), chr(0xD83D)],
                         ids=["NUL", "lone low surrogate", "lone high surrogate"])
async def test_unstorable_text_is_refused_wherever_text_enters(served: Served,
                                                               bad: str) -> None:
    ws = await connect(served, "alice")
    welcome = await ws.hello()
    await chat(ws, "kept")
    user_step = next(e["step"]["id"] for e in ws.events if e["type"] == "step"
                     and e["step"]["type"] == "user_message")
    for event in ({"type": "user_message", "content": f"a{bad}b"},
                  {"type": "user_message", "content": "x", "clientId": bad},
                  {"type": "edit_message", "id": user_step, "content": f"edited{bad}"},
                  {"type": "settings_update", "settings": {"k": f"v{bad}"}},
                  {"type": "settings_update", "settings": {f"k{bad}": 1}},
                  {"type": "upload_start", "uploadId": "u1", "name": f"n{bad}.txt",
                   "mime": "text/plain", "size": 1},
                  {"type": "feedback", "stepId": user_step, "value": 1, "comment": bad}):
        await ws.send(event)
        error = await ws.until(lambda e: e["type"] == "error")
        assert error["code"] == "bad_text", (event, error)
    await chat(ws, "alive")
    await ws.close()
    assert await stored_outputs(served, welcome) == [
        "kept", "echo kept", "alive", "echo alive"]


async def test_rest_bodies_refuse_unstorable_text_and_deep_json(served: Served) -> None:
    ws = await connect(served, "alice")
    welcome = await ws.hello()
    await chat(ws, "hi")
    await ws.close()
    path = f"/threads/{welcome['threadId']}"
    for raw, words in ((json.dumps({"name": "a\ud800"}).encode(), "surrogate"),
                       (json.dumps({"name": "a\x00"}).encode(), "NUL"),
                       (b'{"name": ' + b"[" * DEEP + b"]" * DEEP + b"}", "nested"),
                       (b'{"name": NaN}', "NaN")):
        response = await api(served, "alice", "PATCH", path, raw=raw,
                             headers={"Content-Type": "application/json"})
        assert response.code == 400, response.body
        assert words in json.loads(response.body)["error"]["message"]
    thread = json.loads((await api(served, "alice", "GET", path)).body)
    assert thread["name"] in (None, "hi")   # unchanged: still the first message's


# ---------------------------------------------------------------- deep JSON


async def test_json_nested_50000_deep_is_bad_json_everywhere(served: Served) -> None:
    deep = "[" * DEEP + "]" * DEEP
    ws = await connect(served, "alice")
    # As the first frame, before any session exists.
    await ws.conn.write_message('{"type": "hello", "protocolVersion": 1, "x": ' + deep + "}")
    assert (await ws.until(lambda e: e["type"] == "error"))["code"] == "bad_json"
    await ws.hello()
    # As a text event of a started session, and as a binary frame's JSON header.
    await ws.conn.write_message('{"type": "user_message", "content": "x", "fileIds": '
                                + deep + "}")
    assert (await ws.until(lambda e: e["type"] == "error"))["code"] == "bad_json"
    header = ('{"type": "upload_chunk", "uploadId": ' + deep + "}").encode()
    await ws.conn.write_message(struct.pack("!I", len(header)) + header + b"bytes",
                                binary=True)
    assert (await ws.until(lambda e: e["type"] == "error"))["code"] == "bad_json"
    await chat(ws, "alive")
    await ws.close()


# ---------------------------------------------------------------- errors while handling


async def test_an_exception_while_handling_an_event_is_an_error_event(
        served: Served, failing: list[str]) -> None:
    failing.append("the starters service is down")
    ws = await connect(served, "alice")
    await ws.send({"type": "hello", "protocolVersion": 1})
    error = await ws.until(lambda e: e["type"] == "error")
    assert error["code"] == "internal_error"
    assert "hello" in error["message"]
    assert "RuntimeError" in error["message"]
    # Same connection: the session is alive, and hello works once the callback does.
    await ws.hello()
    await chat(ws, "alive")
    await ws.close()


async def test_resuming_something_that_is_not_an_id_is_unknown_thread(served: Served) -> None:
    for junk in ("../../etc/passwd", "a b", "", "x" * 500):
        fresh = await connect(served, "alice")
        await fresh.hello(resumeThreadId=junk)
        error = await fresh.until(lambda e: e["type"] == "error")
        assert error["code"] == "unknown_thread", (junk, error)
        await chat(fresh, "new chat")
        await fresh.close()


# ---------------------------------------------------------------- clientId


async def test_client_id_comes_back_on_the_echoed_user_message(served: Served) -> None:
    ws = await connect(served, "alice")
    welcome = await ws.hello()
    await ws.send({"type": "user_message", "content": "mine", "clientId": "m_42"})
    await ws.until(is_echo("mine"))
    steps = [e for e in ws.events if e["type"] == "step"]
    echoed = [e for e in steps if e["step"]["type"] == "user_message"]
    assert [(e["clientId"], e["step"]["output"]) for e in echoed] == [("m_42", "mine")]
    assert all("clientId" not in e for e in steps if e not in echoed)
    await chat(ws, "no id")
    assert "clientId" not in ws.events[-2]
    await ws.close()
    assert "m_42" not in json.dumps(await stored_thread(served, welcome))   # not stored


# ---------------------------------------------------------------- close codes (RFC 6455)


class RawSocket:
    """A WebSocket client written by hand, to send what no client library lets one send."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, served: Served, user: str) -> RawSocket:
        url = urlparse(served.ws)
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                      f"Origin: http://{url.netloc}\r\nX-Test-User: {user}\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    def send(self, opcode: int, payload: bytes) -> None:
        """One final, masked frame. The key is zeros (valid, and masking leaves the bytes
        as they are: no per-byte work for megabytes)."""
        size = len(payload)
        length = (bytes([0x80 | size]) if size < 126 else
                  bytes([0x80 | 126]) + struct.pack("!H", size) if size <= 0xFFFF else
                  bytes([0x80 | 127]) + struct.pack("!Q", size))
        self.writer.write(bytes([0x80 | opcode]) + length + bytes(4) + payload)

    async def frame(self) -> tuple[int, bytes]:
        first, second = await asyncio.wait_for(self.reader.readexactly(2), 10)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return first & 0x0F, await self.reader.readexactly(size)

    async def close_frame(self) -> tuple[int, str]:
        """Read frames up to the close frame: its code and reason."""
        while True:
            opcode, payload = await self.frame()
            if opcode == 0x8:
                return struct.unpack("!H", payload[:2])[0], payload[2:].decode()

    async def welcome(self) -> dict[str, Any]:
        self.send(0x1, b'{"type": "hello", "protocolVersion": 1}')
        while True:
            opcode, payload = await self.frame()
            assert opcode == 0x1
            for event in json.loads(payload):
                if event["type"] == "welcome":
                    return dict(event)


async def resume(served: Served, welcome: dict[str, Any]) -> None:
    """A reconnect with the session id finds the same session, and it still chats."""
    again = await connect(served, "alice")
    assert (await again.hello(sessionId=welcome["sessionId"]))["sessionId"] == \
        welcome["sessionId"]
    await chat(again, "still here")
    await again.close()


async def test_a_text_frame_that_is_not_utf8_closes_with_1007(served: Served) -> None:
    raw = await RawSocket.open(served, "alice")
    welcome = await raw.welcome()
    raw.send(0x1, b'{"type": "user_message", "content": "\xff\xfe"}')
    code, reason = await raw.close_frame()
    assert (code, "UTF-8" in reason) == (1007, True), reason
    assert await asyncio.wait_for(raw.reader.read(), 10) == b""   # then the stream ends
    raw.writer.close()
    await resume(served, welcome)


async def test_a_frame_over_the_size_limit_closes_with_1009(served: Served) -> None:
    raw = await RawSocket.open(served, "alice")
    welcome = await raw.welcome()
    # Like a browser, write the whole frame before reading. The server stops reading at
    # the header; had it closed the socket then, what arrives after would be answered
    # with a reset, and the reset would throw away the close frame before it is read.
    raw.send(0x1, b"y" * (LIMIT + UPLOAD_CHUNK_ROOM + 1))
    await raw.writer.drain()
    assert await raw.close_frame() == (1009, "message too big")
    assert await asyncio.wait_for(raw.reader.read(), 10) == b""
    raw.writer.close()
    await resume(served, welcome)
