"""A Chainlit app's own HTTP routes (`chainlit.server.app`) served by `nbchat serve`, with
nbchat's login on them (session cookie and `create_jwt` bearer tokens), its security
headers, and its Host guard. A real `nbchat serve` process; real HTTP and WebSocket."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from serve.helpers import WsClient, fetch
from serve.test_serve_cli import Process

from .served import SECRET, cookie_header, env, sign_in, start, stop

APP = Path(__file__).with_name("routes_app.py")


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[str]:
    shutil.copy(APP, tmp_path / "app.py")
    # allowed_hosts turns the Host guard on for an app with login (network.py).
    process: Process = await start(tmp_path / "app.py", env(
        NBCHAT_AUTH_SECRET=SECRET, NBCHAT_SERVER_ALLOWED_HOSTS="localhost"))
    try:
        yield (await process.line(r"at (http://\S+)")).group(1)
    finally:
        await stop(process)


async def test_a_public_route_answers_with_the_pages_security_headers(served: str) -> None:
    response = await fetch(served + "custom/hello?name=ada")
    assert response.code == 200
    assert json.loads(response.body) == {"hello": "ada"}
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


async def test_a_streamed_response_arrives_whole(served: str) -> None:
    response = await fetch(served + "custom/count")
    assert response.code == 200
    assert response.body == b"0\n1\n2\n"


async def test_nbchat_keeps_its_own_routes_and_its_404(served: str) -> None:
    health = await fetch(served + "health")
    assert json.loads(health.body)["app"] == "app.py"
    missing = await fetch(served + "custom/nothing")
    assert missing.code == 404


async def test_the_host_guard_applies_to_the_apps_routes(served: str) -> None:
    refused = await fetch(served + "custom/hello", headers={"Host": "evil.example"})
    assert refused.code == 403
    assert json.loads(refused.body)["error"]["code"] == "host_not_allowed"


async def test_get_current_user_is_the_signed_in_user_of_the_chat(served: str) -> None:
    anonymous = await fetch(served + "custom/me")
    assert anonymous.code == 401
    jar = await sign_in(served, "alice")
    me = await fetch(served + "custom/me", headers={"Cookie": cookie_header(jar)})
    assert me.code == 200, me.body
    # The metadata the login callback returned, looked up by the server (not the cookie).
    assert json.loads(me.body) == {"identifier": "alice", "metadata": {"role": "admin"}}


async def test_a_create_jwt_token_signs_in_on_routes_and_on_the_chat_socket(
        served: str) -> None:
    jar = await sign_in(served, "alice")
    issued = await fetch(served + "custom/token", method="POST", body=json.dumps({"for": "bot"}),
                         headers={"Cookie": cookie_header(jar),
                                  "Content-Type": "application/json"})
    assert issued.code == 200, issued.body
    token = json.loads(issued.body)["token"]

    me = await fetch(served + "custom/me", headers={"Authorization": f"Bearer {token}"})
    assert json.loads(me.body)["identifier"] == "bot"
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    refused = await fetch(served + "custom/me", headers={"Authorization": f"Bearer {forged}"})
    assert refused.code == 401
    # nbchat's own API takes it as well (Chainlit's Authorization header).
    threads = await fetch(served + "nbchat/api/threads",
                          headers={"Authorization": f"Bearer {token}"})
    assert threads.code == 200, threads.body

    # Chainlit's access_token cookie opens the chat's WebSocket as that user.
    client = await WsClient.connect(served.replace("http://", "ws://") + "ws", headers={
        "Cookie": f"access_token={token}", "Origin": served.rstrip("/")})
    try:
        welcome = await client.hello()
        assert welcome["user"]["identifier"] == "bot"
        await client.until(lambda e: e["type"] == "step" and e["step"]["output"] == "hello bot")
    finally:
        await client.close()
