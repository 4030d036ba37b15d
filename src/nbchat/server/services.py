"""What the HTTP handlers are given: the data layer, blob storage, limits and identity.

Both hosts (the Jupyter server extension and, later, `nbchat serve`) build one `Services`
and pass it to `make_handlers`; no handler reaches for a global.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nbchat.data import BlobStorage, NativeDataLayer
from nbchat.uploads.files import MB, UploadLimits

if TYPE_CHECKING:
    from nbchat.jupyter.kernel_stores import KernelStores
    from nbchat.server.auth import Identity
    from nbchat.uploads.tickets import UploadDesk


@dataclass(frozen=True)
class Services:
    """Everything the REST handlers use. One instance per mounted API."""

    data: NativeDataLayer
    storage: BlobStorage
    identity: Identity
    uploads: UploadLimits = field(default_factory=UploadLimits)
    # Largest JSON request body (rename, share, feedback), in bytes.
    max_json_body: int = 1 * MB
    # Tickets of live chats' uploads sent over HTTP (`PUT uploads/{ticket}`), if any.
    live_uploads: UploadDesk | None = None
    # Stores kernels registered, chosen per request by `?store=<id>` (Jupyter extension).
    stores: KernelStores | None = None
    # Ends the live chats of a thread just deleted (`ChatHost.end_thread` in nbchat serve).
    end_live_thread: Callable[[str], Awaitable[None]] | None = None
