"""Where each notebook kernel keeps its chats, told to the Jupyter server extension.

A widget stores its chats where its kernel's config says: by default `.nbchat/` in the
notebook's own folder (the kernel's working directory), or `data.url`, and their files in
that folder or the bucket of `data.storage_url`. The extension's
history API opens the store of the server's root folder, so a notebook in a subfolder
would show an empty History panel, and a thread picked there could not be resumed.
So every kernel registers its store: `register()` writes
`<Jupyter runtime dir>/nbchat-stores/<id>.json` (`{"url": ..., "app_dir": ...,
"storage_url": ...}`, 0600 in a 0700 folder, as a storage URL may carry a bucket's keys; the
id is a hash of all three, so kernels on one store share one file) and the
widget gets the id (`ChatWidget.history_store`), which its API calls send as `?store=<id>`.
The extension's `KernelStores` opens the data layer a registered file names and keeps it
open. As for upload tickets, the folder is the trust channel: only the user's own
processes write there, and a request names an opaque id, never a path.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from nbchat.data import BlobStorage, NativeDataLayer, blob_storage, make_data_layer
from nbchat.errors import ConfigError
from nbchat.jupyter.runtime_dir import runtime_folder, write_private

STORE_RE = re.compile(r"[0-9a-f]{32}")
FOLDER = "nbchat-stores"


def register(url: str | None, app_dir: Path, folder: Path | None = None, *,
             storage_url: str | None = None) -> str:
    """Record a kernel's store (data.url, app folder, data.storage_url); returns its id."""
    folder = folder or runtime_folder(FOLDER)
    terms = json.dumps({"url": url, "app_dir": str(Path(app_dir).resolve()),
                        "storage_url": storage_url}, sort_keys=True)
    store_id = hashlib.sha256(terms.encode()).hexdigest()[:32]
    path = folder / f"{store_id}.json"
    if not path.is_file():
        write_private(path, terms)
    return store_id


class KernelStores:
    """The extension's side: the data layer and blob storage of a registered store."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._open: dict[str, tuple[NativeDataLayer, BlobStorage]] = {}

    def open(self, store_id: str) -> tuple[NativeDataLayer, BlobStorage] | None:
        """The store's layer and storage; None for an id no kernel registered."""
        if store_id in self._open:
            return self._open[store_id]
        if not STORE_RE.fullmatch(store_id):
            return None
        try:
            terms = json.loads((self.folder / f"{store_id}.json").read_text())
            url, app_dir = terms["url"], Path(terms["app_dir"])
            layer = make_data_layer(url, app_dir, terms.get("storage_url"))
        except (OSError, ValueError, KeyError, TypeError, ConfigError):
            return None
        self._open[store_id] = (layer, blob_storage(layer, app_dir))
        return self._open[store_id]

    async def close(self) -> None:
        opened, self._open = list(self._open.values()), {}
        for layer, _ in opened:
            await layer.close()
