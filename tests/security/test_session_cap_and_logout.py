"""Sessions (issue 10 §3.3 and §3.4) on a real `nbchat serve`: one user's live sessions are
capped, and logout ends the WebSockets opened with the signed-out cookie session."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import tornado.httpclient

from nbchat.server.auth.cookies import CookieIdentity
from nbchat.types import PersistedUser
from serve_auth.served import ROOT, Browser
from wsclient import WsClient

from .served_app import DEADLINE, browser, served_app


async def closed(owner: Browser, ws: WsClient) -> tuple[int | None, str | None]:
    """Waits for the socket to close; its close code and reason (the browser, whose
    `close` would wait for the end again, forgets it)."""
    while await asyncio.wait_for(ws.conn.read_message(), DEADLINE) is not None:
        pass
    owner.sockets.remove(ws.conn)
    ws.conn.close()  # the client's side of it (tornado warns about a connection left open)
    return ws.conn.close_code, ws.conn.close_reason


async def test_logout_closes_that_sessions_sockets_and_no_other(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with served_app(tmp_path, monkeypatch, login=True) as running:
        laptop, phone = browser(running), browser(running)
        assert (await laptop.login("alice")).code == 303
        assert (await phone.login("alice")).code == 303  # the same user, another session
        first, second = await laptop.ws(), await laptop.ws()
        other = await phone.ws()
        for ws in (first, second, other):
            await ws.hello()
        await first.send({"type": "user_message", "content": "before"})
        await first.until(lambda e: e["type"] == "step" and e["step"]["output"] == "echo before")

        assert (await laptop.fetch("POST", ROOT + "logout")).code == 303
        assert await closed(laptop, first) == (4401, "signed out")
        assert await closed(laptop, second) == (4401, "signed out")
        await other.send({"type": "user_message", "content": "still here"})
        await other.until(lambda e: e["type"] == "step"
                          and e["step"]["output"] == "echo still here")
        await laptop.close()
        await phone.close()


async def test_a_socket_signed_out_while_its_user_is_looked_up_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with served_app(tmp_path, monkeypatch, login=True) as running:
        laptop = browser(running)
        assert (await laptop.login("alice")).code == 303
        identity = running.identity
        assert isinstance(identity, CookieIdentity)
        assert identity.data is not None
        identity._known.clear()  # the upgrade's user lookup goes to the data layer…
        looking, go_on = asyncio.Event(), asyncio.Event()
        lookup = identity.data.get_user

        async def held(identifier: str) -> PersistedUser | None:
            looking.set()
            await go_on.wait()  # …and is held there while the browser signs out
            found: PersistedUser | None = await lookup(identifier)
            return found

        monkeypatch.setattr(identity.data, "get_user", held)
        upgrade = asyncio.ensure_future(laptop.ws())
        await looking.wait()
        assert (await laptop.fetch("POST", ROOT + "logout")).code == 303
        go_on.set()
        with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
            await upgrade
        assert refused.value.code == 401
        await laptop.close()


async def test_a_users_sessions_are_capped_oldest_idle_one_closed_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = {"max_sessions_per_user": 2}
    async with served_app(tmp_path, monkeypatch, login=True, server=server) as running:
        alice, bob = browser(running), browser(running)
        assert (await alice.login("alice")).code == 303
        assert (await bob.login("bob")).code == 303
        one, two, three = await alice.ws(), await alice.ws(), await alice.ws()
        first = (await one.hello())["sessionId"]
        await two.hello()
        await three.send({"type": "hello", "protocolVersion": 1})
        refused = await three.until(lambda e: e["type"] == "error")
        assert refused["code"] == "too_many_sessions"
        assert "server.max_sessions_per_user" in refused["message"]
        assert not any(e["type"] == "welcome" for e in three.events)
        await (await bob.ws()).hello()  # another user's cap is their own

        one.conn.close()  # its session now only waits for a reconnect: the oldest idle one
        await closed(alice, one)
        welcome = await three.hello()
        assert welcome["sessionId"] != first
        assert running.host.sessions.get(first) is None  # closed to make room
        back = await alice.ws()
        await back.send({"type": "hello", "protocolVersion": 1, "sessionId": first})
        gone = await back.until(lambda e: e["type"] == "error")
        assert gone["code"] == "unknown_session"  # closed; and no room for a new one:
        full = await back.until(lambda e: e["type"] == "error" and e is not gone)
        assert full["code"] == "too_many_sessions"
        mine = [s for s in running.host.sessions.sessions.values()
                if s.user is not None and s.user.identifier == "alice"]
        assert len(mine) == 2
        await alice.close()
        await bob.close()
