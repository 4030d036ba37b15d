"""Attack class 7: oversized frames and uploads are refused and the session stays alive
(REST uploads over the limit answer 413 while they stream: tests/server/test_files_api.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import tornado.websocket

from nbchat.config import Config, FeaturesConfig, RuntimeConfig, UploadConfig
from nbchat.server.standalone import UPLOAD_CHUNK_ROOM

from .conftest import Start, connect

LIMIT = 64 * 1024


def config(folder: Path) -> Config:
    return Config(app_dir=folder, runtime=RuntimeConfig(max_event_bytes=LIMIT),
                  features=FeaturesConfig(spontaneous_file_upload=UploadConfig(
                      enabled=True, max_size_mb=1)))


async def test_a_text_event_over_max_event_bytes_is_an_error_event(start: Start,
                                                                  tmp_path: Path) -> None:
    async with start(config=config(tmp_path)) as served:
        ws = await connect(served, "alice")
        await ws.hello()
        await ws.send({"type": "user_message", "content": "x" * (LIMIT + 1)})
        error = await ws.until(lambda e: e["type"] == "error")
        assert error["code"] == "too_large"
        assert (await ws.reply("alive"))["step"]["type"] == "assistant_message"
        await ws.close()


async def test_a_frame_over_the_socket_limit_closes_and_the_session_resumes(
        start: Start, tmp_path: Path) -> None:
    async with start(config=config(tmp_path)) as served:
        ws = await connect(served, "alice")
        welcome = await ws.hello()
        await ws.reply("before")
        # The server may close before the whole frame is written.
        with contextlib.suppress(tornado.websocket.WebSocketClosedError):
            await ws.conn.write_message("y" * (LIMIT + UPLOAD_CHUNK_ROOM + 1))
        closed = await asyncio.wait_for(ws.conn.read_message(), 20)
        while closed is not None:   # frames already on the way, then the close
            closed = await asyncio.wait_for(ws.conn.read_message(), 20)
        assert ws.conn.close_code == 1009   # "message too big" (test_bad_input.py: its reason)
        ws.conn.close()
        again = await connect(served, "alice")
        await again.send({"type": "hello", "protocolVersion": 1,
                          "sessionId": welcome["sessionId"]})
        assert not any(e["type"] == "error" for e in again.events)
        resumed = await again.until(lambda e: e["type"] in ("welcome", "snapshot"))
        assert resumed.get("sessionId", welcome["sessionId"]) == welcome["sessionId"]
        assert (await again.reply("after"))["step"]["type"] == "assistant_message"
        assert not any(e["type"] == "error" for e in again.events), again.events
        await again.close()


async def test_a_websocket_upload_over_the_limit_is_refused_and_the_session_lives(
        start: Start, tmp_path: Path) -> None:
    async with start(config=config(tmp_path)) as served:
        ws = await connect(served, "alice")
        await ws.hello()
        # Declared too large: refused at the start.
        await ws.send({"type": "upload_start", "uploadId": "big", "name": "big.bin",
                       "mime": "application/octet-stream", "size": 2 * 1024 * 1024})
        error = await ws.until(lambda e: e["type"] == "error")
        assert error["code"] == "upload_rejected", error
        # Declared small, sent large: refused while it streams.
        await ws.send({"type": "upload_start", "uploadId": "liar", "name": "liar.bin",
                       "mime": "application/octet-stream", "size": 10})
        header = json.dumps({"type": "upload_chunk", "uploadId": "liar"}).encode()
        chunk = len(header).to_bytes(4, "big") + header + b"z" * (512 * 1024)
        for _ in range(3):   # 1.5 MiB: over the 1 MB limit and the declared size
            await ws.conn.write_message(chunk, binary=True)
        await ws.send({"type": "upload_end", "uploadId": "liar"})
        refused = await ws.until(lambda e: e["type"] == "error")
        assert refused["code"] == "upload_rejected", refused
        assert not any(e["type"] == "upload_done" for e in ws.events), ws.events
        assert (await ws.reply("alive"))["step"]["type"] == "assistant_message"
        await ws.close()
        assert not list((tmp_path / "files").rglob("*")) or all(
            p.stat().st_size < 1024 * 1024 for p in (tmp_path / "files").rglob("*")
            if p.is_file())
