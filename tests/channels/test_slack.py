"""Slack, for real over HTTP: `nbchat serve` (a subprocess, Slack configured by Chainlit's
variables) answers signed Events API requests POSTed to it, and its replies reach a local
fake of Slack's Web API (fake_slack.py) through slack_sdk's own client."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import pytest_asyncio
import tornado.httpclient

from channels.fake_slack import (
    BOT_USER,
    SECRET,
    TEAM,
    TOKEN,
    FakeSlack,
    event,
    signed,
    start_fake_slack,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")
HERE = Path(__file__).parent
DEADLINE = 30.0


@dataclass
class Served:
    url: str
    folder: Path
    process: asyncio.subprocess.Process
    output: list[str]
    drain: asyncio.Task[None]

    async def stop(self) -> None:
        self.process.terminate()
        await asyncio.wait_for(self.process.wait(), DEADLINE)
        await self.drain


async def serve(folder: Path, fake: FakeSlack, app: str = "slack_app.py") -> Served:
    env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_BASE_URL": fake.url + "api/"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nbchat.cli", "serve", app, "--port", "0",
        cwd=folder, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output: list[str] = []
    assert process.stdout is not None
    url = ""
    while not url:
        raw = await asyncio.wait_for(process.stdout.readline(), DEADLINE)
        if not raw:
            pytest.fail("nbchat serve did not start:\n" + "".join(output), pytrace=False)
        output.append(raw.decode())
        found = re.search(r" at (http://\S+)", output[-1])
        url = found.group(1) if found else ""

    async def drain() -> None:  # keep reading, so the server never blocks on its log
        assert process.stdout is not None
        while raw := await process.stdout.readline():
            output.append(raw.decode())

    return Served(url, folder, process, output, asyncio.get_running_loop().create_task(drain()))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def slack(
        tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[FakeSlack, Served]]:
    fake, server = start_fake_slack()
    folder = tmp_path_factory.mktemp("slack-app")
    (folder / "slack_app.py").write_text((HERE / "slack_app.py").read_text(), encoding="utf-8")
    served = await serve(folder, fake)
    yield fake, served
    await served.stop()
    server.stop()


async def post(served: Served, body: bytes,
               headers: dict[str, str]) -> tornado.httpclient.HTTPResponse:
    client = tornado.httpclient.AsyncHTTPClient()
    return await client.fetch(served.url + "slack/events", method="POST", body=body,
                              headers=headers, raise_error=False)


async def mention(served: Served, text: str, *, channel: str = "C1", ts: str | None = None,
                  thread_ts: str | None = None, user: str = "U1", kind: str = "app_mention",
                  event_id: str | None = None, **extra: Any) -> str:
    """Post a signed mention (or `kind`) event; returns its ts."""
    ts = ts or f"{time.time():.6f}"
    said = f"<@{BOT_USER}> {text}" if kind == "app_mention" else text
    fields: dict[str, Any] = {"channel": channel, "user": user, "ts": ts, "text": said, **extra}
    if thread_ts is not None:
        fields["thread_ts"] = thread_ts
    body = event(kind, event_id=event_id or uuid.uuid4().hex, **fields)
    answer = await post(served, body, signed(body))
    assert answer.code == 200, answer.body
    return ts


def replies_in(fake: FakeSlack, thread_ts: str) -> list[dict[str, Any]]:
    return [c for c in fake.posts() if c.get("thread_ts") == thread_ts]


def final_texts(fake: FakeSlack, thread_ts: str) -> list[str]:
    """Each posted reply's latest text (after its edits)."""
    latest: dict[str, str] = {}
    for call in fake.calls:
        posted = call["method"] == "chat.postMessage" and call.get("thread_ts") == thread_ts
        if posted or (call["method"] == "chat.update" and call["ts"] in latest):
            latest[call["ts"]] = call["text"]
    return list(latest.values())


async def test_url_verification_answers_the_challenge(slack: tuple[FakeSlack, Served]) -> None:
    _, served = slack
    body = json.dumps({"type": "url_verification", "challenge": "abc123"}).encode()
    answer = await post(served, body, signed(body))
    assert answer.code == 200
    assert answer.body == b"abc123"


async def test_a_mention_is_answered_in_its_thread_and_the_thread_is_one_chat(
        slack: tuple[FakeSlack, Served]) -> None:
    fake, served = slack
    ts = await mention(served, "hello")
    await fake.until(lambda _: len(replies_in(fake, ts)) >= 1)
    first = replies_in(fake, ts)[0]
    assert first["text"] == "_lookup_\n*echo* hello (turn 1) for slack_u1@example.com"
    assert first["blocks"][0]["text"]["type"] == "mrkdwn"
    # a reply in the thread, without a mention, continues the same chat
    body = event("message", event_id=uuid.uuid4().hex, channel="C1", user="U2",
                 ts=f"{time.time():.6f}", thread_ts=ts, text="again")
    assert (await post(served, body, signed(body))).code == 200
    await fake.until(lambda _: len(replies_in(fake, ts)) >= 2)
    assert "(turn 2)" in replies_in(fake, ts)[1]["text"]


