"""Files: upload (multipart, streamed, limits enforced while reading) and download.

An upload is checked before its body is read (auth, the thread, the content type, a
declared Content-Length over the limit) and while it streams (count, type, size, see
nbchat.server.uploads). Each file becomes an element of the thread, stored under a
server-made key; the client's file name is only ever shown, never used as a path.
Downloads are attachments with `nosniff`, for users who may read the thread.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any, ClassVar
from urllib.parse import quote

from tornado.web import stream_request_body

from nbchat.data import InvalidDataError, NotFoundError
from nbchat.ids import new_id
from nbchat.server.auth import requires_user
from nbchat.server.base import ApiError, ApiHandler
from nbchat.server.bodies import StreamedBody
from nbchat.server.handlers.elements import readable_element
from nbchat.server.handlers.views import file_url
from nbchat.server.uploads import MultipartReceiver, StoredFile
from nbchat.types import ElementDict
from nbchat.uploads.files import served_type


def element_type(mime: str) -> str:
    if mime == "application/pdf":
        return "pdf"
    kind = mime.split("/", 1)[0]
    return kind if kind in ("image", "audio", "video") else "file"


def content_disposition(name: str) -> str:
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in name)
    return f"attachment; filename=\"{fallback or 'download'}\"; filename*=UTF-8''{quote(name)}"


@stream_request_body
class UploadHandler(StreamedBody, ApiHandler):
    path: ClassVar[str] = "/threads/{thread_id}/files"
    receiver: MultipartReceiver | None = None
    _posting = False
    # Clean-ups of uploads whose client went away mid-body (tests await them).
    cleanups: ClassVar[set[asyncio.Task[None]]] = set()

    async def prepare(self) -> None:
        await super().prepare()
        if self._finished or self.request.method != "POST":
            return
        limits = self.services.uploads
        self.expect_body(limits.max_body + 1)  # ours, so tornado's plain-text 400 never hits
        length = self.request.headers.get("Content-Length")
        if length is not None and (not length.isdigit() or int(length) > limits.max_body):
            raise ApiError(413, f"the upload is {length} bytes; at most {limits.max_files} "
                                f"files of {limits.max_size} bytes each are accepted")
        # Thread ids come from the server: an upload goes into an existing thread the user
        # may write, never one it names into existence (a deleted thread's id, re-created
        # this way, took over the old share link and the owner's open tab wrote into it).
        await self.writable_thread_id(self.path_kwargs.get("thread_id", ""))
        self.receiver = MultipartReceiver(self.request.headers.get("Content-Type", ""),
                                          self.storage, limits)

    async def data_received(self, chunk: bytes) -> None:
        self.body_arrived()
        receiver = self.receiver
        if receiver is None or self._finished:
            return  # refused already: the rest of the body is dropped with the connection
        try:
            await receiver.feed(chunk)
        except Exception as exc:
            self.receiver = None
            await receiver.abort()
            if not isinstance(exc, ApiError | InvalidDataError):
                self.log_exception(*sys.exc_info())
            self.send_error(500, exc_info=sys.exc_info())

    def on_connection_close(self) -> None:
        super().on_connection_close()
        receiver, self.receiver = self.receiver, None
        if receiver is not None and not self._posting:  # the client left mid-body
            task = asyncio.ensure_future(receiver.abort())
            self.cleanups.add(task)
            task.add_done_callback(self.cleanups.discard)

    @requires_user
    async def post(self, thread_id: str) -> None:
        self.body_done()
        self._posting = True
        receiver = self.receiver
        if receiver is None:
            raise ApiError(400, "the upload was refused")
        try:
            stored = await receiver.finish()
            elements = await self._record(thread_id, stored)
        except BaseException:
            await receiver.abort()
            raise
        self.write_json({"files": [
            {"id": e["id"], "name": e["name"], "mime": e["mime"], "size": int(e["size"] or 0),
             "type": e["type"], "url": file_url(self.api_root, thread_id, e["id"])}
            for e in elements]}, status=201)

    async def _record(self, thread_id: str, stored: list[StoredFile]) -> list[ElementDict]:
        data = self.data
        await self.writable_thread_id(thread_id)  # still there after the body streamed in
        elements: list[ElementDict] = []
        try:
            for f in stored:
                el: ElementDict = {
                    "id": new_id(), "threadId": thread_id, "type": element_type(f.mime),
                    "name": f.name, "display": "inline", "forId": None, "mime": f.mime,
                    "size": str(f.size), "language": None, "url": None, "objectKey": f.key}
                elements.append(await data.create_element(el))
            await data.flush()
        except BaseException:
            for e in elements:
                await data.delete_element(e["id"], thread_id)
            raise
        return elements


class DownloadHandler(ApiHandler):
    path: ClassVar[str] = "/threads/{thread_id}/files/{element_id}"

    @requires_user
    async def get(self, thread_id: str, element_id: str) -> None:
        element = await readable_element(self, thread_id, element_id)
        key = element.get("objectKey")
        storage = self.storage
        try:
            if not key:
                raise NotFoundError("no stored bytes")
            size = await storage.size(key)
        except (NotFoundError, InvalidDataError):
            raise ApiError(404, f"element {element['id']!r} has no file") from None
        self.set_header("Content-Type", served_type(element.get("mime")))
        self.set_header("Content-Disposition", content_disposition(element["name"] or "file"))
        self.set_header("Content-Security-Policy", "sandbox; default-src 'none'")
        self.set_header("Content-Length", size)
        # Headers go out now: a host's finish() (Jupyter's APIHandler) must not retype them.
        await self.flush()
        async for chunk in storage.open(key):
            self.write(chunk)
            await self.flush()
        self.finish()

    def compute_etag(self) -> Any:
        return None


default_handlers: list[type[ApiHandler]] = [UploadHandler, DownloadHandler]
