"""A served app whose blobs are in a bucket (data.storage_url): uploads land in the bucket,
the file route streams them to the owner only (404 for another user, 401 with no session),
and deleting the thread deletes its objects. One run per emulator (see conftest.py)."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPResponse
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port
from tornado.web import Application

from nbchat.data import QueuedDataLayer, blob_storage, make_data_layer
from nbchat.data.storage_clients import ObjectStorageClient
from nbchat.server import Services, UploadLimits, make_handlers
from seeding import seed
from server.server_helpers import HeaderIdentity
from storage.emulators import PROVIDERS, list_names
from storage.storage_helpers import storage_url

ROOT = "/nbchat/api"
BOUNDARY = "nbchatStorageBoundary"


class Served:
    def __init__(self, port: int, layer: QueuedDataLayer, storage: ObjectStorageClient) -> None:
        self.port, self.layer, self.storage = port, layer, storage
        self.client = AsyncHTTPClient(force_instance=True)

    async def fetch(self, method: str, path: str, user: str | None,
                    body: bytes | None = None, **headers: str) -> HTTPResponse:
        if user is not None:
            headers["X-Test-User"] = user
        return await self.client.fetch(
            f"http://127.0.0.1:{self.port}{path}", method=method, headers=headers,
            body=body, raise_error=False, allow_nonstandard_methods=True)


@pytest.fixture(params=[p for p in PROVIDERS if p != "local"])
async def served(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Served]:
    layer = make_data_layer(None, tmp_path, storage_url(request.param, request))
    assert isinstance(layer, QueuedDataLayer)
    storage = blob_storage(layer, tmp_path)
    assert isinstance(storage, ObjectStorageClient)  # the bucket, not the app folder
    services = Services(layer, storage, HeaderIdentity(),
                        UploadLimits(accept=("*/*",), max_files=3, max_size=1 << 20))
    sock, port = bind_unused_port()
    server = HTTPServer(Application(make_handlers("/", services)))
    server.add_sockets([sock])
    app = Served(port, layer, storage)
    try:
        yield app
    finally:
        app.client.close()
        server.stop()
        await server.close_all_connections()
        await layer.close()


async def test_upload_download_owner_checks_and_thread_delete(served: Served) -> None:
    s = await seed(served.layer, "alice")  # one element written by create_element(content=)
    data = bytes(range(256)) * 400
    body = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"data.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            ).encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()
    r = await served.fetch("POST", f"{ROOT}/threads/{s.thread_id}/files", "alice", body,
                           **{"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert r.code == 201, r.body
    url = json.loads(r.body)["files"][0]["url"]
    assert len(await list_names(served.storage)) == 2  # the seeded element and the upload

    owner = await served.fetch("GET", url, "alice")
    assert owner.code == 200
    assert owner.body == data
    assert (await served.fetch("GET", url, "bob")).code == 404
    assert (await served.fetch("GET", url, None)).code == 401

    deleted = await served.fetch("DELETE", f"{ROOT}/threads/{s.thread_id}", "alice")
    assert deleted.code in (200, 204), deleted.body
    assert await list_names(served.storage) == []
    assert (await served.fetch("GET", url, "alice")).code == 404


async def test_nbchat_serve_keeps_uploads_in_the_bucket_of_nbchat_yaml(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """`nbchat serve` with data.storage_url in nbchat.yaml: the upload is an object in the
    bucket (listed by the SDK), nothing in the app folder, and the file route streams it."""
    from nbchat.server.serve import ServeOptions, start_server

    url = storage_url("s3", request)
    (tmp_path / "app.py").write_text("import nbchat as cl\n", encoding="utf-8")
    (tmp_path / "nbchat.yaml").write_text(f"data:\n  storage_url: '{url}'\n", encoding="utf-8")
    server = await start_server(ServeOptions(tmp_path / "app.py", port=0, headless=True),
                                out=io.StringIO())
    client = AsyncHTTPClient(force_instance=True)
    try:
        storage = blob_storage(server.host.data_layer, tmp_path)  # type: ignore[arg-type]
        assert isinstance(storage, ObjectStorageClient)
        data = b"bytes for the bucket " * 1000
        body = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"b.txt\"\r\nContent-Type: text/plain\r\n\r\n").encode() + data \
            + f"\r\n--{BOUNDARY}--\r\n".encode()
        base = f"http://127.0.0.1:{server.port}"
        headers = {"X-XSRFToken": "t", "Cookie": "_xsrf=t",
                   "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
        # Uploads go into an existing thread of the user's (served without login: "local");
        # the seeded thread brings one element of its own.
        thread = (await seed(server.host.data_layer, "local")).thread_id  # type: ignore[arg-type]
        assert len(await list_names(storage)) == 1
        r = await client.fetch(f"{base}{ROOT}/threads/{thread}/files", method="POST",
                               body=body, raise_error=False, headers=headers)
        assert r.code == 201, r.body
        assert len(await list_names(storage)) == 2
        assert not (tmp_path / ".nbchat" / "files").exists()
        got = await client.fetch(base + json.loads(r.body)["files"][0]["url"], raise_error=False)
        assert got.code == 200
        assert got.body == data
    finally:
        client.close()
        await server.stop()


async def test_storage_provider_keyword_puts_element_bytes_in_the_bucket(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Chainlit's `storage_provider=` on nbchat's own layer: create_element(content=) is an
    object in the bucket, read back by the layer's storage and deleted with the element."""
    from nbchat.data import SQLiteDataLayer
    from nbchat.data.storage_clients import storage_from_url

    bucket = storage_from_url(storage_url("s3", request))
    layer = SQLiteDataLayer(tmp_path / "app.db", storage_provider=bucket)
    try:
        s = await seed(layer, "alice")
        assert layer.storage is bucket
        [key] = await list_names(bucket)
        assert await bucket.get(key) == b"secret notes of alice"
        await layer.delete_element(s.element_id, s.thread_id)
        assert await list_names(bucket) == []
    finally:
        await layer.close()
