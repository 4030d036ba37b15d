"""The Jupyter server extension in a real `jupyter server` process: enabled by config,
mounted under the base URL, behind Jupyter's token/cookie authentication and XSRF."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
import tomllib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPResponse

from nbchat.data import SQLiteDataLayer
from nbchat.jupyter.kernel_stores import FOLDER as STORES_FOLDER
from nbchat.jupyter.kernel_stores import register
from nbchat.jupyter.runtime_dir import private_folder
from nbchat.server import extension
from nbchat.uploads.files import MB, FileStore, UploadLimits, UploadRejected
from nbchat.uploads.tickets import STAGING_FOLDER, TICKET_LIFETIME_S, StagingTickets
from seeding import seed
from server.jupyter_process import TOKEN, fetch, running_jupyter, token_header
from server.server_helpers import BASE_URL, ROOT, assert_error_shape

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Jupyter:
    port: int
    root: Path
    log: list[str]
    thread_id: str
    element_id: str

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Jupyter]:
    folder = tmp_path_factory.mktemp("jupyter")
    root = folder / "root"
    root.mkdir()

    async def seed_local() -> tuple[str, str]:
        layer = SQLiteDataLayer(root / ".nbchat" / "nbchat.db", root / ".nbchat" / "files")
        try:
            s = await seed(layer, "local", "notebook owner's chat")
            await seed(layer, "someone-else", "not for the owner")
            return s.thread_id, s.element_id
        finally:
            await layer.close()

    thread_id, element_id = asyncio.run(seed_local())
    with running_jupyter(folder, root) as (port, log):
        yield Jupyter(port, root, log, thread_id, element_id)


@pytest.fixture
async def client() -> AsyncIterator[AsyncHTTPClient]:
    c = AsyncHTTPClient(force_instance=True)
    yield c
    c.close()


def test_enabled_on_install() -> None:
    """The wheel (and hatchling's editable install) ships the config file that enables
    the extension; `jupyter server extension list` shows it enabled in this environment."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    shared = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]
    assert shared == {"jupyter-config/jupyter_server_config.d":
                      "etc/jupyter/jupyter_server_config.d"}
    config = json.loads((REPO / "jupyter-config/jupyter_server_config.d/nbchat.json").read_text())
    assert config == {"ServerApp": {"jpserver_extensions": {"nbchat.server.extension": True}}}
    assert extension._jupyter_server_extension_points() == [
        {"module": "nbchat.server.extension", "app": extension.NbchatExtension}]
    out = subprocess.run([sys.executable, "-m", "jupyter_server", "extension", "list"],
                         capture_output=True, text=True, check=True, env={
                             **os.environ, "JUPYTER_PLATFORM_DIRS": "1"})
    listing = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
    assert re.search(r"nbchat\.server\.extension enabled", listing), listing
    assert re.search(r"nbchat\.server\.extension\s+OK", listing), listing


def test_loaded_without_auth_warnings(jupyter: Jupyter) -> None:
    log = "".join(jupyter.log)
    assert f"nbchat: history API at {BASE_URL}nbchat/api" in log
    assert "without @allow_unauthenticated" not in log


async def test_requests_without_the_token_are_refused(jupyter: Jupyter,
                                                      client: AsyncHTTPClient) -> None:
    for headers in ({}, {"Authorization": "token wrong"}):
        r = await fetch(client, jupyter.url(f"{ROOT}/threads"), headers=headers)
        assert r.code in (401, 403)
        assert_error_shape(r)
        r = await fetch(client, jupyter.url(f"{ROOT}/threads/{jupyter.thread_id}/files/"
                                            f"{jupyter.element_id}"), headers=headers)
        assert r.code in (401, 403)
        assert b"secret" not in r.body


async def test_with_the_token_the_owner_sees_local_threads(jupyter: Jupyter,
                                                           client: AsyncHTTPClient) -> None:
    for url, headers in ((f"{ROOT}/threads", token_header()),
                         (f"{ROOT}/threads?token={TOKEN}", {})):
        r = await fetch(client, jupyter.url(url), headers=headers)
        assert r.code == 200
        assert [t["id"] for t in json.loads(r.body)["data"]] == [jupyter.thread_id]
    r = await fetch(client, jupyter.url(f"{ROOT}/openapi.json"), headers=token_header())
    assert json.loads(r.body)["servers"] == [{"url": ROOT}]
    r = await fetch(client, jupyter.url(f"{ROOT}/nope"), headers=token_header())
    assert r.code == 404
    assert_error_shape(r)


async def test_downloads_keep_their_type_under_jupyter(jupyter: Jupyter,
                                                       client: AsyncHTTPClient) -> None:
    r = await fetch(client, jupyter.url(
        f"{ROOT}/threads/{jupyter.thread_id}/files/{jupyter.element_id}"), headers=token_header())
    assert (r.code, r.body) == (200, b"secret notes of local")
    assert r.headers["Content-Type"] == "text/plain"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Disposition"].startswith("attachment;")


async def test_cookie_sessions_need_the_xsrf_token(jupyter: Jupyter,
                                                   client: AsyncHTTPClient) -> None:
    login = await fetch(client, jupyter.url(f"{BASE_URL}?token={TOKEN}"))
    page = await fetch(client, jupyter.url(f"{BASE_URL}login"))
    cookies = SimpleCookie()
    for response in (login, page):
        for header in response.headers.get_list("Set-Cookie"):
            cookies.load(header)
    assert "_xsrf" in cookies
    cookie = "; ".join(f"{k}={v.value}" for k, v in cookies.items())
    url = jupyter.url(f"{ROOT}/threads/{jupyter.thread_id}")
    r = await fetch(client, url, headers={"Cookie": cookie})
    assert r.code == 200  # reads need no XSRF token
    rename = json.dumps({"name": "renamed with cookie"})
    r = await fetch(client, url, method="PATCH", body=rename, headers={"Cookie": cookie})
    assert r.code == 403
    assert "_xsrf" in assert_error_shape(r)["error"]["message"]
    r = await fetch(client, url, method="PATCH", body=rename, headers={
        "Cookie": cookie, "X-XSRFToken": cookies["_xsrf"].value})
    assert r.code == 200
    assert json.loads(r.body)["name"] == "renamed with cookie"
    # Token-authenticated calls need no XSRF token (Jupyter's rule).
    r = await fetch(client, url, method="PATCH", body=json.dumps({"name": "by token"}),
                    headers=token_header())
    assert r.code == 200


# -- uploads a kernel receives over HTTP through the extension (nbchat.uploads.tickets) ----


def kernel_store(jupyter: Jupyter) -> FileStore:
    """What a kernel started by this server has: a FileStore whose tickets go into the
    staging folder under the server's runtime dir (the kernel inherits JUPYTER_RUNTIME_DIR)."""
    staging = jupyter.root.parent / "home" / "runtime" / STAGING_FOLDER
    return FileStore(StagingTickets(staging))


async def put_upload(client: AsyncHTTPClient, jupyter: Jupyter, ticket: str,
                     data: bytes, query: str = "") -> HTTPResponse:
    return await fetch(client, jupyter.url(f"{ROOT}/uploads/{ticket}{query}"), method="PUT",
                       body=data, headers=token_header())


async def test_a_kernel_receives_upload_bytes_through_the_jupyter_server(
        jupyter: Jupyter, client: AsyncHTTPClient) -> None:
    store = kernel_store(jupyter)
    limits = UploadLimits(accept=["text/plain"], max_size=MB)
    ticket = store.begin("u1", "notes.txt", "text/plain", 11, limits, over_http=True)
    assert ticket is not None
    # The widget's API client sends its store with every call; an upload ignores it.
    r = await put_upload(client, jupyter, ticket, b"hello world", f"?store={'0' * 32}")
    assert r.code == 200, r.body
    assert json.loads(r.body) == {"size": 11}
    file = store.finish("u1")
    assert (file.name, file.size, Path(file.path).read_bytes()) == (
        "notes.txt", 11, b"hello world")
    assert not any(store.tickets.folder.iterdir())  # type: ignore[union-attr]
    again = await put_upload(client, jupyter, ticket, b"hello world")
    assert again.code == 404
    assert assert_error_shape(again)["error"]["code"] == "unknown_ticket"
    store.close()


async def test_the_extension_enforces_the_kernels_limit_and_refuses_bad_tickets(
        jupyter: Jupyter, client: AsyncHTTPClient) -> None:
    store = kernel_store(jupyter)
    limits = UploadLimits(max_size=MB)
    ticket = store.begin("u1", "a.bin", "application/octet-stream", 4, limits,
                         over_http=True)
    assert ticket is not None
    r = await put_upload(client, jupyter, ticket, b"12345678")
    assert r.code == 413
    assert "at most 4" in assert_error_shape(r)["error"]["message"]
    with pytest.raises(UploadRejected, match="not arrived"):
        store.finish("u1")
    # Unknown, malformed and expired tickets: 404, nothing written.
    for bad in ("A" * 32, "../../etc/passwd", "x"):
        r = await put_upload(client, jupyter, bad, b"data")
        assert r.code == 404
    expired = store.begin("u2", "a.bin", "application/octet-stream", 4, limits,
                          over_http=True)
    assert expired is not None
    terms = store.tickets.folder / f"{expired}.json"  # type: ignore[union-attr]
    terms.write_text(json.dumps({"limit": 4, "expires": 0}))
    r = await put_upload(client, jupyter, expired, b"1234")
    assert r.code == 404
    store.close()
    assert not any(store.tickets.folder.iterdir())  # type: ignore[union-attr]


async def test_uploads_need_jupyters_auth(jupyter: Jupyter, client: AsyncHTTPClient) -> None:
    store = kernel_store(jupyter)
    ticket = store.begin("u1", "a.txt", "text/plain", 2, UploadLimits(), over_http=True)
    assert ticket is not None
    r = await fetch(client, jupyter.url(f"{ROOT}/uploads/{ticket}"), method="PUT", body=b"hi")
    assert r.code in (401, 403)
    # Refused before the claim: the kernel's ticket still works.
    assert (await put_upload(client, jupyter, ticket, b"hi")).code == 200
    assert Path(store.finish("u1").path).read_bytes() == b"hi"
    store.close()


def test_the_staging_folder_is_private_and_sheds_stale_files(tmp_path: Path) -> None:
    folder = tmp_path / STAGING_FOLDER
    desk = StagingTickets(folder)
    assert folder.stat().st_mode & 0o777 == 0o700
    old, fresh = folder / "old.bin", folder / "fresh.json"
    old.write_bytes(b"x")
    fresh.write_text("{}")
    long_ago = time.time() - 3 * TICKET_LIFETIME_S
    os.utime(old, (long_ago, long_ago))
    StagingTickets(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["fresh.json"]
    assert desk.folder == folder


async def test_a_kernels_registered_store_answers_for_its_notebook(
        jupyter: Jupyter, client: AsyncHTTPClient) -> None:
    """A notebook in a subfolder keeps its chats there; with ?store=<id> its History panel
    lists them (and only the owner's), without it the root's store answers."""
    sub = jupyter.root / "project"
    layer = SQLiteDataLayer(sub / ".nbchat" / "nbchat.db", sub / ".nbchat" / "files")
    try:
        mine = await seed(layer, "local", "kept in the project folder")
        await seed(layer, "someone-else", "not for the owner")
    finally:
        await layer.close()
    store = register(None, sub, private_folder(
        jupyter.root.parent / "home" / "runtime" / STORES_FOLDER))
    r = await fetch(client, jupyter.url(f"{ROOT}/threads?store={store}"), headers=token_header())
    assert r.code == 200, r.body
    assert [t["id"] for t in json.loads(r.body)["data"]] == [mine.thread_id]
    r = await fetch(client, jupyter.url(f"{ROOT}/threads/{mine.thread_id}/files/"
                                        f"{mine.element_id}?store={store}"),
                    headers=token_header())
    assert r.code == 200
    assert r.body == b"secret notes of local"
    r = await fetch(client, jupyter.url(f"{ROOT}/threads"), headers=token_header())
    assert mine.thread_id not in {t["id"] for t in json.loads(r.body)["data"]}
    for bad in ("0" * 32, "../../etc/passwd", "x"):
        r = await fetch(client, jupyter.url(f"{ROOT}/threads?store={bad}"),
                        headers=token_header())
        assert r.code == 404
        assert assert_error_shape(r)["error"]["code"] == "unknown_store"
