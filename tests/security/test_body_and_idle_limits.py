"""Memory and connections (issue 10 §3.3), against a real `nbchat serve` over raw sockets:
a small body limit on every route but the uploads, header/body timeouts, a stalled upload
dropped with its ticket released. Timeouts are set small in nbchat.yaml; the tests wait on
the server closing the connection, never on a clock."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from serve_auth.served import API, ROOT, Browser
from serve_auth.test_live_uploads import asked, ticket_for
from wsclient import WsClient

from .served_app import browser, raw, served_app, server_closes

SMALL = {"max_body_bytes": 4096, "idle_timeout_ms": 200, "body_timeout_ms": 300}


def head(method: str, path: str, *lines: str) -> bytes:
    return (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + "".join(f"{line}\r\n" for line in lines) + "\r\n").encode()


async def test_a_huge_sign_in_body_is_refused_before_it_is_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with served_app(tmp_path, monkeypatch, login=True) as running:  # the defaults
        reader, writer = await raw(running.port, head(
            "POST", ROOT + "login", "Content-Type: application/x-www-form-urlencoded",
            "Content-Length: 10000000000"))
        answer = await server_closes(reader)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 400")  # tornado: "Content-Length too long"


async def test_the_upload_route_alone_takes_more_than_the_body_limit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with served_app(tmp_path, monkeypatch, login=True, server=SMALL) as running:
        alice = browser(running)
        assert (await alice.login("alice")).code == 303
        reader, writer = await raw(running.port, head(
            "POST", ROOT + "login", "Content-Type: application/x-www-form-urlencoded",
            "Content-Length: 5000"))  # over max_body_bytes
        assert (await server_closes(reader)).startswith(b"HTTP/1.1 400")
        writer.close()

        ws = await asked(alice)
        data = b"line of text\n" * 800  # 10 kB, over max_body_bytes, under the ask's 1 MB
        ticket = await ticket_for(ws, "u1", len(data))
        done = await alice.fetch("PUT", f"{API}/uploads/{ticket}", raw=data,
                                 headers={"Content-Type": "application/octet-stream"})
        assert done.code == 200, done.body
        await alice.close()


async def test_half_sent_headers_are_dropped_after_the_idle_timeout(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with served_app(tmp_path, monkeypatch, login=True, server=SMALL) as running:
        reader, writer = await raw(running.port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert await server_closes(reader) == b""
        writer.close()
        idle, idle_writer = await raw(running.port, b"")  # not a byte sent
        assert await server_closes(idle) == b""
        idle_writer.close()


async def test_a_stalled_body_is_dropped_after_the_body_timeout(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with served_app(tmp_path, monkeypatch, login=True, server=SMALL) as running:
        reader, writer = await raw(running.port, head(
            "POST", ROOT + "login", "Content-Type: application/x-www-form-urlencoded",
            "Content-Length: 100") + b"username=al")
        assert await server_closes(reader) == b""
        writer.close()


async def test_a_stalled_upload_is_dropped_and_its_ticket_released(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with served_app(tmp_path, monkeypatch, login=True, server=SMALL) as running:
        alice = browser(running)
        assert (await alice.login("alice")).code == 303
        ws, reader, writer = await upload_started(running.port, alice, 100)
        writer.write(b"y" * 40)
        assert await server_closes(reader) == b""  # the client never closed its side
        writer.close()
        await ws.send({"type": "upload_end", "uploadId": "u1"})
        error = await ws.until(lambda e: e["type"] == "error")
        assert error["code"] == "upload_rejected"  # the upload was aborted…
        ticket = next(e["ticket"] for e in ws.events if e["type"] == "upload_ticket")
        again = await alice.fetch("PUT", f"{API}/uploads/{ticket}", raw=b"y" * 100)
        assert again.code == 404  # …and its ticket is no longer claimable
        await alice.close()


async def test_a_slow_upload_that_keeps_sending_outlives_the_body_timeout(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The whole-body deadline of ordinary requests would cut it at 1 s; an upload only
    # must not pause that long. The pauses here pace the client; nothing waits on them.
    server = {**SMALL, "body_timeout_ms": 1000}
    async with served_app(tmp_path, monkeypatch, login=True, server=server) as running:
        alice = browser(running)
        assert (await alice.login("alice")).code == 303
        _, reader, writer = await upload_started(running.port, alice, 30)
        loop = asyncio.get_running_loop()
        started = loop.time()
        for _ in range(30):
            writer.write(b"z")
            await writer.drain()
            await asyncio.sleep(0.05)
        answer = await server_closes_or_answers(reader)
        assert loop.time() - started > 1.0  # longer than the whole-body deadline
        assert answer.startswith(b"HTTP/1.1 200"), answer
        writer.close()
        await alice.close()


async def server_closes_or_answers(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.readuntil(b"}"), 10)


async def upload_started(port: int, alice: Browser, length: int) -> tuple[
        WsClient, asyncio.StreamReader, asyncio.StreamWriter]:
    """A chat asking for a file, and a raw PUT of `length` bytes to its ticket, head sent."""
    ws = await asked(alice)
    ticket = await ticket_for(ws, "u1", length)
    reader, writer = await raw(port, head(
        "PUT", f"{API}/uploads/{ticket}", f"Cookie: {alice.cookie_header()}",
        f"X-XSRFToken: {alice.cookies['_xsrf']}", f"Content-Length: {length}"))
    return ws, reader, writer
