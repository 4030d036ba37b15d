"""What the HTTP handlers are given: the data layer, blob storage, limits and identity.

Both hosts (the Jupyter server extension and, later, `nbchat serve`) build one `Services`
and pass it to `make_handlers`; no handler reaches for a global.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nbchat.data import BaseDataLayer, BlobStorage

if TYPE_CHECKING:
    from nbchat.config import UploadConfig
    from nbchat.server.auth import Identity
    from nbchat.upload_tickets import UploadDesk

MB = 1024 * 1024


@dataclass(frozen=True)
class UploadLimits:
    """Checked while an upload streams in: per-file size, files per request, accepted types.

    `accept` holds mime patterns (`image/*`, `application/pdf`, `*/*`) and extensions
    (`.csv`), with the meaning of the `accept` of `AskFileMessage`.
    """

    accept: tuple[str, ...] = ("*/*",)
    max_files: int = 20
    max_size: int = 500 * MB  # bytes, per file

    @classmethod
    def from_config(cls, upload: UploadConfig) -> UploadLimits:
        """From `features.spontaneous_file_upload` (max_size_mb is in MiB)."""
        return cls(tuple(upload.accept), upload.max_files, upload.max_size_mb * MB)

    @property
    def max_body(self) -> int:
        """Largest multipart body accepted: every file at its limit, plus part headers."""
        return self.max_files * (self.max_size + 16 * 1024) + 64 * 1024


@dataclass(frozen=True)
class Services:
    """Everything the REST handlers use. One instance per mounted API."""

    data: BaseDataLayer
    storage: BlobStorage
    identity: Identity
    uploads: UploadLimits = field(default_factory=UploadLimits)
    # Largest JSON request body (rename, share, feedback), in bytes.
    max_json_body: int = 1 * MB
    # Tickets of live chats' uploads sent over HTTP (`PUT uploads/{ticket}`), if any.
    live_uploads: UploadDesk | None = None
