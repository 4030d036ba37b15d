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

import uuid

from chatkit.store import AttachmentStore, NotFoundError
from chatkit.types import (
    Attachment,
    AttachmentCreateParams,
    AttachmentUploadDescriptor,
    FileAttachment,
    ImageAttachment,
)
from pydantic import AnyUrl
from tornado.web import RequestHandler

from nbchat.data import BlobTooLargeError, InvalidDataError
from nbchat.integrations.chatkit import Context, NbchatStore, user_identifier
from nbchat.server.auth import Identity

__all__ = ["AttachmentHandler", "NbchatAttachmentStore"]

DEFAULT_MAX_BYTES = 20 * 1024 * 1024


class NbchatAttachmentStore(AttachmentStore[Context]):
    """ChatKit's AttachmentStore for a ChatKitServer on an NbchatStore (module doc)."""

    def __init__(self, upload_url: str | None = None) -> None:
        self.upload_url = upload_url.rstrip("/") if upload_url else None

    def generate_attachment_id(self, mime_type: str, context: Context) -> str:
        return str(uuid.uuid4())

    async def create_attachment(self, input: AttachmentCreateParams,
                                context: Context) -> Attachment:
        user_identifier(context)
        attachment_id = self.generate_attachment_id(input.mime_type, context)
        if self.upload_url is None:
            return FileAttachment(id=attachment_id, name=input.name, mime_type=input.mime_type)
        url = f"{self.upload_url}/{attachment_id}"
        upload = AttachmentUploadDescriptor(url=AnyUrl(url), method="PUT")
        if input.mime_type.startswith("image/"):
            return ImageAttachment(id=attachment_id, name=input.name, mime_type=input.mime_type,
                                   upload_descriptor=upload, preview_url=AnyUrl(url))
        return FileAttachment(id=attachment_id, name=input.name, mime_type=input.mime_type,
                              upload_descriptor=upload)

    async def delete_attachment(self, attachment_id: str, context: Context) -> None:
        """Nothing here: the record and its bytes go with NbchatStore.delete_attachment."""


class AttachmentHandler(RequestHandler):
    """PUT: the upload of an attachment's bytes; GET: its bytes, to its owner only."""

    def initialize(self, store: NbchatStore, identity: Identity,
                   max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.store = store
        self.identity = identity
        self.max_bytes = max_bytes

    def _error(self, status: int, code: str, message: str) -> None:
        self.set_status(status)
        self.finish({"error": {"code": code, "message": message}, "status": status})

    async def _context(self) -> Context | None:
        user = await self.identity.current_user(self)
        if user is None:
            self._error(401, "unauthenticated", "this request carries no user; sign in first")
            return None
        return {"user_id": user.identifier}

    async def put(self, attachment_id: str) -> None:
        context = await self._context()
        if context is None:
            return
        try:
            await self.store.save_attachment_bytes(attachment_id, self.request.body, context,
                                                   max_size=self.max_bytes)
        except NotFoundError as exc:
            self._error(404, "not_found", str(exc))
        except BlobTooLargeError as exc:
            self._error(413, "payload_too_large", str(exc))
        except InvalidDataError as exc:
            self._error(400, "bad_request", str(exc))
        else:
            self.set_status(204)
            self.finish()

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
