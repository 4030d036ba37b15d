"""Azure Data Lake Storage Gen2 through the SDK's aio client: `pip install nbchat[azure]`.

    AzureStorageClient("https://<account>.dfs.core.windows.net", "filesystem", credential)

Chainlit's signature: `credential` is an account key, a dict, or an azure-core credential;
`sas_token` is appended to read URLs. A big file is appended in 4 MiB pieces and flushed
once at the end; a failed upload deletes the half-written file. Azurite has no Data Lake
(dfs) endpoint, so tests/storage checks this client's construction and URLs only.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator
from typing import Any

from nbchat.data.storage_clients.base import ObjectAlreadyExistsError, ObjectStorageClient, Parts
from nbchat.data.validation import NotFoundError


class AzureStorageClient(ObjectStorageClient):
    """Element bytes as files of one Data Lake file system."""

    def __init__(self, account_url: str, container: str, credential: Any,
                 sas_token: str | None = None) -> None:
        self.account_url = account_url
        self.container = container
        self.credential = credential
        self.sas_token = sas_token
        self._service: Any = None
        self._lock = asyncio.Lock()

    async def _file(self, name: str) -> Any:
        async with self._lock:
            if self._service is None:
                from azure.storage.filedatalake.aio import DataLakeServiceClient

                self._service = DataLakeServiceClient(self.account_url,
                                                      credential=self.credential)
        return self._service.get_file_system_client(self.container).get_file_client(name)

    async def _write(self, name: str, parts: Parts, mime: str, *, overwrite: bool,
                     content_disposition: str | None) -> None:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.filedatalake import ContentSettings

        file = await self._file(name)
        settings = ContentSettings(content_type=mime, content_disposition=content_disposition)
        cond: dict[str, Any] = ({} if overwrite else
                                {"etag": "*", "match_condition": MatchConditions.IfMissing})
        try:
            await file.create_file(content_settings=settings, **cond)
        except ResourceExistsError:
            raise ObjectAlreadyExistsError(f"{name!r} exists in {self.container}") from None
        try:
            offset = 0
            async for part in parts:
                if part:
                    await file.append_data(io.BytesIO(part), offset=offset, length=len(part))
                offset += len(part)
                del part
            await file.flush_data(offset, content_settings=settings)
        except BaseException:
            with contextlib.suppress(Exception):
                await file.delete_file()
            raise

    async def _read(self, name: str) -> AsyncIterator[bytes]:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            downloader = await (await self._file(name)).download_file()
        except ResourceNotFoundError:
            raise NotFoundError(f"no file {name} in {self.container}") from None
        async for chunk in downloader.chunks():
            yield chunk

    async def _size(self, name: str) -> int:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            props = await (await self._file(name)).get_file_properties()
        except ResourceNotFoundError:
            raise NotFoundError(f"no file {name} in {self.container}") from None
        return int(props.size)

    async def _delete(self, name: str) -> bool:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            await (await self._file(name)).delete_file()
        except ResourceNotFoundError:
            return False
        return True

    async def _read_url(self, name: str) -> str:
        url: str = (await self._file(name)).url
        if self.sas_token:
            return f"{url}?{self.sas_token.lstrip('?')}"
        return url

    async def close(self) -> None:
        async with self._lock:
            if self._service is not None:
                await self._service.close()
                self._service = None
