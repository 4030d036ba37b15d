"""SessionBuilder: the one way a host makes its chat sessions.

A host (the notebook widget, the test client, the served host, the ChatKit server) decides
once what its chats get: the app and config, a data layer for persistence, a desk for
upload bodies sent over HTTP, and who views them. The builder holds those decisions and
hands all of them to each `ChatSession` it builds, so no host sets a session's attributes
after making it, and a session cannot be half made.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nbchat.app import App
from nbchat.config import Config
from nbchat.data import NativeDataLayer
from nbchat.runtime.session import ChatSession
from nbchat.transports.base import Transport
from nbchat.types import User

if TYPE_CHECKING:
    from nbchat.uploads.tickets import TicketDesk


@dataclass(frozen=True)
class SessionBuilder:
    app: App
    config: Config
    # Persistence: each chat is recorded into this layer (runtime/recorder.py).
    data_layer: NativeDataLayer | None = None
    # The host takes upload bodies over HTTP (`welcome.httpUploads`): uploads/tickets.py.
    tickets: TicketDesk | None = None
    # Chainlit's `context.session.client_type`: "webapp" (a page), "notebook" (the widget).
    client_type: str = "webapp"
    # The viewer wrote the app (the notebook): a failing callback shows its traceback.
    viewer_is_author: bool = False

    def build(self, user: User | None = None, *, thread_id: str | None = None,
              transport: Transport | None = None) -> ChatSession:
        """A new, unstarted session of `user` (its `hello` starts it), attached to
        `transport` when given."""
        return ChatSession(
            self.app, self.config, user=user, thread_id=thread_id,
            data_layer=self.data_layer, tickets=self.tickets, client_type=self.client_type,
            viewer_is_author=self.viewer_is_author, transport=transport)

    def with_app(self, app: App) -> SessionBuilder:
        """The same host decisions for a reloaded app (`nbchat serve --reload`)."""
        return dataclasses.replace(self, app=app)
