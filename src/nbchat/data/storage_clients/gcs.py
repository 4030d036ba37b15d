"""Google Cloud Storage through gcloud-aio-storage (aiohttp): `pip install nbchat[gcs]`.

    GCSStorageClient("bucket", project_id="…", client_email="…", private_key="…")

Without a key the default credentials are used; with `STORAGE_EMULATOR_HOST` set (as
Google's own clients read it) requests go to that emulator without credentials. A big
object is a resumable upload sent in 4 MiB pieces (gcloud-aio-storage would send one
stream it can seek, which an async source is not), cancelled when the data fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from nbchat.data.storage import CHUNK
from nbchat.data.storage_clients.base import (
    InFlight,
    ObjectAlreadyExistsError,
    ObjectStorageClient,
    Parts,
    storage_expiry_time,
)
from nbchat.data.validation import NotFoundError, WriteFailedError


def _status(exc: BaseException) -> int:
    return int(getattr(exc, "status", 0) or 0)


class GCSStorageClient(ObjectStorageClient):
    """Element bytes in a GCS bucket; a service account key, default credentials or an emulator."""

    def __init__(self, bucket_name: str, project_id: str | None = None,
                 client_email: str | None = None, private_key: str | None = None) -> None:
        self.bucket_name = bucket_name
        self.project_id = project_id
        self._key = ({"type": "service_account", "project_id": project_id,
                      "client_email": client_email, "private_key": private_key,
                      "token_uri": "https://oauth2.googleapis.com/token"}
                     if client_email and private_key else None)
        self.emulator = os.environ.get("STORAGE_EMULATOR_HOST") or None
        if self.emulator and not self.emulator.startswith("http"):
            self.emulator = "http://" + self.emulator
        self.api_root = self.emulator or "https://storage.googleapis.com"
        self._storage: Any = None
        self._token: Any = None
        self._lock = asyncio.Lock()

    async def storage(self) -> Any:
        """The gcloud-aio Storage, made on first use (its aiohttp session needs a loop)."""
        async with self._lock:
            if self._storage is None:
                from gcloud.aio.auth import Token
                from gcloud.aio.storage import Storage

                if self.emulator is None:
                    service = io.StringIO(json.dumps(self._key)) if self._key else None
                    self._token = Token(service_file=service,
                                        scopes=["https://www.googleapis.com/auth/devstorage.read_write"])
                self._storage = Storage(token=self._token, api_root=self.emulator)
        return self._storage

    async def _auth(self) -> dict[str, str]:
        if self._token is None:
            return {}
        return {"Authorization": f"Bearer {await self._token.get()}"}

    async def _write(self, name: str, parts: Parts, mime: str, *, overwrite: bool,
                     content_disposition: str | None) -> None:
        storage = await self.storage()
        params = {} if overwrite else {"ifGenerationMatch": "0"}
        meta = {"contentDisposition": content_disposition} if content_disposition else None
        if not overwrite and await self._exists(name):
            # ifGenerationMatch=0 guards a real bucket; the emulator ignores it, so ask too.
            raise ObjectAlreadyExistsError(f"{name!r} exists in {self.bucket_name}")
        try:
            whole = await parts.single()
            if whole:  # (the emulator drops a simple upload of no bytes: b"" goes resumable)
                await storage.upload(self.bucket_name, name, whole, content_type=mime,
                                     parameters=params, metadata=meta)
                return
            await self._resumable(storage, name, whole, parts, mime, params, meta or {})
        except Exception as exc:
            if _status(exc) == 412:
                raise ObjectAlreadyExistsError(f"{name!r} exists in {self.bucket_name}") from None
            raise

    async def _resumable(self, storage: Any, name: str, empty: bytes | None, parts: Parts,
                         mime: str, params: dict[str, str], meta: dict[str, str]) -> None:
        """Google's resumable upload protocol, one request per part (`empty`: no bytes)."""
        session = storage.session.session  # gcloud-aio's aiohttp.ClientSession
        auth = await self._auth()
        async with session.post(
                f"{self.api_root}/upload/storage/v1/b/{quote(self.bucket_name, safe='')}/o",
                params={"uploadType": "resumable", "name": name, **params},
                json={"name": name, "contentType": mime, **meta},
                headers={**auth, "X-Upload-Content-Type": mime}) as res:
            res.raise_for_status()
            uri = res.headers["Location"]
        try:
            if empty is not None:
                await self._send(session, uri, auth, b"", 0, last=True, name=name)
                return
            start = 0
            async with InFlight() as flight:
                async for part in parts:
                    await flight.send(self._send(session, uri, auth, part, start,
                                                 last=parts.last, name=name))
                    start += len(part)
                    del part
        except BaseException:
            with contextlib.suppress(Exception):
                async with session.delete(uri, headers=auth):
                    pass
            raise

    @staticmethod
    async def _send(session: Any, uri: str, auth: dict[str, str], part: bytes, start: int, *,
                    last: bool, name: str) -> None:
        end = start + len(part)
        total = str(end) if last else "*"
        span = f"bytes {start}-{end - 1}/{total}" if part else f"bytes */{total}"
        # A stream, not bytes: aiohttp warns that a big bytes body blocks the loop.
        async with session.put(uri, data=io.BytesIO(part),
                               headers={**auth, "Content-Range": span}) as res:
            if res.status not in ((200, 201) if last else (308,)):
                raise WriteFailedError(f"GCS answered {res.status} to a piece of {name}: "
                                       f"{(await res.text())[:200]}")

    async def _read(self, name: str) -> AsyncIterator[bytes]:
        storage = await self.storage()
        try:
            stream = await storage.download_stream(self.bucket_name, name)
        except Exception as exc:
            if _status(exc) == 404:
                raise NotFoundError(f"no object {name} in {self.bucket_name}") from None
            raise
        async with stream:
            while chunk := await stream.read(CHUNK):
                yield chunk

    async def _size(self, name: str) -> int:
        storage = await self.storage()
        try:
            meta = await storage.download_metadata(self.bucket_name, name)
        except Exception as exc:
            if _status(exc) == 404:
                raise NotFoundError(f"no object {name} in {self.bucket_name}") from None
            raise
        return int(meta["size"])

    async def _exists(self, name: str) -> bool:
        try:
            await self._size(name)
        except NotFoundError:
            return False
        return True

    async def _delete(self, name: str) -> bool:
        storage = await self.storage()
        try:
            await storage.delete(self.bucket_name, name)
        except Exception as exc:
            if _status(exc) == 404:
                return False
            raise
        return True

    async def _read_url(self, name: str) -> str:
        if self.emulator is not None:  # an emulator serves objects without signatures
            return (f"{self.api_root}/download/storage/v1/b/{quote(self.bucket_name, safe='')}"
                    f"/o/{quote(name, safe='')}?alt=media")
        from gcloud.aio.storage import Blob, Bucket

        storage = await self.storage()
        blob = Blob(Bucket(storage, self.bucket_name), name, {})
        url: str = await blob.get_signed_url(storage_expiry_time, token=self._token)
        return url

    async def close(self) -> None:
        async with self._lock:
            if self._storage is not None:
                await self._storage.close()
                self._storage = None
