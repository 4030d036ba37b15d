"""Persistence: the data layer contract, its SQLite and PostgreSQL backends, blob storage.

A custom layer subclasses `BaseDataLayer` (Chainlit's contract) and is plugged in as in
Chainlit: `@cl.data_layer` (a function returning it) or `nbchat.data._data_layer = layer`.

    layer = make_data_layer(config_url, app_dir)   # None → <app_dir>/.nbchat/nbchat.db
    await layer.create_step(step, durable=True)
    page = await layer.list_threads(Pagination(first=20), ThreadFilter(search="invoice"))
    await layer.close()                             # flushes the write-behind queue

Importing this package is cheap: aiosqlite and asyncpg are imported on first connection.
See docs/persistence.md.
"""

from __future__ import annotations

from pathlib import Path

from nbchat.data.adapter import AdaptedDataLayer
from nbchat.data.base import BaseDataLayer
from nbchat.data.native import SHARED_KEY, NativeDataLayer, is_shared
from nbchat.data.postgres import PostgresDataLayer
from nbchat.data.queued import QueuedDataLayer
from nbchat.data.sqlite import SQLiteDataLayer
from nbchat.data.storage import BlobStorage, BlobTooLargeError, LocalStorage
from nbchat.data.utils import queue_until_user_message
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
    "AdaptedDataLayer",
    "BaseDataLayer",
    "BlobStorage",
    "BlobTooLargeError",
    "DataLayerError",
    "InvalidDataError",
    "Limits",
    "LocalStorage",
    "NativeDataLayer",
    "NotFoundError",
    "PostgresDataLayer",
    "QueuedDataLayer",
    "SQLiteDataLayer",
    "StoreUnavailableError",
    "WriteFailedError",
    "blob_storage",
    "get_data_layer",
    "is_shared",
    "make_data_layer",
    "make_storage",
    "queue_until_user_message",
    "resolve_data_layer",
]

# Chainlit's module global: a layer set here is used by every host (after an explicit
# argument and `@cl.data_layer`); see nbchat.data.plug.resolve_data_layer.
_data_layer: BaseDataLayer | NativeDataLayer | None = None


def get_data_layer() -> BaseDataLayer | NativeDataLayer | None:
    """The current app's layer as the app made it (Chainlit's accessor): what its
    `@cl.data_layer` function returned, else `nbchat.data._data_layer`, else None."""
    from nbchat.app import current_app

    return brought_layer(current_app())


DB_FILE = Path(".nbchat") / "nbchat.db"
FILES_DIR = Path(".nbchat") / "files"


def blob_storage(layer: NativeDataLayer, app_dir: Path) -> BlobStorage:
    """Where a host keeps the layer's blobs: its own storage, else `<app_dir>/.nbchat/files/`."""
    storage = layer.storage if isinstance(layer, QueuedDataLayer) else None
    return storage or LocalStorage(Path(app_dir) / FILES_DIR)


def make_storage(storage_url: str | None, app_dir: Path) -> BlobStorage:
    """The blob storage of nbchat.yaml `data.storage_url`: a bucket, else the app's folder."""
    if storage_url and storage_url.strip():
        from nbchat.data.storage_clients import storage_from_url

        return storage_from_url(storage_url)
    return LocalStorage(Path(app_dir) / FILES_DIR)


def make_data_layer(url: str | None, app_dir: Path,
                    storage_url: str | None = None) -> NativeDataLayer:
    """The data layer for a database URL (nbchat.yaml `data.url` or NBCHAT_DATABASE_URL).

    None → SQLite at `<app_dir>/.nbchat/nbchat.db`. `sqlite:///rel.db` (relative to the
    app folder), `sqlite:////abs/path.db` or a plain path → SQLite. `postgresql://…` or
    `postgres://…` → PostgreSQL. Blobs go to the bucket of `storage_url`
    (`data.storage_url`, see nbchat.data.storage_clients), else `<app_dir>/.nbchat/files/`.
    Nothing connects until the first call.
    """
    app_dir = Path(app_dir)
    storage = make_storage(storage_url, app_dir)
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


from nbchat.data.plug import brought_layer, resolve_data_layer  # noqa: E402 - uses the above
