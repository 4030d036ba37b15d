"""Helpers of the REST API tests (tests/server): the tests-only identity, the API client, a
server on a free loopback port, and the one error shape. A module of its own (not the
conftest) so tests import it by a name no other folder's conftest shares.

The API is mounted under the odd base URL `/a%40b/`, as pytest-jupyter does, so no
handler can get away with assuming `/`.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPResponse
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port
from tornado.web import Application, RequestHandler

from nbchat.data import NativeDataLayer, QueuedDataLayer
from nbchat.server import Identity, Services, UploadLimits, make_handlers
from nbchat.server.base import ERROR_CODES
from nbchat.server.handlers.files import UploadHandler
from nbchat.types import User

BASE_URL = "/a%40b/"
ROOT = "/a%40b/nbchat/api"

# -- the identity and the client ----------------------------------------------------------


class HeaderIdentity(Identity):
    """Tests only: the user is whoever the X-Test-User header names.

    `mount` lets a test await the clean-up of an upload whose client went away: set
    `upload_closed` to a future and it is resolved once the handler has cleaned up.
    """

    upload_closed: asyncio.Future[None] | None = None

    async def current_user(self, handler: RequestHandler) -> User | None:
        name = handler.request.headers.get("X-Test-User")
        return User(identifier=name) if name else None

    def mount(self, handler: type[RequestHandler]) -> type[RequestHandler]:
        if handler is not UploadHandler:
            return handler
        identity = self

        class WatchedUpload(UploadHandler):
            def on_connection_close(self) -> None:
                super().on_connection_close()
                done = identity.upload_closed
                if done is not None:
                    pending = list(UploadHandler.cleanups)
                    gathered = asyncio.gather(*pending)
                    gathered.add_done_callback(lambda _: _resolve(done))

        return WatchedUpload


def _resolve(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)


@dataclass
class Api:
    port: int
    services: Services
    files: Path
    client: AsyncHTTPClient = field(default_factory=lambda: AsyncHTTPClient(force_instance=True))

    @property
    def data(self) -> NativeDataLayer:
        return self.services.data

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{ROOT}{path}"

    async def fetch(self, method: str, path: str, *, user: str | None = "alice",
                    body: Any = None, raw: bytes | None = None,
                    headers: dict[str, str] | None = None) -> HTTPResponse:
        hdrs = dict(headers or {})
        if user is not None:
            hdrs["X-Test-User"] = user
        payload: bytes | None = raw
        if body is not None:
            payload = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if payload is None and method in ("POST", "PUT", "PATCH"):
            payload = b""
        return await self.client.fetch(self.url(path), method=method, headers=hdrs,
                                       body=payload, raise_error=False,
                                       allow_nonstandard_methods=True)

    def blobs(self) -> list[str]:
        """Every file in the blob folder (finished or partial)."""
        return sorted(p.name for p in self.files.iterdir()) if self.files.exists() else []


def body(response: HTTPResponse) -> Any:
    return json.loads(response.body)


async def start_api(layer: QueuedDataLayer, files: Path,
                    limits: UploadLimits | None = None) -> tuple[Api, HTTPServer]:
    storage = layer.storage
    assert storage is not None
    services = Services(layer, storage, HeaderIdentity(), limits or UploadLimits())
    app = Application(make_handlers(BASE_URL, services))
    sock, port = bind_unused_port()
    server = HTTPServer(app)
    server.add_sockets([sock])
    return Api(port, services, files), server



OTHER_CODES = {"too_many_files", "unknown_ticket", "unknown_store"}


def assert_error_shape(r: HTTPResponse) -> dict[str, Any]:
    """The error body every endpoint answers with: `{error: {code, message}, status}`."""
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    payload: dict[str, Any] = json.loads(r.body)
    assert set(payload) == {"error", "status"}
    assert set(payload["error"]) == {"code", "message"}
    assert payload["status"] == r.code
    assert payload["error"]["code"] in {ERROR_CODES[r.code], *OTHER_CODES}
    assert isinstance(payload["error"]["message"], str)
    assert payload["error"]["message"]
    return payload
