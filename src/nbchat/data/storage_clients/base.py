"""Chainlit's storage client interface, and the one base every bucket client shares.

`BaseStorageClient` is Chainlit's contract (`upload_file`, `delete_file`, `get_read_url`,
`close`), so a Chainlit app's `storage_provider=` works unchanged. `ObjectStorageClient`
also implements nbchat's `BlobStorage` (`put`, `open`, `size`, `delete`), so the same
object serves nbchat's own layers and its file route. The streaming is written once here:
a provider only implements five primitives over object names, and receives its data as
`Parts` of a fixed size, so at most one part (plus one incoming chunk) is ever in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Awaitable
from typing import Any

from nbchat.data.storage import BlobStorage, as_chunks, check_key
from nbchat.data.validation import InvalidDataError
from nbchat.ids import new_id

# Chainlit's variable and default: how long a URL from get_read_url stays valid (seconds).
storage_expiry_time = int(os.getenv("STORAGE_EXPIRY_TIME", "3600"))

MIB = 1024 * 1024


class BaseStorageClient(ABC):
    """Chainlit's base class for element bytes kept outside the database."""

    @abstractmethod
    async def upload_file(
        self,
        object_key: str,
        data: bytes | str,
        mime: str = "application/octet-stream",
        overwrite: bool = True,
        content_disposition: str | None = None,
    ) -> dict[str, Any]:
        """Store `data` under `object_key`; {"object_key": …, "url": …}."""

    @abstractmethod
    async def delete_file(self, object_key: str) -> bool:
        """Remove the object; False when there was none (or it could not be removed)."""

    @abstractmethod
    async def get_read_url(self, object_key: str) -> str:
        """A time-limited URL that reads the object (Chainlit's front end fetches it)."""

    @abstractmethod
    async def close(self) -> None:
        """Release the client's connections."""


class ObjectAlreadyExistsError(InvalidDataError):
    """upload_file(..., overwrite=False) found an object under that key."""


class Parts:
    """A chunk stream cut into parts of `size` bytes (the last may be shorter).

    `await parts.single()` is the whole data when it fits in one part (one request), else
    None, and then `async for part in parts` gives every part; after each, `last` says
    whether it was the final one. A provider `del`s each part before asking for the next,
    so no more than one part and the one being cut are alive.
    """

    def __init__(self, chunks: AsyncIterator[bytes], size: int) -> None:
        self._chunks, self.size = chunks, size
        self._carry = b""  # the bytes after the last part: lookahead, or a split chunk's tail
        self._done = self._started = False
        self._head: bytes | None = None
        self.total = 0

    async def single(self) -> bytes | None:
        first = await self.next()
        if self.last:
            return first
        self._head = first
        return None

    def __aiter__(self) -> Parts:
        return self

    async def __anext__(self) -> bytes:
        head, self._head = self._head, None
        part = head if head is not None else await self.next()
        if part is None:
            raise StopAsyncIteration
        return part

    async def _pull(self) -> bytes | None:
        try:
            return await anext(self._chunks)
        except StopAsyncIteration:
            self._done = True
            return None

    async def next(self) -> bytes | None:
        # Pieces are joined once into the part (a bytearray that grows and is cut from the
        # front keeps its old capacity and copies more): at most two parts' bytes at a time.
        pieces: list[bytes] = []
        have = 0
        while have < self.size:
            chunk = self._carry or await self._pull()
            self._carry = b""
            if chunk is None:
                break
            room = self.size - have
            if len(chunk) > room:
                chunk, self._carry = chunk[:room], chunk[room:]
            pieces.append(chunk)
            have += len(chunk)
        while not self._carry and not self._done:  # so `last` is known now
            self._carry = await self._pull() or b""
        if self._started and not pieces:
            return None
        self._started = True
        part = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        self.total += len(part)
        return part

    @property
    def last(self) -> bool:
        return self._done and not self._carry


