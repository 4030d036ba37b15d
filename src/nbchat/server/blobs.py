"""Bytes of a live session's elements and uploads: `{root}nbchat/blobs/{sessionId}/{key}`.

Only the session's own user gets them (`ChatHost.find` checks the user); any other
request, like an unknown session or key, gets 404. A session running on another worker is
asked over the session bus (nbchat.cluster.bus), with the same check there. Keys are
server-made ids looked up in the session's tables, never paths. Responses carry `nosniff`
and a Content-Disposition: `inline` only for types a browser shows without running code,
`attachment` otherwise, and every one a sandboxing CSP (PDFs included: a PDF viewer that
runs the document's scripts runs them in a unique origin). They are never served as a
script or style type (`files.served_type`), so a `<script src>` of an uploaded `.js` is
refused by `nosniff`.
"""

from __future__ import annotations

from urllib.parse import quote

from tornado.web import HTTPError, RequestHandler

from nbchat.runtime.hosting import ChatHost
from nbchat.server.auth import Identity, requires_user
from nbchat.server.pages import security_headers
from nbchat.uploads.files import served_type

INLINE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/avif",
                "image/bmp", "application/pdf", "text/plain", "audio/", "video/")


def disposition(mime: str, name: str | None) -> str:
    """`mime` is one checked `type/subtype` (served_type), so a prefix test is exact."""
    kind = "inline" if mime.startswith(INLINE_TYPES) else "attachment"
    if not name:
        return kind
    return f"{kind}; filename*=UTF-8''{quote(name, safe='')}"


class BlobHandler(RequestHandler):
    def initialize(self, host: ChatHost, identity: Identity) -> None:
        self.host = host
        self.identity = identity

    def set_default_headers(self) -> None:
        security_headers(self)
        self.set_header("Cache-Control", "private, max-age=3600")

    def write_error(self, status_code: int, **kwargs: object) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish(f"{status_code}\n")

    @requires_user
    async def get(self, session_id: str, key: str) -> None:
        user = await self.identity.current_user(self)
        session = None if user is None else self.host.find(session_id, user)
        if session is not None:
            blob = await session.read_named_blob(key)
        elif user is not None and self.host.bus is not None:  # the chat runs on another worker
            blob = await self.host.bus.fetch_blob(session_id, user, key)
        else:
            blob = None
        if blob is None:
            raise HTTPError(404)
        data, declared, name = blob
        mime = served_type(declared)
        self.set_header("Content-Type", mime)
        self.set_header("Content-Disposition", disposition(mime, name))
        # Even if someone opens it directly, nothing in it runs as this origin.
        self.set_header("Content-Security-Policy", "default-src 'none'; "
                        "img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'; "
                        "sandbox")
        self.finish(data)
