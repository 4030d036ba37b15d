"""Slack: the app's callbacks answer mentions, DMs, thread replies, slash commands and
button clicks, through Slack's Events API and Web API (slack_sdk).

Chainlit's names: `SLACK_BOT_TOKEN` and `SLACK_SIGNING_SECRET` turn it on under
`nbchat serve`, the endpoint is `{root}slack/events` (events, interactivity and slash
commands alike), `cl.context.session.client_type` is "slack", the user is
`slack_<email or id>`, and `cl.user_session` holds "slack_event" and
"fetch_slack_message_history". `SLACK_API_BASE_URL` points the Web API client elsewhere
(a proxy, or the tests' local fake).

Every request is checked before anything else: the signature (HMAC of the signing
secret), a timestamp within five minutes (a replayed request is refused), and the
workspace (another team's events are refused). Slack retries an event it thinks was
lost: each event id is handled once. The endpoint answers at once and the chat runs in
the background, as Slack's three-second deadline requires.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import httpx

from nbchat.channels.mrkdwn import to_mrkdwn
from nbchat.channels.relay import Button, click_event
from nbchat.channels.threads import ChannelThreads
from nbchat.errors import ConfigError
from nbchat.runtime.callbacks import run_callback
from nbchat.runtime.hosting import ChatHost
from nbchat.runtime.session import ChatSession
from nbchat.types import User
from nbchat.uploads.files import UploadLimits, UploadRejected

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("nbchat")
USER_PREFIX = "slack_"
SEEN_EVENTS = 10_000  # event ids remembered for Slack's retries
ENDED = ("That button belongs to a chat that has ended here; write in this thread to "
         "continue it.")


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str
    signing_secret: str
    api_url: str = "https://slack.com/api/"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SlackSettings | None:
        """Settings from Chainlit's variables; None when Slack is not configured."""
        token, secret = env.get("SLACK_BOT_TOKEN"), env.get("SLACK_SIGNING_SECRET")
        if not token or not secret:
            return None
        return cls(token, secret, env.get("SLACK_API_BASE_URL") or cls.api_url)


class SlackOutput:
    """One Slack conversation (a channel thread or a DM) as a PlatformOutput."""

    limit = 3000  # characters of a section block's text
    update_interval = 1.0  # seconds between edits of one message (chat.update's rate)

    def __init__(self, client: AsyncWebClient, channel: str, thread_ts: str | None) -> None:
        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts

    def format(self, markdown: str) -> str:
        return to_mrkdwn(markdown)

    @staticmethod
    def blocks(text: str, buttons: Sequence[Button]) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": text or " "}}]
        for start in range(0, len(buttons), 25):  # at most 25 buttons per actions block
            blocks.append({"type": "actions", "elements": [
                {"type": "button", "action_id": f"nbchat-{start + i}", "value": b.value,
                 "text": {"type": "plain_text", "text": b.label[:75], "emoji": True}}
                for i, b in enumerate(buttons[start:start + 25])]})
        return blocks

    async def post(self, text: str, buttons: Sequence[Button]) -> str:
        reply = await self.client.chat_postMessage(
            channel=self.channel, thread_ts=self.thread_ts, text=text,
            blocks=self.blocks(text, buttons))
        return str(reply["ts"])

    async def update(self, ref: str, text: str, buttons: Sequence[Button]) -> None:
        await self.client.chat_update(channel=self.channel, ts=ref, text=text,
                                      blocks=self.blocks(text, buttons))

    async def delete(self, ref: str) -> None:
        await self.client.chat_delete(channel=self.channel, ts=ref)