class InFlight:
    """Part requests run while the next parts are read from the client, at most `limit` at
    a time (`limit` parts are then all the memory a write holds, besides the one being cut).

    `async with InFlight(limit) as flight: await flight.send(request)`: send waits until
    fewer than `limit` requests are running (a failed one raises there); the block's end
    waits for them all, and an error cancels those still running. With `limit=1` the parts
    go strictly one after the other (GCS's resumable upload needs that order).
    """

    def __init__(self, limit: int = 1) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit!r}")
        self.limit = limit
        self._tasks: set[asyncio.Future[None]] = set()

    async def send(self, request: Awaitable[None]) -> None:
        while len(self._tasks) >= self.limit:
            done, self._tasks = await asyncio.wait(self._tasks,
                                                   return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # a failed part fails the write now
        self._tasks.add(asyncio.ensure_future(request))

    async def wait(self) -> None:
        tasks, self._tasks = self._tasks, set()
        if tasks:
            await asyncio.gather(*tasks)

    async def __aenter__(self) -> InFlight:
        return self

    async def __aexit__(self, kind: object, *_: object) -> None:
        if kind is None:
            try:
                await self.wait()
            except BaseException:
                await self._cancel()
                raise
            return
        await self._cancel()

    async def _cancel(self) -> None:
        tasks, self._tasks = self._tasks, set()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task


def check_object_key(object_key: object) -> str:
    """A caller-chosen key (Chainlit's `user/element/name`): relative, no `..` segment."""
    if (not isinstance(object_key, str) or not object_key or len(object_key) > 1024
            or object_key.startswith("/") or ".." in object_key.split("/")
            or any(ord(c) < 32 for c in object_key)):
        raise InvalidDataError(f"{str(object_key)[:60]!r} is not a usable object key")
    return object_key


class ObjectStorageClient(BaseStorageClient, BlobStorage):
    """A bucket (or container) as both Chainlit's storage client and nbchat's BlobStorage.

    nbchat's keys (`put`) are server-made UUIDv7s stored under `prefix`; Chainlit's
    `upload_file` keys are the caller's own and are used as given.
    """

    prefix = ""
    # The bytes of one request of a big upload.
    part_size = 4 * MIB
    # Part requests of one upload in the air at once (where the service allows it); a
    # write holds at most this many parts, plus the one being cut from the incoming data.
    concurrency = 4

    # -- what a provider implements, over full object names ----------------------------------

    @abstractmethod
    async def _write(self, name: str, parts: Parts, mime: str, *, overwrite: bool,
                     content_disposition: str | None) -> None:
        """Store the parts as one object; on any error nothing is left under `name`."""

    @abstractmethod
    def _read(self, name: str) -> AsyncIterator[bytes]:
        """The object's bytes in chunks; NotFoundError when there is none."""

    @abstractmethod
    async def _size(self, name: str) -> int:
        """The object's size; NotFoundError when there is none."""

    @abstractmethod
    async def _delete(self, name: str) -> bool: ...

    @abstractmethod
    async def _read_url(self, name: str) -> str: ...

    # -- nbchat's BlobStorage ------------------------------------------------------------------

    def object_name(self, key: str) -> str:
        """Where nbchat's blob `key` lives in the bucket (tests list the bucket with it)."""
        return self.prefix + check_key(key)

    async def put(
        self,
        data: bytes | AsyncIterable[bytes],
        mime: str | None = None,
        *,
        max_size: int | None = None,
    ) -> str:
        key = new_id()
        await self._write(self.object_name(key), Parts(as_chunks(data, max_size), self.part_size),
                          # A fresh UUIDv7 collides with nothing: no existence check.
                          mime or "application/octet-stream", overwrite=True,
                          content_disposition=None)
        return key

    def open(self, key: str) -> AsyncIterator[bytes]:
        return self._read(self.object_name(key))

    async def size(self, key: str) -> int:
        return await self._size(self.object_name(key))

    async def delete(self, key: str) -> bool:
        return await self._delete(self.object_name(key))

    # -- Chainlit's BaseStorageClient ----------------------------------------------------------

    async def upload_file(
        self,
        object_key: str,
        data: bytes | str,
        mime: str = "application/octet-stream",
        overwrite: bool = True,
        content_disposition: str | None = None,
    ) -> dict[str, Any]:
        name = check_object_key(object_key)
        raw = data.encode() if isinstance(data, str) else data
        await self._write(name, Parts(as_chunks(raw), self.part_size), mime, overwrite=overwrite,
                          content_disposition=content_disposition)
        return {"object_key": name, "url": await self._read_url(name)}

    async def delete_file(self, object_key: str) -> bool:
        return await self._delete(check_object_key(object_key))

    async def get_read_url(self, object_key: str) -> str:
        return await self._read_url(check_object_key(object_key))