async def test_forged_stale_and_foreign_requests_are_refused(
        slack: tuple[FakeSlack, Served]) -> None:
    fake, served = slack
    before = len(fake.posts())
    body = event("app_mention", event_id=uuid.uuid4().hex, channel="C1", user="U1",
                 ts="1.0", text=f"<@{BOT_USER}> forged")
    forged = await post(served, body, signed(body, secret="not-the-secret"))
    assert forged.code == 401
    stale = await post(served, body, signed(body, at=time.time() - 600))
    assert stale.code == 401
    unsigned = await post(served, body, {"Content-Type": "application/json"})
    assert unsigned.code == 401
    other = event("app_mention", event_id=uuid.uuid4().hex, team="T0OTHER", channel="C1",
                  user="U1", ts="2.0", text=f"<@{BOT_USER}> foreign")
    assert (await post(served, other, signed(other))).code == 403
    # a request that is answered afterwards shows nothing of the refused ones was posted
    ts = await mention(served, "after the refusals")
    await fake.until(lambda _: len(replies_in(fake, ts)) >= 1)
    assert len(fake.posts()) == before + 1
    assert not [c for c in fake.posts() if "forged" in c["text"] or "foreign" in c["text"]]


async def test_a_burst_of_100_with_retries_is_answered_once_each(
        slack: tuple[FakeSlack, Served]) -> None:
    fake, served = slack
    stamps = [f"{1800000000 + i}.000100" for i in range(100)]
    ids = [uuid.uuid4().hex for _ in stamps]

    async def deliver(i: int, retry: bool) -> None:
        body = event("app_mention", event_id=ids[i], channel="C9", user="U3",
                     ts=stamps[i], text=f"<@{BOT_USER}> burst {i}")
        headers = signed(body)
        if retry:
            headers["X-Slack-Retry-Num"] = "1"
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        assert (await post(served, body, headers)).code == 200

    await asyncio.gather(*(deliver(i, False) for i in range(100)),
                         *(deliver(i, True) for i in range(100)))
    await fake.until(lambda _: sum(1 for c in fake.posts("C9")) >= 100, deadline=120)
    # every retry has been answered (200) by now, so nothing more is coming
    by_thread: dict[str, list[str]] = {}
    for call in fake.posts("C9"):
        by_thread.setdefault(call["thread_ts"], []).append(call["text"])
    assert sorted(by_thread) == sorted(stamps)
    assert all(len(texts) == 1 for texts in by_thread.values())
    assert all(f"burst {i} (turn 1)" in by_thread[stamps[i]][0] for i in range(100))


async def test_asks_are_answered_by_the_next_message_and_by_a_button(
        slack: tuple[FakeSlack, Served]) -> None:
    fake, served = slack
    ts = await mention(served, "ask")
    await fake.until(lambda _: any("What is your name?" in t for t in final_texts(fake, ts)))
    await mention(served, "Ada", kind="message", thread_ts=ts)
    await fake.until(lambda _: "Hi Ada" in final_texts(fake, ts)[-1])

    ts2 = await mention(served, "choose")
    await fake.until(lambda _: any(
        "actions" in [b["type"] for b in c.get("blocks", [])] for c in replies_in(fake, ts2)))
    asked = next(c for c in replies_in(fake, ts2)
                 if "actions" in [b["type"] for b in c["blocks"]])
    buttons = next(b for b in asked["blocks"] if b["type"] == "actions")["elements"]
    assert [b["text"]["text"] for b in buttons] == ["Ship it", "Not now"]
    payload = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": "U1"},
               "channel": {"id": "C1"}, "message": {"ts": asked["ts"], "thread_ts": ts2},
               "container": {"message_ts": asked["ts"]},
               "actions": [{"action_id": buttons[0]["action_id"], "value": buttons[0]["value"]}]}
    body = urlencode({"payload": json.dumps(payload)}).encode()
    form = "application/x-www-form-urlencoded"
    answer = await post(served, body, signed(body, content_type=form))
    assert answer.code == 200
    await fake.until(lambda _: "go=True" in final_texts(fake, ts2)[-1])


