"""What the other folders did not cover yet (see README.md): feedback, edit and action
events that name another user's step over the WebSocket; an expired session cookie at the
WebSocket upgrade; no CORS headers anywhere on the `make_app` server; loopback as the
default bind of both the command line and the Python interface."""

from __future__ import annotations

import time
from pathlib import Path
from unittest import mock

import pytest
import tornado.httpclient

from nbchat import cli
from nbchat.server.auth.cookies import DEFAULT_MAX_AGE, SESSION_COOKIE, encode_session
from nbchat.server.serve import ServeOptions
from nbchat.types import User
from serve.helpers import fetch
from serve_auth.served import SECRET, Probe, login_app
from serve_auth.served import serve as serve_with_login

from .conftest import Start, connect


async def test_events_naming_another_users_step_change_nothing(start: Start) -> None:
    async with start() as served:
        alice = await connect(served, "alice")
        alice_session = (await alice.hello())["sessionId"]
        reply = await alice.reply("rate me")
        step_id = reply["step"]["id"]
        await alice.send({"type": "feedback", "stepId": step_id, "value": 1})
        await alice.until(lambda e: e["type"] == "feedback")
        user_step = next(e["step"]["id"] for e in alice.events if e["type"] == "step"
                         and e["step"]["type"] == "user_message")
        assert served.host.data_layer is not None

        eve = await connect(served, "eve")
        await eve.hello()
        for event in ({"type": "feedback", "stepId": step_id, "value": 0},
                      {"type": "feedback_delete", "stepId": step_id},
                      {"type": "edit_message", "id": user_step, "content": "hijacked"},
                      {"type": "action", "id": step_id}):
            await eve.send(event)
            error = await eve.until(lambda e: e["type"] == "error")
            assert error["code"].startswith("unknown_"), (event, error)
        assert (await eve.reply("mine"))["step"]["type"] == "assistant_message"
        await alice.close()
        # A closed socket leaves the session waiting for a reconnect (session_timeout), and
        # the "feedback" event reaches alice before the recorder's writer task stores it:
        # only ending the session waits for its queued writes.
        await served.host.sessions.close(alice_session)
        await served.host.data_layer.flush()
        stored = await served.host.data_layer.export_feedback()
        assert [(f["forId"], f["value"]) for f in stored] == [(step_id, 1)]
        thread = await served.host.data_layer.get_thread(reply["step"]["threadId"])
        assert thread is not None
        assert "hijacked" not in str(thread)
        await eve.close()


async def test_an_expired_session_cookie_cannot_open_a_websocket(tmp_path: Path) -> None:
    probe = Probe()
    async with serve_with_login(tmp_path, login_app(probe), probe) as served:
        alice = User("alice", "Alice A.", {"role": "user"})
        await served.data.create_user(alice)
        now = time.time()
        expired = encode_session(SECRET, alice, clock=lambda: now - DEFAULT_MAX_AGE - 60)
        browser = served.browser()
        browser.cookies[SESSION_COOKIE] = expired
        with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
            await browser.ws()
        assert refused.value.code == 401
        await browser.close()


async def test_no_cors_headers_anywhere_on_the_served_app(start: Start) -> None:
    async with start() as served:
        ws = await connect(served, "alice")
        welcome = await ws.hello()
        await ws.reply("picture")
        key = next(e["element"]["objectKey"] for e in ws.events if e["type"] == "element")
        await ws.close()
        paths = ["", "health", "static/page.js", "nbchat/api/threads",
                 "nbchat/api/openapi.json", f"nbchat/blobs/{welcome['sessionId']}/{key}"]
        for path in paths:
            for method in ("GET", "OPTIONS"):
                r = await fetch(served.base + path, method=method, headers={
                    "X-Test-User": "alice", "Origin": "https://evil.example",
                    "Access-Control-Request-Method": "GET"})
                names = {k.lower() for k in r.headers}
                assert not {n for n in names if n.startswith("access-control-")}, (
                    method, path, r.headers)


def test_the_default_bind_is_loopback() -> None:
    assert ServeOptions(Path("app.py")).host == "127.0.0.1"
    # Only the command line's parsing is under test: the server neither loads nor runs.
    with mock.patch("nbchat.server.serve.serve", new=mock.Mock()) as serve, \
            mock.patch("nbchat.server.serve.run") as run:
        assert cli.main(["serve", "app.py"]) == 0
        run.assert_called_once()
        run.call_args.args[0]()  # the coroutine factory cli handed to run
    options = serve.call_args.args[0]
    assert options.host == "127.0.0.1"
