"""Uploads (streamed multipart, limits while reading, nothing left behind on refusal)
and downloads (attachment, nosniff, owner check)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from nbchat.ids import new_id
from nbchat.server import UploadLimits
from seeding import seed
from server.server_helpers import ROOT, Api, body

BOUNDARY = "nbchatTestBoundary7MA4YWxk"
Part = tuple[str, str | None, str, bytes]  # field name, filename, content type, data


def multipart(parts: list[Part], *, close: bool = True) -> bytes:
    out = b""
    for field, filename, mime, data in parts:
        disposition = f'form-data; name="{field}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += (f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
                f"Content-Type: {mime}\r\n\r\n").encode() + data + b"\r\n"
    return out + (f"--{BOUNDARY}--\r\n".encode() if close else b"")


async def upload(api: Api, thread_id: str, parts: list[Part], user: str = "alice",
                 **kwargs: Any) -> Any:
    return await api.fetch(
        "POST", f"/threads/{thread_id}/files", user=user, raw=kwargs.pop("raw", None)
        or multipart(parts), headers={"Content-Type": kwargs.pop(
            "content_type", f"multipart/form-data; boundary={BOUNDARY}")})


async def raw_request(api: Api, head: str, chunks: list[bytes]) -> bytes:
    """Send a request by hand, chunk by chunk, then read until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", api.port)
    writer.write(head.encode())
    for chunk in chunks:
        writer.write(chunk)
        await writer.drain()
    response = await asyncio.wait_for(reader.read(), 30)  # a guard, not a synchronization
    writer.close()
    return response


def upload_head(api: Api, thread_id: str, extra: str) -> str:
    return (f"POST {ROOT}/threads/{thread_id}/files HTTP/1.1\r\nHost: 127.0.0.1:{api.port}\r\n"
            f"X-Test-User: alice\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"{extra}\r\n")


def parse(response: bytes) -> tuple[int, dict[str, Any]]:
    head, _, rest = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        size, _, rest = rest.partition(b"\r\n")
        rest = rest[: int(size, 16)]
    return status, json.loads(rest)


async def test_upload_stores_files_as_elements_and_downloads_them(api: Api) -> None:
    s = await seed(api.data, "alice")
    r = await upload(api, s.thread_id, [("file", "report.pdf", "application/pdf", b"%PDF-1.7"),
                                        ("file", "été.txt", "text/plain", b"bonjour")])
    assert r.code == 201, r.body
    files = body(r)["files"]
    assert [(f["name"], f["mime"], f["size"], f["type"]) for f in files] == [
        ("report.pdf", "application/pdf", 8, "pdf"), ("été.txt", "text/plain", 7, "file")]
    thread = await api.data.get_thread(s.thread_id)
    assert thread is not None
    assert {e["id"] for e in thread["elements"] or []} >= {f["id"] for f in files}
    download = await api.client.fetch(f"http://127.0.0.1:{api.port}{files[1]['url']}",
                                      headers={"X-Test-User": "alice"})
    assert download.body == b"bonjour"
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"_t_.txt\"; filename*=UTF-8''%C3%A9t%C3%A9.txt")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Type"] == "text/plain"
    assert files[1]["url"] == f"{ROOT}/threads/{s.thread_id}/files/{files[1]['id']}"


async def test_upload_never_creates_a_thread_from_the_clients_id(api: Api) -> None:
    # Thread ids come from the server: naming an unknown one (a deleted thread's, say)
    # must not bring it into existence, owned by whoever uploads first.
    thread_id = new_id()
    before = api.blobs()
    r = await upload(api, thread_id, [("file", "a.csv", "text/csv", b"x,y\n1,2\n")])
    assert (r.code, body(r)["error"]["code"]) == (404, "not_found")
    assert await api.data.get_thread(thread_id) is None
    assert api.blobs() == before


