"""ChatKit attachments with nbchat files: two-phase upload into nbchat's blob storage.

`NbchatAttachmentStore(upload_url)` answers ChatKit's `attachments.create` with an upload
descriptor (`PUT <upload_url>/<attachment id>`); `AttachmentHandler` (mounted by
`chatkit_routes`) takes that upload into the store (NbchatStore.save_attachment_bytes) and
serves the bytes back to their owner (`GET`, also an image attachment's preview URL). Once
the attachment is sent with a message, the bytes are the file of its nbchat element, so
nbchat's UI and REST API serve them too. Without `upload_url` attachments are records
only (direct upload: the bytes travel however the app chooses).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from chatkit.store import AttachmentStore, NotFoundError
from chatkit.types import (
    Attachment,
    AttachmentCreateParams,
    AttachmentUploadDescriptor,
    FileAttachment,
    ImageAttachment,
)
from pydantic import AnyUrl
from tornado.web import RequestHandler, stream_request_body

from nbchat.data import BlobTooLargeError, InvalidDataError
from nbchat.integrations.chatkit import Context, NbchatStore, user_identifier
from nbchat.server.auth import Identity, requires_user
from nbchat.server.base import describe
from nbchat.server.bodies import StreamedBody

__all__ = ["AttachmentHandler", "JsonErrorHandler", "NbchatAttachmentStore"]

DEFAULT_MAX_BYTES = 20 * 1024 * 1024


class NbchatAttachmentStore(AttachmentStore[Context]):
    """ChatKit's AttachmentStore for a ChatKitServer on an NbchatStore (module doc).

    `upload_url` is absolute, or a path (`/chatkit/attachments`) completed with the origin
    of the request (ChatKitHandler puts it in the context as `origin`), as `nbchat serve`
    does: the descriptor then names the host the browser reached."""

    def __init__(self, upload_url: str | None = None) -> None:
        self.upload_url = upload_url.rstrip("/") if upload_url else None

    def _upload_base(self, context: Context) -> str | None:
        if self.upload_url is None or not self.upload_url.startswith("/"):
            return self.upload_url
        origin = context.get("origin")
        if not isinstance(origin, str) or not origin:
            raise ValueError(f"the upload URL {self.upload_url!r} is a path: the request "
                             "context needs the request's 'origin' (ChatKitHandler sets it)")
        return origin.rstrip("/") + self.upload_url

    def generate_attachment_id(self, mime_type: str, context: Context) -> str:
        return str(uuid.uuid4())

    async def create_attachment(self, input: AttachmentCreateParams,
                                context: Context) -> Attachment:
        user_identifier(context)
        attachment_id = self.generate_attachment_id(input.mime_type, context)
        base = self._upload_base(context)
        if base is None:
            return FileAttachment(id=attachment_id, name=input.name, mime_type=input.mime_type)
        url = f"{base}/{attachment_id}"
        upload = AttachmentUploadDescriptor(url=AnyUrl(url), method="PUT")
        if input.mime_type.startswith("image/"):
            return ImageAttachment(id=attachment_id, name=input.name, mime_type=input.mime_type,
                                   upload_descriptor=upload, preview_url=AnyUrl(url))
        return FileAttachment(id=attachment_id, name=input.name, mime_type=input.mime_type,
                              upload_descriptor=upload)

    async def delete_attachment(self, attachment_id: str, context: Context) -> None:
        """Nothing here: the record and its bytes go with NbchatStore.delete_attachment."""


class JsonErrorHandler(RequestHandler):
    """The ChatKit routes' errors in nbchat's JSON shape (`{"error": {"code", "message"},
    "status"}`), also tornado's own (a missing XSRF token under `nbchat serve`, 405)."""

    def _error(self, status: int, code: str, message: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps({"error": {"code": code, "message": message},
                                "status": status}))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        status, code, message = describe(status_code, exc_info[1] if exc_info else None)
        self.clear_header("Content-Disposition")
        self._error(status, code, message)


@stream_request_body
class AttachmentHandler(StreamedBody, JsonErrorHandler):
    """PUT: the upload of an attachment's bytes, streamed into the store as they arrive
    (at most `max_bytes`); GET: its bytes, to its owner only."""

    _saving: asyncio.Future[None] | None = None

    def initialize(self, store: NbchatStore, identity: Identity,
                   max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.store = store
        self.identity = identity
        self.max_bytes = max_bytes

    async def _context(self) -> Context | None:
        user = await self.identity.current_user(self)
        if user is None:
            self._error(401, "unauthenticated", "this request carries no user; sign in first")
            return None
        return {"user_id": user.identifier}

    def check_xsrf_cookie(self) -> None:
        """No XSRF token on the upload: ChatKit's front end PUTs to the descriptor's URL
        itself, without the app's custom fetch. That is no forgery hazard: the URL names a
        random attachment id that only the signed-in user's own ChatKit was given, and
        the upload only fills that user's pending attachment."""

    async def prepare(self) -> None:
        if self.request.method != "PUT":
            return
        context = await self._context()
        if context is None:
            return
        length = self.request.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            self._error(413, "payload_too_large",
                        f"an attachment may have at most {self.max_bytes} bytes")
            return
        # One byte more than allowed still arrives, so the store sees the overflow and
        # answers 413 itself (rather than tornado dropping the connection).
        self.expect_body(self.max_bytes + 1)
        self._chunks: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=8)
        self._saving = asyncio.ensure_future(self.store.save_attachment_bytes(
            self.path_args[0], self._body(), context, max_size=self.max_bytes))

    async def _body(self) -> AsyncIterator[bytes]:
        while (chunk := await self._chunks.get()) is not None:
            yield chunk

    async def data_received(self, chunk: bytes) -> None:
        self.body_arrived()
        if self._saving is not None and not self._saving.done():  # else: refused already
            await self._chunks.put(chunk)

    @requires_user
    async def put(self, attachment_id: str) -> None:
        self.body_done()
        assert self._saving is not None
        if not self._saving.done():
            await self._chunks.put(None)
        try:
            await self._saving
        except NotFoundError as exc:
            self._error(404, "not_found", str(exc))
        except BlobTooLargeError as exc:
            self._error(413, "payload_too_large", str(exc))
        except InvalidDataError as exc:
            self._error(400, "bad_request", str(exc))
        else:
            self.set_status(204)
            self.finish()

    def on_connection_close(self) -> None:
        if self._saving is not None and not self._saving.done():
            self._saving.cancel()  # the store keeps nothing of a cut-off upload
        super().on_connection_close()

    @requires_user
    async def get(self, attachment_id: str) -> None:
        context = await self._context()
        if context is None:
            return
        try:
            attachment = await self.store.load_attachment(attachment_id, context)
            data = await self.store.load_attachment_bytes(attachment_id, context)
        except NotFoundError as exc:
            self._error(404, "not_found", str(exc))
            return
        self.set_header("Content-Type", attachment.mime_type)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Disposition", "attachment")
        self.finish(data)
