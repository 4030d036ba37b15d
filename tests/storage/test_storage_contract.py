"""One contract for every blob storage: LocalStorage and the bucket clients over real
emulators (moto's S3 server, Azurite, gcp-storage-emulator). See conftest.py."""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator

import pytest

from nbchat.data import BlobStorage, BlobTooLargeError, InvalidDataError, NotFoundError
from nbchat.data.storage_clients import ObjectAlreadyExistsError, ObjectStorageClient
from storage.emulators import list_names

MB = 1024 * 1024


async def read(store: BlobStorage, key: str) -> bytes:
    return b"".join([chunk async for chunk in store.open(key)])


async def test_put_reads_back_sizes_and_deletes(storage: BlobStorage) -> None:
    key = await storage.put(b"hello bucket", "text/plain")
    assert await read(storage, key) == b"hello bucket"
    assert await storage.size(key) == 12
    assert await list_names(storage) == [key]
    assert await storage.delete(key) is True
    assert await list_names(storage) == []
    assert await storage.delete(key) is False


async def test_empty_and_streamed_data(storage: BlobStorage) -> None:
    empty = await storage.put(b"")
    assert await read(storage, empty) == b""
    assert await storage.size(empty) == 0

    async def pieces() -> AsyncIterator[bytes]:
        for i in range(5):
            yield bytes([i]) * 1000

    key = await storage.put(pieces())
    assert await read(storage, key) == b"".join(bytes([i]) * 1000 for i in range(5))


async def test_missing_and_foreign_keys(storage: BlobStorage) -> None:
    missing = "01890a5d-ac96-774b-bcce-b302099a8057"
    with pytest.raises(NotFoundError):
        await storage.size(missing)
    with pytest.raises(NotFoundError):
        await read(storage, missing)
    assert await storage.delete(missing) is False
    for bad in ("../etc/passwd", "/abs", "x"):
        with pytest.raises(InvalidDataError):
            await storage.size(bad)


async def test_over_the_limit_keeps_nothing(storage: BlobStorage) -> None:
    """Past max_size the write stops (a multipart upload is aborted) and nothing is listed."""
    async def big() -> AsyncIterator[bytes]:
        for _ in range(12):
            yield b"x" * MB

    with pytest.raises(BlobTooLargeError):
        await storage.put(big(), max_size=10 * MB)
    assert await list_names(storage) == []


async def test_big_file_streams_in_bounded_memory(storage: BlobStorage) -> None:
    """64 MB in and out; the Python heap peak is a few parts, far under the file's size."""
    size, piece = 64 * MB, 256 * 1024

    async def source() -> AsyncIterator[bytes]:
        block = bytes(range(256)) * (piece // 256)
        for _ in range(size // piece):
            yield block

    tracemalloc.start()
    try:
        key = await storage.put(source(), "application/octet-stream")
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        total = 0
        async for chunk in storage.open(key):
            total += len(chunk)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == size == await storage.size(key)
    # A write holds a few parts (the one in the air, the one being cut, the SDK's copy),
    # never the file: the bound is in parts, and under half the file.
    part = storage.part_size if isinstance(storage, ObjectStorageClient) else 4 * MB
    assert put_peak < min(6 * part, size // 2), f"put held {put_peak / MB:.1f} MB"
    assert read_peak < 24 * MB, f"open held {read_peak / MB:.1f} MB"
    assert await storage.delete(key)


async def test_chainlit_interface(bucket: ObjectStorageClient) -> None:
    """upload_file / get_read_url / delete_file with Chainlit's keys and overwrite flag."""
    storage = bucket
    name = f"{storage.prefix}user-1/el-1/report.txt"
    res = await storage.upload_file(name, "v1", "text/plain")
    assert res["object_key"] == name
    assert res["url"].startswith("http")
    res = await storage.upload_file(name, b"version 2", "text/plain", overwrite=True,
                                    content_disposition='attachment; filename="r.txt"')
    assert b"".join([c async for c in storage._read(name)]) == b"version 2"
    assert await storage.get_read_url(name) != ""
    with pytest.raises(ObjectAlreadyExistsError):
        await storage.upload_file(name, b"v3", overwrite=False)
    assert b"".join([c async for c in storage._read(name)]) == b"version 2"
    with pytest.raises(InvalidDataError):
        await storage.upload_file("../escape", b"x")
    assert await storage.delete_file(name) is True
    assert await storage.delete_file(name) is False


async def test_chainlit_big_upload_overwrite_false(bucket: ObjectStorageClient) -> None:
    """A multi-part upload_file refuses to replace an object when overwrite=False."""
    name = f"{bucket.prefix}big.bin"
    data = b"z" * (bucket.part_size * 2 + 10)
    await bucket.upload_file(name, data)
    with pytest.raises(ObjectAlreadyExistsError):
        await bucket.upload_file(name, b"y" * (bucket.part_size + 1), overwrite=False)
    assert b"".join([c async for c in bucket._read(name)]) == data
    assert await bucket.delete_file(name)