@pytest.mark.parametrize("upload_limits", [UploadLimits(accept=("application/pdf",))])
async def test_a_type_counts_only_with_a_single_type_and_an_agreeing_extension(
        api: Api) -> None:
    s = await seed(api.data, "alice")
    before = api.blobs()
    for name, mime in [("page.html", "application/pdf"), ("report", "application/pdf"),
                       ("report.pdf", "application/pdf, text/html")]:
        r = await upload(api, s.thread_id, [("file", name, mime, b"<script>alert(1)</script>")])
        assert (r.code, body(r)["error"]["code"]) == (415, "unsupported_media_type"), (name, mime)
        assert name in body(r)["error"]["message"]
    assert api.blobs() == before
    r = await upload(api, s.thread_id, [("file", "report.pdf", "application/pdf", b"%PDF-1.7")])
    assert r.code == 201, r.body


async def test_a_script_is_never_served_with_a_script_type(api: Api) -> None:
    # With a script type, `<script src=…>` of the download passes `script-src 'self'`.
    s = await seed(api.data, "alice")
    for name, mime in [("x.js", "text/javascript"), ("x.mjs", "application/javascript"),
                       ("x.css", "text/css"), ("x.wasm", "application/wasm")]:
        r = await upload(api, s.thread_id, [("file", name, mime, b"alert(1)")])
        assert r.code == 201, r.body
        url = body(r)["files"][0]["url"]
        download = await api.client.fetch(f"http://127.0.0.1:{api.port}{url}",
                                          headers={"X-Test-User": "alice"})
        assert download.headers["Content-Type"] == "application/octet-stream", name
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.headers["Content-Disposition"].startswith("attachment;")


async def test_file_names_are_only_shown_never_used_as_paths(api: Api) -> None:
    s = await seed(api.data, "alice")
    before = set(api.blobs())
    r = await upload(api, s.thread_id, [("file", "../../etc/passwd", "text/plain", b"1"),
                                        ("file", "..\\..\\boot.ini", "text/plain", b"2")])
    assert [f["name"] for f in body(r)["files"]] == ["passwd", "boot.ini"]
    new = set(api.blobs()) - before
    assert len(new) == 2
    assert all(len(name) == 36 for name in new)  # server-made UUIDs, nothing else


async def test_html_is_downloaded_as_an_attachment_in_a_sandbox(api: Api) -> None:
    s = await seed(api.data, "alice")
    r = await upload(api, s.thread_id, [("file", "x.html", "text/html", b"<script>1</script>")])
    url = body(r)["files"][0]["url"]
    download = await api.client.fetch(f"http://127.0.0.1:{api.port}{url}",
                                      headers={"X-Test-User": "alice"})
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]


@pytest.mark.parametrize("upload_limits", [UploadLimits(max_files=2, max_size=1024)])
async def test_too_many_files_stores_none(api: Api) -> None:
    s = await seed(api.data, "alice")
    before = api.blobs()
    r = await upload(api, s.thread_id, [("file", f"{i}.txt", "text/plain", b"x") for i in range(3)])
    assert (r.code, body(r)["error"]["code"]) == (400, "too_many_files")
    assert api.blobs() == before
    thread = await api.data.get_thread(s.thread_id)
    assert thread is not None
    assert len(thread["elements"] or []) == 1  # the seeded one only


@pytest.mark.parametrize("upload_limits", [UploadLimits(accept=("image/*", ".csv"))])
async def test_a_refused_type_undoes_the_files_before_it(api: Api) -> None:
    s = await seed(api.data, "alice")
    before = api.blobs()
    r = await upload(api, s.thread_id, [("file", "a.png", "image/png", b"\x89PNG" * 1000),
                                        ("file", "b.csv", "text/csv", b"1,2"),
                                        ("file", "c.exe", "application/octet-stream", b"MZ")])
    assert (r.code, body(r)["error"]["code"]) == (415, "unsupported_media_type")
    assert "c.exe" in body(r)["error"]["message"]
    assert api.blobs() == before
    r = await upload(api, s.thread_id, [("file", "a.png", "image/png", b"\x89PNG")])
    assert r.code == 201


