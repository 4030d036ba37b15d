"""Blob storage for uploads and element bytes, under keys the server generates.

Security invariant (BRIEF §4.1): no path is ever built from client input. A key is a
UUIDv7 made by `put`; every other method validates its key against a strict regex
*before* joining it to the folder, so `../x`, absolute paths or odd characters are
refused with InvalidDataError rather than resolved.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

from nbchat.data.validation import InvalidDataError, NotFoundError
from nbchat.ids import new_id

KEY_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
CHUNK = 256 * 1024


class BlobTooLargeError(InvalidDataError):
    """The data passed `max_size` while it streamed in; nothing was kept."""


def check_key(key: object) -> str:
    if not isinstance(key, str) or not KEY_RE.fullmatch(key):
        raise InvalidDataError(f"{str(key)[:60]!r} is not a blob key made by this server")
    return key


class BlobStorage(ABC):
    """Where element bytes live: LocalStorage, or a bucket (nbchat.data.storage_clients)."""

    @abstractmethod
    async def put(
        self,
        data: bytes | AsyncIterable[bytes],
        mime: str | None = None,
        *,
        max_size: int | None = None,
    ) -> str:
        """Store the bytes (all at once or streamed) and return their new key."""

    @abstractmethod
    def open(self, key: str) -> AsyncIterator[bytes]:
        """The bytes of `key` in chunks; NotFoundError if there is no such blob."""

    async def get(self, key: str) -> bytes:
        return b"".join([chunk async for chunk in self.open(key)])

    @abstractmethod
    async def size(self, key: str) -> int: ...

    @abstractmethod
    async def delete(self, key: str) -> bool:
        """Remove the blob; False if it did not exist."""

    async def close(self) -> None:  # noqa: B027 (optional: only a client has connections)
        """Release connections (a bucket client's; a folder has none). Used again, it reopens."""


class LocalStorage(BlobStorage):
    """Files in one folder (by default `<app>/.nbchat/files/`), one file per key.

    Writes go to `<key>.part` and are renamed into place, so a reader or a crash never
    sees half a file. `mime` is not kept: the element row carries it.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put(
        self,
        data: bytes | AsyncIterable[bytes],
        mime: str | None = None,
        *,
        max_size: int | None = None,
    ) -> str:
        key = new_id()
        final = self._path(key)
        part = final.with_name(key + ".part")
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)
        fh = await asyncio.to_thread(open, part, "xb")
        try:
            async for chunk in as_chunks(data, max_size):
                await asyncio.to_thread(fh.write, chunk)
            await asyncio.to_thread(fh.flush)
            await asyncio.to_thread(os.fsync, fh.fileno())
        except BaseException:
            fh.close()
            with contextlib.suppress(FileNotFoundError):
                part.unlink()
            raise
        fh.close()
        await asyncio.to_thread(os.replace, part, final)
        return key

    async def open(self, key: str) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            fh = await asyncio.to_thread(open, path, "rb")
        except FileNotFoundError:
            raise NotFoundError(f"no blob {key}") from None
        try:
            while chunk := await asyncio.to_thread(fh.read, CHUNK):
                yield chunk
        finally:
            fh.close()

    async def size(self, key: str) -> int:
        try:
            return (await asyncio.to_thread(self._path(key).stat)).st_size
        except FileNotFoundError:
            raise NotFoundError(f"no blob {key}") from None

    async def delete(self, key: str) -> bool:
        try:
            await asyncio.to_thread(self._path(key).unlink)
        except FileNotFoundError:
            return False
        return True


async def as_chunks(
    data: bytes | AsyncIterable[bytes], max_size: int | None = None,
) -> AsyncIterator[bytes]:
    """The data as byte chunks; BlobTooLargeError as soon as it passes `max_size`.

    Every storage writes through this, so the limit is checked while the data streams in
    and a backend's own clean-up (a removed .part file, an aborted multipart upload) runs.
    """
    total = 0
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data)
        source: AsyncIterable[bytes] = _slices(view)
    else:
        source = data
    async for chunk in source:
        if not isinstance(chunk, bytes | bytearray):
            raise InvalidDataError(f"blob chunks must be bytes, got {type(chunk).__name__}")
        total += len(chunk)
        if max_size is not None and total > max_size:
            raise BlobTooLargeError(f"the data is over the limit of {max_size} bytes")
        yield bytes(chunk)


async def _slices(view: memoryview) -> AsyncIterator[bytes]:
    for i in range(0, len(view), CHUNK):
        yield bytes(view[i : i + CHUNK])
