"""A notebook widget whose kernel config sets data.storage_url: its uploads and element
bytes are objects in the bucket (moto's real S3 server), nothing lands in the app folder,
and the Jupyter extension's History API, opening the store the kernel registered, streams
those bytes back. The widget is driven without a browser (as in tests/widget); the
extension's handlers run on a real tornado server, with the test identity of
test_storage_served in place of Jupyter's login."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port
from tornado.web import Application

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.config import Config, DataConfig
from nbchat.data import SQLiteDataLayer, blob_storage
from nbchat.data.storage_clients.s3 import S3StorageClient
from nbchat.jupyter.kernel_stores import FOLDER, KernelStores
from nbchat.jupyter.widget import ChatWidget
from nbchat.server import Services, UploadLimits, make_handlers
from server.server_helpers import HeaderIdentity
from storage.emulators import list_names
from storage.storage_helpers import storage_url
from widget_log import SentLog

UPLOADED = b"a file the user attached " * 100
SENT = b"bytes of an element the app sent"


def _bucket_app() -> App:
    app = App("bucket")
    with registering_on(app):

        @cl.on_message
        async def reply(message: cl.Message) -> None:
            await cl.Message(content="got it", elements=[
                cl.File(name="reply.bin", content=SENT)]).send()

    return app


async def test_widget_keeps_uploads_and_elements_in_the_bucket_the_extension_reads(
        tmp_path: Path, request: pytest.FixtureRequest, private_jupyter_runtime: Path) -> None:
    url = storage_url("s3", request)
    config = Config(data=DataConfig(storage_url=url), app_dir=tmp_path)
    widget = ChatWidget(_bucket_app(), config=config)
    sent = SentLog()
    widget.send = sent
    recorder = widget.session.recorder
    assert recorder is not None
    layer = recorder.data
    assert isinstance(layer, SQLiteDataLayer)
    storage = blob_storage(layer, tmp_path)
    assert isinstance(storage, S3StorageClient)  # the bucket of the kernel's config
    try:
        widget._dispatch({"type": "hello", "protocolVersion": 1}, [])
        await sent.until(lambda e: e.get("type") == "welcome")
        widget._dispatch({"type": "upload_start", "uploadId": "u1", "name": "notes.txt",
                          "mime": "text/plain", "size": len(UPLOADED)}, [])
        widget._dispatch({"type": "upload_chunk", "uploadId": "u1"}, [UPLOADED])
        widget._dispatch({"type": "upload_end", "uploadId": "u1"}, [])
        done = await sent.until(lambda e: e.get("type") == "upload_done")
        widget._dispatch({"type": "user_message", "content": "here",
                          "fileIds": [done["fileId"]]}, [])
        element = (await sent.until(lambda e: e.get("type") == "element"
                                    and e["element"]["name"] == "reply.bin"))["element"]
        thread_id = widget.session.thread_id
        await widget.session.close()  # ends the chat: the recorder's writes are done
        await layer.flush()

        stored = await list_names(storage)
        assert len(stored) == 2  # the attachment and the app's element
        assert sorted([await storage.get(name) for name in stored],
                      key=len) == [SENT, UPLOADED]
        assert not (tmp_path / ".nbchat" / "files").exists()

        # The registration carries the storage URL, so the extension opens the bucket too.
        registered = json.loads(
            (private_jupyter_runtime / FOLDER / f"{widget.history_store}.json").read_text())
        assert registered["storage_url"] == url
        stores = KernelStores(private_jupyter_runtime / FOLDER)
        services = Services(layer, blob_storage(layer, tmp_path), HeaderIdentity(),
                            UploadLimits(accept=("*/*",), max_files=1, max_size=1 << 20),
                            stores=stores)
        sock, port = bind_unused_port()
        server = HTTPServer(Application(make_handlers("/", services)))
        server.add_sockets([sock])
        client = AsyncHTTPClient(force_instance=True)
        try:
            opened = stores.open(widget.history_store)
            assert opened is not None
            assert isinstance(opened[1], S3StorageClient)
            user = widget.session.user.identifier if widget.session.user else "local"
            r = await client.fetch(
                f"http://127.0.0.1:{port}/nbchat/api/threads/{thread_id}/files/"
                f"{element['id']}?store={widget.history_store}",
                headers={"X-Test-User": user}, raise_error=False)
            assert r.code == 200, r.body
            assert r.body == SENT
        finally:
            client.close()
            server.stop()
            await server.close_all_connections()
            await stores.close()
    finally:
        widget.close()
        # The kernel keeps its layer for its life; this test is the kernel's: close it (and
        # with it the bucket client), or aiosqlite's thread keeps pytest from exiting.
        await layer.close()