async def test_a_long_reply_is_split_and_a_stream_ends_whole(
        slack: tuple[FakeSlack, Served]) -> None:
    fake, served = slack
    ts = await mention(served, "long")
    await fake.until(lambda _: any("Paragraph 39." in t for t in final_texts(fake, ts)))
    texts = final_texts(fake, ts)
    assert len(texts) >= 5
    assert all(len(t) <= 3000 for t in texts)
    assert "".join(texts).count("Paragraph") == 40
    ts2 = await mention(served, "stream")
    await fake.until(lambda _: final_texts(fake, ts2)[-1:] == ["one two three"])


async def test_a_dm_is_one_conversation_and_client_type_is_slack(
        slack: tuple[FakeSlack, Served]) -> None:
    fake, served = slack
    await mention(served, "client", kind="message", channel="D1", channel_type="im")
    await fake.until(lambda _: any(c["text"] == "client=slack" for c in fake.posts("D1")))
    reply = next(c for c in fake.posts("D1") if c["text"] == "client=slack")
    assert reply.get("thread_ts") is None


async def test_attached_files_reach_on_message(slack: tuple[FakeSlack, Served]) -> None:
    fake, served = slack
    fake.files["notes.txt"] = b"0123456789"
    ts = await mention(served, "", kind="message", channel="D2", channel_type="im",
                       subtype="file_share", files=[{
                           "name": "notes.txt", "mimetype": "text/plain",
                           "url_private": fake.url + "files/notes.txt"}])
    assert ts
    await fake.until(lambda _: any(c["text"] == "files notes.txt=10" for c in fake.posts("D2")))


async def test_a_reaction_runs_on_slack_reaction_added(slack: tuple[FakeSlack, Served]) -> None:
    fake, served = slack
    ts = await mention(served, "react to me")
    await fake.until(lambda _: len(replies_in(fake, ts)) >= 1)
    ours = replies_in(fake, ts)[0]["ts"]
    body = event("reaction_added", event_id=uuid.uuid4().hex, user="U1", reaction="tada",
                 item={"type": "message", "channel": "C1", "ts": ours})
    assert (await post(served, body, signed(body))).code == 200
    await fake.until(lambda _: any(c["text"] == "thanks for the :tada:"
                                   for c in replies_in(fake, ts)))


async def test_the_thread_is_stored_and_resumes_after_a_restart(
        tmp_path: Path) -> None:
    fake, server = start_fake_slack()
    (tmp_path / "slack_app.py").write_text((HERE / "slack_app.py").read_text(), encoding="utf-8")
    served = await serve(tmp_path, fake)
    try:
        ts = await mention(served, "remember")
        await fake.until(lambda _: len(replies_in(fake, ts)) >= 1)
    finally:
        await served.stop()
    db = sqlite3.connect(tmp_path / ".nbchat" / "nbchat.db")
    try:
        names = [row[0] for row in db.execute("select name from threads")]
    finally:
        db.close()
    assert names == ["remember"]
    again = await serve(tmp_path, fake)
    try:
        # a button of the reply from before the restart: the user is told, nothing runs
        old = replies_in(fake, ts)[0]
        button = next(b for b in old["blocks"] if b["type"] == "actions")["elements"][0]
        payload = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": "U1"},
                   "channel": {"id": "C1"}, "message": {"ts": old["ts"], "thread_ts": ts},
                   "actions": [{"action_id": button["action_id"], "value": button["value"]}]}
        body = urlencode({"payload": json.dumps(payload)}).encode()
        form = "application/x-www-form-urlencoded"
        assert (await post(again, body, signed(body, content_type=form))).code == 200
        await fake.until(lambda _: any("has ended here" in c["text"]
                                       for c in replies_in(fake, ts)))
        await mention(again, "back", kind="message", thread_ts=ts)
        await fake.until(lambda _: len(replies_in(fake, ts)) >= 3)
        assert "(turn 101)" in replies_in(fake, ts)[2]["text"]  # on_chat_resume ran
    finally:
        await again.stop()
        server.stop()


async def test_the_example_notebook_answers_on_slack(tmp_path: Path) -> None:
    fake, server = start_fake_slack()
    notebook = HERE.parents[1] / "notebooks" / "slack.ipynb"
    (tmp_path / "slack.ipynb").write_bytes(notebook.read_bytes())
    served = await serve(tmp_path, fake, app="slack.ipynb")
    try:
        ts = await mention(served, "hello")
        await fake.until(lambda _: len(replies_in(fake, ts)) >= 1)
        reply = replies_in(fake, ts)[0]
        assert "*Question 1* (slack): you said _hello_" in reply["text"]
        buttons = next(b for b in reply["blocks"] if b["type"] == "actions")["elements"]
        assert buttons[0]["text"]["text"] == "Tell me more"
    finally:
        await served.stop()
        server.stop()
