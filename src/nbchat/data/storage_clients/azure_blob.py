"""Azure Blob Storage through the SDK's aio client: `pip install nbchat[azure]`.

    AzureBlobStorageClient("container", "account", "<key>")
    AzureBlobStorageClient("container", "devstoreaccount1", "<key>",
                           account_url="http://127.0.0.1:10000/devstoreaccount1")  # Azurite

`account_url` (nbchat's one addition to Chainlit's signature) reaches an emulator or a
sovereign cloud. A big object is staged as 4 MiB blocks (`concurrency`, 4, of them in
the air at once) and committed at the end, so a
failed upload leaves only uncommitted blocks, which Azure discards.
"""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from nbchat.data.storage_clients.base import (
    InFlight,
    ObjectAlreadyExistsError,
    ObjectStorageClient,
    Parts,
    storage_expiry_time,
)
from nbchat.data.validation import NotFoundError

# The SDK reads up to 32 MiB in its first request by default; keep reads chunk-sized.
_READ_CHUNK = 4 * 1024 * 1024


class AzureBlobStorageClient(ObjectStorageClient):
    """Element bytes in a container of an Azure storage account (shared key auth)."""

    def __init__(self, container_name: str, storage_account: str, storage_key: str,
                 account_url: str | None = None) -> None:
        self.container_name = container_name
        self.storage_account = storage_account
        self.storage_key = storage_key
        self.account_url = account_url or f"https://{storage_account}.blob.core.windows.net"
        self._service: Any = None
        self._lock = asyncio.Lock()

    async def container(self) -> Any:
        """The aio ContainerClient, made on first use (it belongs to the running loop)."""
        async with self._lock:
            if self._service is None:
                from azure.storage.blob.aio import BlobServiceClient

                self._service = BlobServiceClient(
                    self.account_url,
                    credential={"account_name": self.storage_account,
                                "account_key": self.storage_key},
                    max_single_get_size=_READ_CHUNK, max_chunk_get_size=_READ_CHUNK)
        return self._service.get_container_client(self.container_name)

    async def _blob(self, name: str) -> Any:
        return (await self.container()).get_blob_client(name)

    async def _write(self, name: str, parts: Parts, mime: str, *, overwrite: bool,
                     content_disposition: str | None) -> None:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import ContentSettings

        blob = await self._blob(name)
        settings = ContentSettings(content_type=mime, content_disposition=content_disposition)
        try:
            whole = await parts.single()
            if whole is not None:
                await blob.upload_blob(whole, overwrite=overwrite, content_settings=settings)
                return
            blocks: list[str] = []
            async with InFlight(self.concurrency) as flight:
                async for part in parts:
                    block_id = base64.b64encode(f"{len(blocks):08d}".encode()).decode()
                    # A stream, not bytes: aiohttp warns that a big bytes body blocks the loop.
                    await flight.send(blob.stage_block(block_id, io.BytesIO(part),
                                                       length=len(part)))
                    blocks.append(block_id)
                    del part
            # commit_block_list takes no "if missing" condition: ask first (a race remains).
            if not overwrite and await blob.exists():
                raise ResourceExistsError(f"{name} exists")
            await blob.commit_block_list(blocks, content_settings=settings)
        except ResourceExistsError:
            raise ObjectAlreadyExistsError(f"{name!r} exists in {self.container_name}") from None

    async def _read(self, name: str) -> AsyncIterator[bytes]:
        from azure.core.exceptions import ResourceNotFoundError

        blob = await self._blob(name)
        try:
            downloader = await blob.download_blob()
        except ResourceNotFoundError:
            raise NotFoundError(f"no blob {name} in {self.container_name}") from None
        async for chunk in downloader.chunks():
            yield chunk

    async def _size(self, name: str) -> int:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            props = await (await self._blob(name)).get_blob_properties()
        except ResourceNotFoundError:
            raise NotFoundError(f"no blob {name} in {self.container_name}") from None
        return int(props.size)

    async def _delete(self, name: str) -> bool:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            await (await self._blob(name)).delete_blob()
        except ResourceNotFoundError:
            return False
        return True

    async def _read_url(self, name: str) -> str:
        from azure.storage.blob import BlobSasPermissions, generate_blob_sas

        sas = generate_blob_sas(
            self.storage_account, self.container_name, name, account_key=self.storage_key,
            permission=BlobSasPermissions(read=True),
            expiry=datetime.now(UTC) + timedelta(seconds=storage_expiry_time))
        url: str = (await self._blob(name)).url
        return f"{url}?{sas}"

    async def close(self) -> None:
        async with self._lock:
            if self._service is not None:
                await self._service.close()
                self._service = None
