"""The endpoints chat platforms call (docs/channels.md): `{root}slack/events` when
`SLACK_BOT_TOKEN` and `SLACK_SIGNING_SECRET` are set.

The platform signs each request, so these routes take no cookie, login or XSRF token:
the channel refuses a request whose signature, timestamp or workspace is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tornado.web import RequestHandler

from nbchat.channels.slack import SlackChannel, slack_from_env
from nbchat.runtime.hosting import ChatHost
from nbchat.server.auth import public
from nbchat.server.pages import security_headers


class SlackEventsHandler(RequestHandler):
    def initialize(self, channel: SlackChannel) -> None:
        self.channel = channel

    def set_default_headers(self) -> None:
        security_headers(self)
        self.set_header("Cache-Control", "no-store")

    def check_xsrf_cookie(self) -> None:
        """Slack signs its requests (checked in `post`); no browser cookie is involved."""

    @public
    async def post(self) -> None:
        status, body = await self.channel.handle(self.request.body, self.request.headers)
        self.set_status(status)
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish(body)


def channel_specs(root_regex: str, host: ChatHost,
                  env: Mapping[str, str]) -> list[tuple[str, type[RequestHandler], dict[str, Any]]]:
    """The routes of the channels the environment configures (none when it names none)."""
    slack = slack_from_env(host, env)
    if slack is None:
        return []
    return [(rf"{root_regex}slack/events", SlackEventsHandler, {"channel": slack})]
