"""A real `nbchat serve` (start_server: its HTTPServer, make_app, config from nbchat.yaml) on a
free loopback port, for the network attack tests; raw-socket helpers that never sleep."""

from __future__ import annotations

import asyncio
import contextlib
import io
import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from nbchat.server.serve import RunningServer, ServeOptions, start_server
from serve_auth.served import ROOT, SECRET, Browser, Served

DEADLINE = 10.0
APP = '''
import nbchat as cl

PASSWORDS = {"alice": "alice-pw", "bob": "bob-pw"}

if LOGIN:
    @cl.password_auth_callback
    def check(username, password):
        if PASSWORDS.get(username) != password:
            return None
        return cl.User(identifier=username, metadata={"role": "user"})

@cl.on_message
async def reply(message: cl.Message):
    if message.content == "hi":  # what serve_auth.test_live_uploads.asked sends
        await cl.AskFileMessage(content="a text file, please", accept=["text/plain"],
                                max_size_mb=1, timeout=60).send()
        return
    await cl.Message(content=f"echo {message.content}").send()
'''


@dataclass
class Target:
    """What serve_auth's Browser needs of a server: its port and origin."""

    port: int

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.asynccontextmanager
async def served_app(folder: Path, monkeypatch: pytest.MonkeyPatch, *, login: bool,
                     server: dict[str, Any] | None = None,
                     host: str = "127.0.0.1") -> AsyncIterator[RunningServer]:
    """`nbchat serve app.py` under the root `/a%40b/`, with `server:` keys in nbchat.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(f"LOGIN = {login}\n" + textwrap.dedent(APP))
    if server:
        (folder / "nbchat.yaml").write_text(yaml.safe_dump({"server": server}))
    if login:
        monkeypatch.setenv("NBCHAT_AUTH_SECRET", SECRET)
    running = await start_server(ServeOptions(folder / "app.py", host=host, port=0,
                                              root_path=ROOT), out=io.StringIO())
    try:
        yield running
    finally:
        await running.stop()


def browser(running: RunningServer) -> Browser:
    return Browser(cast(Served, Target(running.port)))


async def raw(port: int, data: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A raw connection that has sent `data` (and keeps its write side open)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    return reader, writer


async def server_closes(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection (fails if it never does)."""
    return await asyncio.wait_for(reader.read(), DEADLINE)
