"""`mount_chainlit`: the chat inside the app's own FastAPI app, served by uvicorn (a real
ASGI server in this process, on a real port), over HTTP and the chat's WebSocket; nbchat's
Host guard and security headers still apply behind the mount."""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import logging
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest
import uvicorn

from serve.helpers import DEADLINE, WsClient, fetch

APP = Path(__file__).with_name("mounted_app.py")


def _load_main(folder: Path) -> ModuleType:
    """mounted_app.py and its chat copied into `folder` (the chat's data lands there)."""
    for name in (APP.name, "mounted_chat.py"):
        shutil.copy(APP.with_name(name), folder / name)
    spec = importlib.util.spec_from_file_location("mounted_app", folder / APP.name)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def base(tmp_path: Path) -> AsyncIterator[str]:
    main = _load_main(tmp_path)
    # IPPROTO_TCP, as getaddrinfo gives it: asyncio sets TCP_NODELAY only on such sockets.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # proxy_headers off: uvicorn would otherwise believe X-Forwarded-For from loopback,
    # where the tests' client is (its --forwarded-allow-ips default).
    server = uvicorn.Server(uvicorn.Config(main.app, lifespan="on", log_level="warning",
                                           proxy_headers=False))
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


async def test_request_bodies_cross_the_mount_to_the_chats_own_route(base: str) -> None:
    # uvicorn → the mount → the private nbchat server → the chat app's FastAPI route, and
    # back: a body in one piece, and one the client streams in chunks (no length).
    data = bytes(range(256)) * 6000  # 1.5 MB, under server.max_body_bytes
    expected = {"length": len(data), "sha256": hashlib.sha256(data).hexdigest()}

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 64 * 1024):
            yield data[start:start + 64 * 1024]

    async with httpx.AsyncClient(timeout=DEADLINE) as client:
        whole = await client.post(base + "/chat/digest", content=data)
        streamed = await client.post(base + "/chat/digest", content=chunks())
    assert whole.json() == expected
    assert streamed.json() == expected
    assert whole.headers["x-content-type-options"] == "nosniff"  # nbchat's, on the app's route


async def test_the_private_server_sees_the_client_the_asgi_server_saw(
        base: str, caplog: pytest.LogCaptureFixture) -> None:
    # The mount replaces what the client claims (X-Forwarded-For) with the client uvicorn
    # saw (scope["client"]), and the private server believes that from its Unix socket
    # peer only.
    caplog.set_level(logging.INFO, logger="tornado.access")
    await fetch(base + "/chat/health", headers={"X-Forwarded-For": "203.0.113.9"})
    [line] = [r.getMessage() for r in caplog.records
              if r.name == "tornado.access" and "/chat/health" in r.getMessage()]
    assert "(127.0.0.1)" in line
    assert "203.0.113.9" not in line