class SlackChannel:
    def __init__(self, host: ChatHost, settings: SlackSettings) -> None:
        try:  # an optional dependency: only a server with Slack configured needs it
            from slack_sdk.signature import SignatureVerifier
            from slack_sdk.web.async_client import AsyncWebClient
        except ImportError:
            raise ConfigError("SLACK_BOT_TOKEN is set but slack_sdk is not installed: "
                              "pip install 'nbchat[slack]'") from None
        self.host = host
        self.settings = settings
        self.client = AsyncWebClient(token=settings.bot_token, base_url=settings.api_url)
        self.verifier = SignatureVerifier(settings.signing_secret)
        self.threads = ChannelThreads(host, "slack")
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._users: dict[str, User] = {}
        self._identity: tuple[str, str] | None = None  # (team id, bot user id)
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ the endpoint

    async def handle(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
        """(status, body) of the answer to one request to the events endpoint."""
        if not self.verifier.is_valid(body, headers.get("X-Slack-Request-Timestamp"),
                                      headers.get("X-Slack-Signature")):
            return 401, "invalid Slack signature or stale timestamp"
        if headers.get("Content-Type", "").startswith("application/json"):
            try:
                payload = json.loads(body)
            except ValueError:
                return 400, "the body is not JSON"
            if payload.get("type") == "url_verification":
                return 200, str(payload.get("challenge", ""))
            return await self._event_callback(payload)
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if "payload" in form:
            try:
                return await self._interaction(json.loads(form["payload"]))
            except ValueError:
                return 400, "the payload is not JSON"
        if "command" in form:
            return await self._command(form)
        return 400, "not a Slack event, interaction or command"

    async def _own_team(self, team: str | None) -> bool:
        if self._identity is None:
            found = await self.client.auth_test()
            self._identity = (str(found["team_id"]), str(found["user_id"]))
        return team == self._identity[0]

    def _first_time(self, event_id: str) -> bool:
        if event_id in self._seen:
            return False
        self._seen[event_id] = None
        if len(self._seen) > SEEN_EVENTS:
            self._seen.popitem(last=False)
        return True

    def _later(self, work: Any, channel: str | None = None,
               thread_ts: str | None = None) -> None:
        """Run `work` after answering Slack; a failure is logged and, when it can be,
        told in the conversation (never dropped silently)."""
        async def guarded() -> None:
            try:
                await work
            except Exception as exc:
                log.exception("nbchat: a Slack request could not be handled")
                if channel is not None:
                    with contextlib.suppress(Exception):  # Slack itself may be the outage
                        await self.client.chat_postMessage(
                            channel=channel, thread_ts=thread_ts,
                            text=f":warning: this message could not be handled ({exc})")

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Wait until the work started by requests so far is done and posted."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))
        for live in list(self.threads.live.values()):
            await live.session.wait_quiet()
            await live.relay.drained()

    # ------------------------------------------------------------------ events

    async def _event_callback(self, payload: dict[str, Any]) -> tuple[int, str]:
        if payload.get("type") != "event_callback":
            return 400, f"unexpected Slack payload type {payload.get('type')!r}"
        if not await self._own_team(payload.get("team_id")):
            return 403, "this event is from another Slack workspace"
        if not self._first_time(str(payload.get("event_id"))):
            return 200, ""  # a retry of an event already handled
        event = payload.get("event") or {}
        kind = event.get("type")
        if kind in ("app_mention", "message") and await self._for_us(payload["team_id"], event):
            channel = str(event.get("channel"))
            thread = None if channel.startswith("D") else event.get("thread_ts") or event.get("ts")
            self._later(self._message(payload["team_id"], event), channel, thread)
        elif kind == "reaction_added":
            self._later(self._reaction(payload["team_id"], event))
        return 200, ""

    async def _for_us(self, team: str, event: dict[str, Any]) -> bool:
        """A person's message the bot should answer: a mention, a DM, or a reply in a
        thread it is in, live or stored (a mention also arrives as `message`: answered
        once, as the mention)."""
        assert self._identity is not None
        bot = self._identity[1]
        if event.get("bot_id") or event.get("user") in (None, bot):
            return False
        if event.get("subtype") not in (None, "file_share"):
            return False
        if event["type"] == "app_mention" or event.get("channel_type") == "im":
            return True
        mentioned = f"<@{bot}>" in str(event.get("text", ""))
        if mentioned or event.get("thread_ts") is None:
            return False
        return await self.threads.known(self._key_of(team, event))

    @staticmethod
    def _key_of(team: str, event: Mapping[str, Any]) -> str:
        channel = str(event.get("channel"))
        if channel.startswith("D"):  # a DM is one conversation
            return f"{team}:{channel}"
        return f"{team}:{channel}:{event.get('thread_ts') or event.get('ts')}"

    def _output(self, channel: str, thread_ts: str | None) -> SlackOutput:
        return SlackOutput(self.client, channel, None if channel.startswith("D") else thread_ts)

    async def _user(self, slack_id: str) -> User:
        if slack_id not in self._users:
            found = await self.client.users_info(user=slack_id)
            profile = dict(found["user"].get("profile") or {})
            identifier = profile.get("email") or slack_id
            self._users[slack_id] = User(identifier=USER_PREFIX + identifier, metadata={
                k: profile[k] for k in ("real_name", "display_name", "image_72") if k in profile})
        return self._users[slack_id]

    async def _message(self, team: str, event: dict[str, Any]) -> None:
        channel, thread_ts = str(event["channel"]), event.get("thread_ts") or event["ts"]
        user = await self._user(str(event["user"]))
        live = await self.threads.open(
            self._key_of(team, event), user, lambda: self._output(channel, thread_ts),
            {"slack_event": event, "fetch_slack_message_history":
                lambda limit=30: self._history(channel, event.get("thread_ts"), limit)})
        text = _without_mentions(str(event.get("text", "")))
        file_ids = await self._files(live.session, event.get("files") or [])
        ask = live.session.state.ask
        if ask is not None and ask["kind"] == "file" and file_ids:
            await live.session.receive(
                {"type": "ask_response", "askId": ask["askId"], "fileIds": file_ids})
            return
        message: dict[str, Any] = {"type": "user_message", "content": text}
        if file_ids:
            message["fileIds"] = file_ids
        await live.session.receive(message)

    async def _files(self, session: ChatSession, files: list[dict[str, Any]]) -> list[str]:
        """Files attached in Slack, downloaded with the bot token into the session."""
        limits = UploadLimits.from_config(session.config.features.spontaneous_file_upload)
        ids: list[str] = []
        async with httpx.AsyncClient(timeout=30) as http:
            for file in files:
                url = file.get("url_private_download") or file.get("url_private")
                if not url:
                    continue
                got = await http.get(url, headers={
                    "Authorization": f"Bearer {self.settings.bot_token}"})
                if got.status_code != 200:
                    session.error("upload_failed", f"could not download {file.get('name')} "
                                  f"from Slack ({got.status_code})")
                    continue
                try:
                    ids.append(session.files.add(
                        str(file.get("name") or "file"),
                        str(file.get("mimetype") or "application/octet-stream"),
                        got.content, limits).id)
                except UploadRejected as exc:
                    session.error("upload_rejected", str(exc))
        return ids

    async def _history(self, channel: str, thread_ts: str | None,
                       limit: int) -> list[dict[str, Any]]:
        if thread_ts is None:
            found = await self.client.conversations_history(channel=channel, limit=limit)
        else:
            found = await self.client.conversations_replies(channel=channel, ts=thread_ts,
                                                            limit=limit)
        return list(found["messages"])

    async def _reaction(self, team: str, event: dict[str, Any]) -> None:
        """`@cl.on_slack_reaction_added(event)`, in the chat of the reacted message."""
        if self.host.app.get("on_slack_reaction_added") is None:
            return
        item = event.get("item") or {}
        channel, ts = item.get("channel"), item.get("ts")
        for key, live in self.threads.live.items():
            if key in (f"{team}:{channel}", f"{team}:{channel}:{ts}") or (
                    key.startswith(f"{team}:{channel}:") and live.relay.posted(str(ts))):
                live.session.spawn(run_callback(live.session, "on_slack_reaction_added", event))
                return

    # ------------------------------------------------------------------ buttons, commands

    async def _interaction(self, payload: dict[str, Any]) -> tuple[int, str]:
        if payload.get("type") != "block_actions":
            return 200, ""
        if not await self._own_team((payload.get("team") or {}).get("id")):
            return 403, "this interaction is from another Slack workspace"
        team = payload["team"]["id"]
        message = payload.get("message") or {}
        channel = str((payload.get("channel") or {}).get("id") or "")
        key = self._key_of(team, {"channel": channel, "ts": message.get("ts"),
                                  "thread_ts": message.get("thread_ts")})
        live = self.threads.live.get(key)
        for action in payload.get("actions") or []:
            event = click_event(str(action.get("value", "")))
            if event is None:
                continue  # not one of nbchat's buttons
            if live is None:  # the chat ended here (idle, or a restart): say so
                thread = None if channel.startswith("D") else (
                    message.get("thread_ts") or message.get("ts"))
                self._later(self.client.chat_postMessage(
                    channel=channel, thread_ts=thread, text=ENDED), channel, thread)
                return 200, ""
            self._later(live.session.receive(event), channel)
        return 200, ""

    async def _command(self, form: dict[str, str]) -> tuple[int, str]:
        if not await self._own_team(form.get("team_id")):
            return 403, "this command is from another Slack workspace"
        channel = form.get("channel_id", "")
        event = {"type": "message", "channel": channel, "user": form.get("user_id"),
                 "text": form.get("text", ""), "ts": None, "channel_type": "im"}
        command = form["command"].lstrip("/")

        async def run() -> None:
            user = await self._user(str(form.get("user_id")))
            live = await self.threads.open(f"{form.get('team_id')}:{channel}", user,
                                           lambda: SlackOutput(self.client, channel, None),
                                           {"slack_event": event})
            await live.session.receive({"type": "user_message", "content": event["text"],
                                        "command": command})

        self._later(run())
        return 200, ""

    async def close(self) -> None:
        await self.threads.close_all()


def _without_mentions(text: str) -> str:
    return re.sub(r"<@[\w]+>", "", text).strip()


def slack_from_env(host: ChatHost, env: Mapping[str, str] | None = None) -> SlackChannel | None:
    """The Slack channel of `host` when the environment configures one."""
    settings = SlackSettings.from_env(os.environ if env is None else env)
    return None if settings is None else SlackChannel(host, settings)
