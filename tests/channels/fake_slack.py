"""A local stand-in for Slack's Web API (https://api.slack.com/web), on loopback.

It speaks the wire format slack_sdk's AsyncWebClient uses (form or JSON bodies, a bearer
token, `{"ok": ...}` answers), records every call, and serves the files a test attaches
(`url_private`, token required). `until(predicate)` waits on the recorded calls, woken by
each new one, never by time. Mocked because Slack itself cannot run here.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import tornado.httpserver
import tornado.netutil
import tornado.web

TOKEN = "xoxb-test-token"
SECRET = "signing-secret-for-tests"
TEAM = "T0TEAM"
BOT_USER = "U0BOT"
Call = dict[str, Any]


@dataclass
class FakeSlack:
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    async def record(self, call: Call) -> None:
        async with self.changed:
            self.calls.append(call)
            self.changed.notify_all()

    async def until(self, predicate: Callable[[list[Call]], bool],
                    deadline: float = 20.0) -> list[Call]:
        """The calls so far, once `predicate(calls)` holds."""
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(lambda: predicate(self.calls)),
                                   deadline)
            return list(self.calls)

    def posts(self, channel: str | None = None) -> list[Call]:
        return [c for c in self.calls if c["method"] == "chat.postMessage"
                and (channel is None or c["channel"] == channel)]


class ApiHandler(tornado.web.RequestHandler):
    def initialize(self, fake: FakeSlack) -> None:
        self.fake = fake

    def check_xsrf_cookie(self) -> None:
        """An API, not a page."""

    async def get(self, method: str) -> None:
        await self.post(method)

    async def post(self, method: str) -> None:
        if self.request.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.finish({"ok": False, "error": "invalid_auth"})
            return
        kind = self.request.headers.get("Content-Type", "")
        if self.request.method == "GET":
            args = {k: v[0].decode() for k, v in self.request.query_arguments.items()}
        elif kind.startswith("application/json"):
            args = json.loads(self.request.body or b"{}")
        else:
            args = {k: v[0] for k, v in parse_qs(self.request.body.decode()).items()}
        if isinstance(args.get("blocks"), str):
            args["blocks"] = json.loads(args["blocks"])
        answer: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            answer.update(team_id=TEAM, user_id=BOT_USER, bot_id="B0BOT", team="Tests")
        elif method == "users.info":
            uid = args["user"]
            answer["user"] = {"id": uid, "profile": {
                "email": f"{uid.lower()}@example.com", "real_name": f"Person {uid}"}}
        elif method == "chat.postMessage":
            answer.update(ts=self.fake.next_ts(), channel=args["channel"])
            args["ts"] = answer["ts"]
        elif method in ("conversations.replies", "conversations.history"):
            answer["messages"] = [{"text": c["text"], "ts": c["ts"]}
                                  for c in self.fake.posts(args.get("channel"))]
        await self.fake.record({"method": method, **args})
        self.finish(answer)


class FileHandler(tornado.web.RequestHandler):
    def initialize(self, fake: FakeSlack) -> None:
        self.fake = fake

    def get(self, name: str) -> None:
        if self.request.headers.get("Authorization") != f"Bearer {TOKEN}":
            raise tornado.web.HTTPError(403)
        self.finish(self.fake.files[name])


def start_fake_slack() -> tuple[FakeSlack, tornado.httpserver.HTTPServer]:
    fake = FakeSlack()
    app = tornado.web.Application([
        (r"/api/([\w.]+)", ApiHandler, {"fake": fake}),
        (r"/files/(.+)", FileHandler, {"fake": fake}),
    ])
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    fake.url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}/"
    return fake, server


def signed(body: bytes, *, secret: str = SECRET, at: float | None = None,
           content_type: str = "application/json") -> dict[str, str]:
    """The headers Slack sends with `body`: timestamp and v0 signature."""
    stamp = str(int(time.time() if at is None else at))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + digest.hexdigest(),
            "Content-Type": content_type}


def event(kind: str, *, event_id: str, team: str = TEAM, **fields: Any) -> bytes:
    """An Events API `event_callback` body."""
    return json.dumps({"type": "event_callback", "team_id": team, "event_id": event_id,
                       "api_app_id": "A0APP", "event": {"type": kind, **fields}}).encode()
