"""Blob storage: server-generated keys only, no path from input, no partial files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nbchat.data import BlobTooLargeError, InvalidDataError, LocalStorage, NotFoundError


async def test_put_get_delete(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "files")
    key = await storage.put(b"x" * 600_000, "application/octet-stream")
    assert await storage.size(key) == 600_000
    assert await storage.get(key) == b"x" * 600_000
    assert await storage.delete(key) is True
    assert await storage.delete(key) is False
    with pytest.raises(NotFoundError):
        await storage.get(key)


async def test_streamed_put_with_limit_leaves_nothing(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"y" * 1000

    key = await storage.put(chunks(), None, max_size=10_000)
    assert await storage.get(key) == b"y" * 10_000
    with pytest.raises(BlobTooLargeError):
        await storage.put(chunks(), None, max_size=9_999)
    assert sorted(p.name for p in tmp_path.iterdir()) == [key]  # no .part left behind


@pytest.mark.parametrize(
    "key", ["../secret", "/etc/passwd", "a" * 36, "", "01a20805-e660-7000-82e5-8c2aa20a188"]
)
async def test_keys_not_made_by_the_server_are_refused(tmp_path: Path, key: str) -> None:
    (tmp_path / "secret").write_text("top")
    storage = LocalStorage(tmp_path / "files")
    with pytest.raises(InvalidDataError, match="not a blob key"):
        await storage.get(key)
    with pytest.raises(InvalidDataError):
        await storage.delete(key)