@pytest.mark.parametrize("upload_limits", [UploadLimits(max_size=64 * 1024)])
async def test_an_oversized_file_is_refused_while_it_streams(api: Api) -> None:
    s = await seed(api.data, "alice")
    before = api.blobs()
    start = multipart([("file", "big.bin", "application/octet-stream", b"")], close=False)
    start = start[: -len(b"\r\n")]  # the part's data begins here
    chunks = [start] + [b"x" * 16 * 1024] * 8  # 128 KiB: over the limit, and no end
    # Chunked encoding, and the final zero-size chunk is never sent: the server must
    # answer before the body is complete, or this would hang.
    encoded = [f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks]
    response = await raw_request(api, upload_head(api, s.thread_id,
                                                  "Transfer-Encoding: chunked\r\n"), encoded)
    status, error = parse(response)
    assert (status, error["error"]["code"]) == (413, "payload_too_large")
    assert api.blobs() == before


@pytest.mark.parametrize("upload_limits", [UploadLimits(max_files=2, max_size=1024)])
async def test_a_declared_length_over_the_limit_is_refused_before_reading(api: Api) -> None:
    s = await seed(api.data, "alice")
    response = await raw_request(
        api, upload_head(api, s.thread_id, "Content-Length: 999999999\r\n"), [])
    status, error = parse(response)
    assert (status, error["status"]) == (413, 413)


async def test_a_truncated_body_stores_nothing(api: Api) -> None:
    s = await seed(api.data, "alice")
    before = api.blobs()
    data = multipart([("file", "a.txt", "text/plain", b"complete"),
                      ("file", "b.txt", "text/plain", b"cut sh")], close=False)
    r = await upload(api, s.thread_id, [], raw=data[:-2])
    assert r.code == 400
    assert "truncated" in body(r)["error"]["message"]
    assert api.blobs() == before


async def test_a_client_that_leaves_mid_body_leaves_nothing(api: Api) -> None:
    s = await seed(api.data, "alice")
    before = api.blobs()
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    api.services.identity.upload_closed = closed  # type: ignore[attr-defined]
    data = multipart([("file", "a.txt", "text/plain", b"complete"),
                      ("file", "b.txt", "text/plain", b"y" * 10_000)])
    _, writer = await asyncio.open_connection("127.0.0.1", api.port)
    writer.write(upload_head(api, s.thread_id, f"Content-Length: {len(data)}\r\n").encode())
    writer.write(data[: len(data) // 2])
    await writer.drain()
    writer.close()
    await asyncio.wait_for(closed, 30)  # the handler finished cleaning up
    assert api.blobs() == before


@pytest.mark.parametrize(("content_type", "status"), [
    ("application/json", 415), ("text/plain", 415), ("multipart/form-data", 400),
    (f"multipart/form-data; boundary={'b' * 71}", 400)])
async def test_a_body_that_is_not_multipart_is_refused(
        api: Api, content_type: str, status: int) -> None:
    s = await seed(api.data, "alice")
    r = await upload(api, s.thread_id, [("file", "a", "text/plain", b"1")],
                     content_type=content_type)
    assert r.code == status
    assert body(r)["error"]["message"]


async def test_only_file_parts_and_at_least_one(api: Api) -> None:
    s = await seed(api.data, "alice")
    before = api.blobs()
    r = await upload(api, s.thread_id, [("file", "a.txt", "text/plain", b"1"),
                                        ("comment", None, "text/plain", b"hi")])
    assert (r.code, api.blobs()) == (400, before)
    r = await upload(api, s.thread_id, [])
    assert (r.code, body(r)["error"]["message"]) == (400, "the upload holds no file")
    r = await upload(api, s.thread_id, [], raw=b"garbage without boundary")
    assert r.code == 400


async def test_download_of_an_element_without_bytes_is_404(api: Api) -> None:
    s = await seed(api.data, "alice")
    await api.data.create_element({"id": "el-text", "threadId": s.thread_id, "type": "text",
                                   "name": "t", "display": "inline", "forId": None,
                                   "mime": None, "size": None, "language": None, "url": None,
                                   "objectKey": None, "content": "inline text"})
    r = await api.fetch("GET", f"/threads/{s.thread_id}/files/el-text")
    assert (r.code, body(r)["error"]["code"]) == (404, "not_found")
    r = await api.fetch("GET", f"/threads/{s.thread_id}/files/{s.element_id}")
    assert (r.code, r.body) == (200, b"secret notes of alice")
