"""Amazon S3 (and S3-compatible servers) through aiobotocore: `pip install nbchat[s3]`.

    S3StorageClient("my-bucket", endpoint_url="http://127.0.0.1:9000",
                    aws_access_key_id="…", aws_secret_access_key="…", region_name="…")

The keywords go to aiobotocore's `create_client("s3", …)` as in Chainlit. A big object is
a multipart upload of 5 MiB parts, one in the air while the next is read (see
`concurrency`), aborted when the data fails or passes its limit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from nbchat.data.storage import CHUNK
from nbchat.data.storage_clients.base import (
    MIB,
    InFlight,
    ObjectAlreadyExistsError,
    ObjectStorageClient,
    Parts,
    storage_expiry_time,
)
from nbchat.data.validation import NotFoundError

_MISSING = ("404", "NoSuchKey", "NotFound")


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


class S3StorageClient(ObjectStorageClient):
    """Element bytes in an S3 bucket; `kwargs` configure the aiobotocore S3 client."""

    def __init__(self, bucket: str, **kwargs: Any) -> None:
        import inspect

        from botocore.session import Session

        # Refuse a misspelt keyword now, not at the first upload.
        known = inspect.signature(Session.create_client).parameters  # aiobotocore's is *args
        unknown = sorted(set(kwargs) - set(known) - {"service_name"})
        if unknown:
            raise TypeError(f"unknown S3 client keyword(s) {unknown}; see aiobotocore's "
                            "create_client (endpoint_url, region_name, aws_access_key_id, …)")
        self.bucket = bucket
        self.part_size = 5 * MIB  # S3's smallest part but the last
        # One part in the air: botocore keeps copies of a part's body while it is sent
        # (checksums, the request), so two in the air held ~38 MB of a 64 MB file and four
        # ~59 MB (tests/storage's bounded-memory test), for 10-15% less time on moto.
        self.concurrency = 1
        self.client_kwargs = kwargs
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None
        self._lock = asyncio.Lock()

    async def client(self) -> Any:
        """The aiobotocore client, made on first use (it belongs to the running loop)."""
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    from aiobotocore.session import get_session

                    self._client = await self._stack.enter_async_context(
                        get_session().create_client("s3", **self.client_kwargs))
        return self._client

    async def _write(self, name: str, parts: Parts, mime: str, *, overwrite: bool,
                     content_disposition: str | None) -> None:
        s3 = await self.client()
        extra: dict[str, Any] = {"ContentType": mime}
        if content_disposition:
            extra["ContentDisposition"] = content_disposition
        cond: dict[str, Any] = {} if overwrite else {"IfNoneMatch": "*"}
        try:
            whole = await parts.single()
            if whole is not None:
                await s3.put_object(Bucket=self.bucket, Key=name, Body=whole, **extra, **cond)
                return
            upload = await s3.create_multipart_upload(Bucket=self.bucket, Key=name, **extra)
            upload_id = upload["UploadId"]
            try:
                done: list[dict[str, Any]] = []

                async def send(part: bytes, number: int) -> None:
                    res = await s3.upload_part(Bucket=self.bucket, Key=name, Body=part,
                                               PartNumber=number, UploadId=upload_id)
                    done.append({"ETag": res["ETag"], "PartNumber": number})

                async with InFlight(self.concurrency) as flight:
                    number = 0
                    async for part in parts:
                        number += 1
                        await flight.send(send(part, number))
                        del part
                done.sort(key=lambda p: p["PartNumber"])  # (they finish in any order)
                await s3.complete_multipart_upload(
                    Bucket=self.bucket, Key=name, UploadId=upload_id,
                    MultipartUpload={"Parts": done}, **cond)
            except BaseException:
                with contextlib.suppress(Exception):
                    await s3.abort_multipart_upload(Bucket=self.bucket, Key=name,
                                                    UploadId=upload_id)
                raise
        except Exception as exc:
            if _code(exc) in ("PreconditionFailed", "412"):
                raise ObjectAlreadyExistsError(f"{name!r} exists in {self.bucket}") from None
            raise

    async def _call(self, operation: str, name: str) -> Any:
        """get_object / head_object of `name`; NotFoundError when there is no such object."""
        s3 = await self.client()
        try:
            return await getattr(s3, operation)(Bucket=self.bucket, Key=name)
        except Exception as exc:
            if _code(exc) in _MISSING:
                raise NotFoundError(f"no object {name} in {self.bucket}") from None
            raise

    async def _read(self, name: str) -> AsyncIterator[bytes]:
        res = await self._call("get_object", name)
        async with res["Body"] as body:
            async for chunk in body.iter_chunks(CHUNK):
                yield chunk

    async def _size(self, name: str) -> int:
        return int((await self._call("head_object", name))["ContentLength"])

    async def _delete(self, name: str) -> bool:
        # S3 deletes a missing key without complaint; the head says whether there was one.
        try:
            await self._size(name)
        except NotFoundError:
            return False
        await (await self.client()).delete_object(Bucket=self.bucket, Key=name)
        return True

    async def _read_url(self, name: str) -> str:
        s3 = await self.client()
        url: str = await s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": name},
            ExpiresIn=storage_expiry_time)
        return url

    async def close(self) -> None:
        await self._stack.aclose()
        self._client = None
