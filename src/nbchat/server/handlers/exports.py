"""Exports of a readable thread as a file to download: one self-contained HTML page, or a
notebook (nbchat.export renders both)."""

from __future__ import annotations

import json
from typing import ClassVar

from nbchat.export.html import render_html
from nbchat.export.notebook import render_notebook
from nbchat.export.source import with_bytes
from nbchat.server.auth import requires_user
from nbchat.server.base import ApiError, ApiHandler
from nbchat.server.handlers.files import content_disposition

FORMATS = {"html": "text/html; charset=utf-8", "ipynb": "application/x-ipynb+json"}


class ExportHandler(ApiHandler):
    path: ClassVar[str] = "/threads/{thread_id}/export"

    @requires_user
    async def get(self, thread_id: str) -> None:
        kind = self.get_query_argument("format", "html")
        if kind not in FORMATS:
            raise ApiError(400, f"format must be one of {', '.join(FORMATS)}, not {kind[:20]!r}")
        thread = await self.readable_thread(thread_id)
        exported = await with_bytes(thread, self.storage)
        body = (render_html(exported) if kind == "html"
                else json.dumps(render_notebook(exported), ensure_ascii=False))
        self.set_header("Content-Type", FORMATS[kind])
        name = (thread.get("name") or f"chat-{thread['id']}")[:100]
        self.set_header("Content-Disposition", content_disposition(f"{name}.{kind}"))
        # The page is the user's to open; served from here it runs nothing either way.
        self.set_header("Content-Security-Policy", "sandbox; default-src 'none'; "
                        "img-src data:; style-src 'unsafe-inline'")
        self.finish(body)


default_handlers: list[type[ApiHandler]] = [ExportHandler]
