"""A multipart/form-data body parsed as it streams in, each file streamed to blob storage.

python-multipart is a push parser: `feed(chunk)` runs it over each chunk tornado hands to
`data_received`, then moves the part data it produced into a storage write that runs in
its own task (storage.put reads an async iterator). Limits are checked on the way:
the file count and type when a part's headers are complete (before any of its bytes are
stored), the size on every chunk. On any error, `abort()` cancels the write in progress
(LocalStorage removes its `.part` file) and deletes the files already stored, so a
refused or truncated upload leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from nbchat.data import BlobStorage
from nbchat.server.base import ApiError
from nbchat.uploads.files import UploadLimits, UploadRejected, accepts, check_mime, describe_accept

_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f]")
MAX_FILENAME = 255


@dataclass
class StoredFile:
    key: str
    name: str
    mime: str
    size: int


class _Aborted(Exception):
    """Ends a storage write from inside its data stream, so the storage's own clean-up
    runs (cancelling the task instead could hit it between opening and cleaning up)."""


@dataclass
class _Stream:
    """The bytes of one part, handed from the parser to the storage write."""

    queue: asyncio.Queue[bytes | None] = field(default_factory=lambda: asyncio.Queue(4))
    aborted: bool = False

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            chunk = await self.queue.get()
            if self.aborted:
                raise _Aborted
            if chunk is None:
                return
            yield chunk

    def abort(self) -> None:
        self.aborted = True
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)  # wakes `chunks` if it waits for data


@dataclass
class _Part:
    name: str
    mime: str
    stream: _Stream
    task: asyncio.Task[str]
    size: int = 0


def clean_filename(raw: bytes | None) -> str:
    """A display name from the client's filename: never used as a path, only shown."""
    name = (raw or b"").decode("utf-8", "replace").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME.sub("", name).strip()
    return name[:MAX_FILENAME] or "upload"


def boundary_of(content_type: str) -> bytes:
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        raise ApiError(415, "send the files as multipart/form-data")
    boundary = params.get(b"boundary")
    if not boundary or len(boundary) > 70:
        raise ApiError(400, "the multipart/form-data content type has no valid boundary")
    return boundary


class MultipartReceiver:
    """Receives one upload request; `files` holds what was stored, in order."""

    def __init__(self, content_type: str, storage: BlobStorage, limits: UploadLimits) -> None:
        self.storage = storage
        self.limits = limits
        self.files: list[StoredFile] = []
        self.complete = False
        self._part: _Part | None = None
        self._events: list[tuple[str, object]] = []
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._parser = MultipartParser(boundary_of(content_type), {
            "on_part_begin": self._on_part_begin,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": lambda: self._events.append(("begin", self._headers)),
            "on_part_data": lambda d, a, b: self._events.append(("data", bytes(d[a:b]))),
            "on_part_end": lambda: self._events.append(("end", None)),
            "on_end": self._on_end,
        })

    # -- parser callbacks (synchronous; they only record events) ---------------------------

    def _on_part_begin(self) -> None:
        self._headers = {}

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name = self._header_value = b""

    def _on_end(self) -> None:
        self.complete = True

    # -- driving ----------------------------------------------------------------------------

    async def feed(self, chunk: bytes) -> None:
        try:
            self._parser.write(chunk)
        except MultipartParseError as exc:
            raise ApiError(400, f"the multipart body is malformed: {exc}") from None
        events, self._events = self._events, []
        for kind, value in events:
            if kind == "begin":
                assert isinstance(value, dict)
                self._begin(value)
            elif kind == "data":
                assert isinstance(value, bytes)
                await self._data(value)
            else:
                await self._end()

    async def finish(self) -> list[StoredFile]:
        """After the whole body arrived: the stored files, or 400 if it was cut short."""
        if not self.complete or self._part is not None:
            raise ApiError(400, "the multipart body is truncated: its closing boundary is "
                                "missing; send the whole request again")
        if not self.files:
            raise ApiError(400, "the upload holds no file")
        return self.files

    async def abort(self) -> None:
        """Undo everything: the write in progress and every file stored so far."""
        part, self._part = self._part, None
        if part is not None:
            part.stream.abort()
            with contextlib.suppress(Exception):
                await part.task
        stored, self.files = self.files, []
        for f in stored:
            await self.storage.delete(f.key)

    # -- per part -----------------------------------------------------------------------------

    def _begin(self, headers: dict[bytes, bytes]) -> None:
        _, disposition = parse_options_header(headers.get(b"content-disposition", b""))
        field_name = disposition.get(b"name", b"").decode("utf-8", "replace")[:60]
        if b"filename" not in disposition:
            raise ApiError(400, f"part {field_name!r} is not a file; send only file parts")
        if len(self.files) >= self.limits.max_files:
            raise ApiError(400, f"too many files: the limit is {self.limits.max_files} per "
                                "upload", code="too_many_files")
        name = clean_filename(disposition[b"filename"])
        raw_mime = parse_options_header(headers.get(b"content-type", b""))[0]
        try:
            mime = check_mime(raw_mime.decode("latin-1").lower(), repr(name))
        except UploadRejected as exc:
            raise ApiError(415, str(exc)) from None
        if not accepts(name, mime, self.limits.accept):
            raise ApiError(415, f"{name!r}: type {mime} is not accepted; accepted: "
                                f"{describe_accept(self.limits.accept)} (a type counts only "
                                "when the file name's extension agrees with it)")
        stream = _Stream()
        self._part = _Part(name, mime, stream, asyncio.ensure_future(
            self.storage.put(stream.chunks(), mime, max_size=self.limits.max_size)))

    async def _data(self, data: bytes) -> None:
        part = self._part
        assert part is not None
        part.size += len(data)
        if part.size > self.limits.max_size:
            raise ApiError(413, f"{part.name!r} is over the limit of {self.limits.max_size} "
                                "bytes per file")
        await self._send(part, data)

    async def _end(self) -> None:
        part = self._part
        assert part is not None
        await self._send(part, None)
        key = await part.task
        self._part = None
        self.files.append(StoredFile(key, part.name, part.mime, part.size))

    @staticmethod
    async def _send(part: _Part, item: bytes | None) -> None:
        """Queue data for the storage task; if the task failed, raise its error instead of
        waiting forever on a full queue."""
        put = asyncio.ensure_future(part.stream.queue.put(item))
        done, _ = await asyncio.wait({put, part.task}, return_when=asyncio.FIRST_COMPLETED)
        if put not in done:
            put.cancel()
            part.task.result()  # raises the storage error
            raise ApiError(500, "the file store stopped reading")
