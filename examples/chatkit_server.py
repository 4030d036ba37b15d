"""Serve examples/echo.py to ChatKit's front end, on the history `nbchat serve` uses.

    python examples/chatkit_server.py            # POST http://127.0.0.1:8765/chatkit

Threads made here show in `nbchat serve examples/echo.py` (same database, same user
"local") and the other way round. See docs/chatkit.md.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import tornado.web

from nbchat.integrations.chatkit import NbchatStore
from nbchat.integrations.chatkit_server import NbchatChatKitServer, chatkit_routes
from nbchat.server.auth import Identity, SingleUserIdentity

HERE = Path(__file__).resolve().parent


def make_application(store: NbchatStore, identity: Identity | None = None,
                     app: Path = HERE / "echo.py") -> tornado.web.Application:
    """A tornado app with one route, /chatkit, answering with `app`'s callbacks."""
    server = NbchatChatKitServer(app, store)
    return tornado.web.Application(chatkit_routes(server, identity or SingleUserIdentity()))


async def main(port: int = 8765) -> None:
    # The default nbchat database of the app folder: <folder>/.nbchat/nbchat.db.
    store = NbchatStore("sqlite:///.nbchat/nbchat.db", HERE)
    make_application(store).listen(port, "127.0.0.1")
    print(f"ChatKit endpoint: http://127.0.0.1:{port}/chatkit")
    try:
        await asyncio.Event().wait()  # serve until interrupted
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(main())
