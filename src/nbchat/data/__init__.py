"""Persistence: the data layer contract, its SQLite and PostgreSQL backends, blob storage.

    layer = make_data_layer(config_url, app_dir)   # None → <app_dir>/.nbchat/nbchat.db
    await layer.create_step(step, durable=True)
    page = await layer.list_threads(Pagination(first=20), ThreadFilter(search="invoice"))
    await layer.close()                             # flushes the write-behind queue

Importing this package is cheap: aiosqlite and asyncpg are imported on first connection.
See docs/persistence.md.
"""

from __future__ import annotations

from pathlib import Path

from nbchat.data.base import SHARED_KEY, BaseDataLayer, is_shared
from nbchat.data.postgres import PostgresDataLayer
from nbchat.data.queued import QueuedDataLayer
from nbchat.data.sqlite import SQLiteDataLayer
from nbchat.data.storage import BlobStorage, BlobTooLargeError, LocalStorage
from nbchat.data.validation import (
    DataLayerError,
    InvalidDataError,
    Limits,
    NotFoundError,
    StoreUnavailableError,
    WriteFailedError,
)
from nbchat.errors import ConfigError

__all__ = [
    "SHARED_KEY",
    "BaseDataLayer",
    "BlobStorage",
    "BlobTooLargeError",
    "DataLayerError",
    "InvalidDataError",
    "Limits",
    "LocalStorage",
    "NotFoundError",
    "PostgresDataLayer",
    "QueuedDataLayer",
    "SQLiteDataLayer",
    "StoreUnavailableError",
    "WriteFailedError",
    "blob_storage",
    "is_shared",
    "make_data_layer",
]

DB_FILE = Path(".nbchat") / "nbchat.db"
FILES_DIR = Path(".nbchat") / "files"


def blob_storage(layer: BaseDataLayer, app_dir: Path) -> BlobStorage:
    """Where a host keeps the layer's blobs: its own storage, else `<app_dir>/.nbchat/files/`."""
    storage = layer.storage if isinstance(layer, QueuedDataLayer) else None
    return storage or LocalStorage(Path(app_dir) / FILES_DIR)


def make_data_layer(url: str | None, app_dir: Path) -> BaseDataLayer:
    """The data layer for a database URL (nbchat.yaml `data.url` or NBCHAT_DATABASE_URL).

    None → SQLite at `<app_dir>/.nbchat/nbchat.db`. `sqlite:///rel.db` (relative to the
    app folder), `sqlite:////abs/path.db` or a plain path → SQLite. `postgresql://…` or
    `postgres://…` → PostgreSQL. Blobs go to `<app_dir>/.nbchat/files/` in every case.
    Nothing connects until the first call.
    """
    app_dir = Path(app_dir)
    storage = LocalStorage(app_dir / FILES_DIR)
    if url is None or not url.strip():
        return SQLiteDataLayer(app_dir / DB_FILE, storage)
    url = url.strip()
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresDataLayer(url, storage)
    if url.startswith("sqlite:"):
        if not url.startswith("sqlite:///") or url == "sqlite:///":
            raise ConfigError(
                f"data.url={url!r}: write sqlite:///relative/file.db or "
                "sqlite:////absolute/file.db (three or four slashes)")
        url = url[len("sqlite:///"):]
    elif "://" in url:
        raise ConfigError(
            f"data.url={url!r} has an unknown scheme; use a file path, sqlite:///file.db "
            "or postgresql://user@host/dbname")
    path = Path(url).expanduser()
    return SQLiteDataLayer(path if path.is_absolute() else app_dir / path, storage)
