"""`PUT {API root}/uploads/{ticket}`: the bytes of one upload of a live chat.

The chat hands out the ticket (`upload_ticket`, see nbchat.uploads.tickets); the request
body is the file itself, not multipart, since the name and type were declared in
`upload_start`. Checked before the body is read: the user, the ticket (unknown, used,
expired or another user's: 404), a declared Content-Length over the ticket's limit (413).
Checked while it streams: the running size (413). A refused or cut-off body leaves nothing
stored, and the chat session is untouched but for that one upload.

Mounted by both hosts, also when persistence is off: it needs no data layer.
"""

from __future__ import annotations

import sys
from typing import ClassVar

from tornado.web import stream_request_body

from nbchat.server.auth import Identity, requires_user
from nbchat.server.base import ApiError, ApiHandler
from nbchat.server.bodies import StreamedBody
from nbchat.uploads.files import UploadRejected
from nbchat.uploads.tickets import TICKET_RE, UploadDesk, UploadSink

PATH = "/uploads/{ticket}"
SLACK = 1024 * 1024


@stream_request_body
class LiveUploadHandler(StreamedBody, ApiHandler):
    path: ClassVar[str] = PATH
    sink: UploadSink | None = None

    def initialize(self, desk: UploadDesk, identity: Identity,  # type: ignore[override]
                   api_root: str) -> None:
        self.desk = desk
        self.identity = identity
        self.api_root = api_root

    def select_store(self) -> None:
        """Uploads go to a live chat, not to a store: the widget's `?store=` is ignored."""

    async def prepare(self) -> None:
        await super().prepare()
        if self._finished or self.request.method != "PUT":
            return
        ticket = self.path_kwargs.get("ticket", "")
        user = self.current
        sink = self.desk.claim(ticket, user) if TICKET_RE.fullmatch(ticket) else None
        if sink is None:
            raise ApiError(404, "no such upload ticket: it was used already, expired or "
                                "belongs to another chat; start the upload again",
                           code="unknown_ticket")
        length = self.request.headers.get("Content-Length")
        if length is not None and (not length.isdigit() or int(length) > sink.limit):
            sink.abort()
            raise ApiError(413, f"the file is {length} bytes; this upload takes at most "
                                f"{sink.limit}")
        # Room past the limit, so that `data_received` sees the excess and answers 413
        # in JSON; tornado's own check (a bare 400) only stops a chunked body whose one
        # chunk jumps far past it. Nothing is buffered: the body streams.
        self.expect_body(sink.limit + SLACK)
        self.sink = sink

    def data_received(self, chunk: bytes) -> None:
        self.body_arrived()
        sink = self.sink
        if sink is None or self._finished:
            return  # refused already: the rest of the body goes with the connection
        try:
            sink.write(chunk)
        except Exception as exc:
            self.sink = None
            sink.abort()
            if isinstance(exc, UploadRejected):
                refused = ApiError(413, str(exc))
                self.send_error(413, exc_info=(ApiError, refused, None))
            else:
                self.log_exception(*sys.exc_info())
                self.send_error(500, exc_info=sys.exc_info())

    def on_connection_close(self) -> None:
        super().on_connection_close()
        sink, self.sink = self.sink, None
        if sink is not None:  # the client left mid-body, or stalled (StreamedBody)
            sink.abort()

    @requires_user
    async def put(self, ticket: str) -> None:
        self.body_done()
        sink, self.sink = self.sink, None
        if sink is None:
            raise ApiError(400, "the upload was refused")
        size = sink.complete()
        self.write_json({"size": size})

