"""`mount_chainlit`: the chat inside the app's own FastAPI app, served by uvicorn (a real
ASGI server in this process, on a real port), over HTTP and the chat's WebSocket; nbchat's
Host guard and security headers still apply behind the mount."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import pytest
import uvicorn

from serve.helpers import DEADLINE, WsClient, fetch

APP = Path(__file__).with_name("mounted_app.py")


def _load_main() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mounted_app", APP)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def base() -> AsyncIterator[str]:
    main = _load_main()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(main.app, lifespan="on", log_level="warning"))
    started = asyncio.Event()
    startup = server.startup

    async def startup_then_signal(sockets: list[socket.socket] | None = None) -> None:
        await startup(sockets)
        started.set()

    server.startup = startup_then_signal  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await asyncio.wait_for(started.wait(), DEADLINE)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, DEADLINE)
        sock.close()


async def test_the_apps_own_route_and_the_mounted_page_side_by_side(base: str) -> None:
    own = await fetch(base + "/app")
    assert json.loads(own.body) == {"message": "the app's own route"}
    page = await fetch(base + "/chat/")
    assert page.code == 200
    assert b'/chat/static/page.js' in page.body  # the page knows its root
    assert page.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers.get_list("Server") == ["uvicorn"]  # one server's headers, not two
    health = await fetch(base + "/chat/health")
    assert json.loads(health.body)["app"] == "mounted_chat.py"


async def test_the_host_guard_judges_the_clients_host_behind_the_mount(base: str) -> None:
    refused = await fetch(base + "/chat/health", headers={"Host": "evil.example"})
    assert refused.code == 403
    assert json.loads(refused.body)["error"]["code"] == "host_not_allowed"


async def test_the_mounted_chat_talks_over_its_websocket(base: str) -> None:
    ws = base.replace("http://", "ws://") + "/chat/ws"
    client = await WsClient.connect(ws)
    try:
        await client.hello()
        await client.until(lambda e: e["type"] == "step"
                           and e["step"]["output"] == "mounted chat ready")
        reply = await client.reply("hi")
        assert reply["step"]["output"] == "echo: hi"
    finally:
        await client.close()


async def test_a_websocket_from_a_foreign_host_is_refused_behind_the_mount(base: str) -> None:
    ws = base.replace("http://", "ws://") + "/chat/ws"
    with pytest.raises(Exception, match="403"):
        await WsClient.connect(ws, headers={"Host": "evil.example"})
