"""Served uploads: one file's bytes over HTTP (PUT to its ticket) vs as WebSocket events.

    .venv/bin/python benchmarks/upload.py                 # 8, 64 and 256 MB, 3 rounds each
    .venv/bin/python benchmarks/upload.py --mb 512 --rounds 1

A real tornado server (`make_app` + `ChatHost`, persistence off, uvloop when installed as
`nbchat serve` picks) runs in a child process; this process is the client (tornado's
WebSocket and HTTP clients). The app asks for a file (`AskFileMessage`, 1 GB limit) and
answers with its size once it has it. Per upload: wall time from `upload_start` to
`upload_done` (the bytes written to the session's upload folder), MB/s, and the server
process's CPU time for it:

- http: `upload_start {via: "http"}` → `upload_ticket` → one PUT of the whole body →
  `upload_end` → `upload_done` (docs/protocol.md, HTTP uploads);
- events: `upload_start` → 256 KiB `upload_chunk` binary frames → `upload_end` →
  `upload_done` (what the browser sends when HTTP is not available).

The answer's size is checked, so a benchmark that stored nothing would fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 256 * 1024
APP = '''
import nbchat as cl

@cl.on_message
async def ask(message):
    files = await cl.AskFileMessage(content="a file", accept=["*/*"], max_size_mb=1024,
                                    timeout=600).send()
    import os
    await cl.Message(content=f"size {os.path.getsize(files[0].path)}").send()
'''

SERVER = '''
import asyncio, sys
from pathlib import Path
from nbchat.config import Config, DataConfig
from nbchat.runtime.hosting import ChatHost
from nbchat.loader import load_app
from nbchat.server import SingleUserIdentity
from nbchat.server.serve import run
from nbchat.server.standalone import make_app
import tornado.httpserver

async def main():
    app = (await load_app(Path(sys.argv[1])))[0]
    config = Config(data=DataConfig(enabled=False))
    host = ChatHost(app, config)
    application = make_app(app, config, host=host, services=None,
                           identity=SingleUserIdentity("local"), headless=True)
    server = tornado.httpserver.HTTPServer(application, max_body_size=2 * 1024 ** 3)
    server.listen(int(sys.argv[2]), "127.0.0.1")
    print("ready", flush=True)
    await asyncio.Event().wait()

run(main)
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Chat:
    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.pending: list[dict[str, Any]] = []  # events of a frame not looked at yet

    async def send(self, event: dict[str, Any], data: bytes | None = None) -> None:
        if data is None:
            await self.conn.write_message(json.dumps(event))
        else:
            head = json.dumps(event).encode()
            await self.conn.write_message(len(head).to_bytes(4, "big") + head + data,
                                          binary=True)

    async def until(self, kind: str) -> dict[str, Any]:
        while True:
            while self.pending:
                event = self.pending.pop(0)
                if event["type"] == "error":
                    raise RuntimeError(event["message"])
                if event["type"] == kind:
                    return dict(event)
            frame = await asyncio.wait_for(self.conn.read_message(), 120)
            assert frame is not None, "the server closed the connection"
            self.pending = json.loads(frame)


async def one_upload(port: int, mode: str, data: bytes, n: int) -> float:
    import tornado.httpclient
    import tornado.websocket

    origin = f"127.0.0.1:{port}"
    conn = await tornado.websocket.websocket_connect(tornado.httpclient.HTTPRequest(
        f"ws://{origin}/ws", headers={"Origin": f"http://{origin}"}))
    chat = Chat(conn)
    try:
        await chat.send({"type": "hello", "protocolVersion": 1})
        await chat.until("welcome")
        await chat.send({"type": "user_message", "content": "go"})
        ask = await chat.until("ask")
        upload_id = f"u{n}"
        start = {"type": "upload_start", "uploadId": upload_id, "name": "big.bin",
                 "mime": "application/octet-stream", "size": len(data)}
        began = time.perf_counter()
        if mode == "http":
            await chat.send({**start, "via": "http"})
            ticket = (await chat.until("upload_ticket"))["ticket"]
            client = tornado.httpclient.AsyncHTTPClient(force_instance=True,
                                                        max_body_size=2 * 1024 ** 3)
            response = await client.fetch(
                f"http://{origin}/nbchat/api/uploads/{ticket}", method="PUT", body=data,
                headers={"X-XSRFToken": "b", "Cookie": "_xsrf=b"}, request_timeout=600)
            client.close()
            assert response.code == 200
        else:
            await chat.send(start)
            view = memoryview(data)
            for offset in range(0, len(data), CHUNK):
                await chat.send({"type": "upload_chunk", "uploadId": upload_id},
                                bytes(view[offset:offset + CHUNK]))
        await chat.send({"type": "upload_end", "uploadId": upload_id})
        file_id = (await chat.until("upload_done"))["fileId"]
        elapsed = time.perf_counter() - began
        await chat.send({"type": "ask_response", "askId": ask["askId"], "fileIds": [file_id]})
        while True:
            step = await chat.until("step")
            if step["step"]["output"].startswith("size "):
                assert step["step"]["output"] == f"size {len(data)}", step["step"]["output"]
                return elapsed
    finally:
        conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, nargs="+", default=[8, 64, 256])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"nbchat-upload-bench-{os.getpid()}"
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "app.py").write_text(APP)
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SERVER, str(workdir / "app.py"), str(port),
        stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    assert (await asyncio.wait_for(proc.stdout.readline(), 60)).strip() == b"ready"
    print(f"upload: served, persistence off; load average {os.getloadavg()[0]:.1f}")
    try:
        n = 0
        for mb in args.mb:
            data = os.urandom(mb * 1024 * 1024)
            for mode in ("http", "events"):
                times, cpus = [], []
                for _ in range(args.rounds):
                    n += 1
                    cpu = cpu_seconds(proc.pid)
                    times.append(await one_upload(port, mode, data, n))
                    cpus.append(cpu_seconds(proc.pid) - cpu)
                best = min(times)
                print(f"  {mb:5d} MB  {mode:6s}  best {best * 1000:8.0f} ms "
                      f"({mb / best:6.0f} MB/s)  median {statistics.median(times) * 1000:8.0f} ms"
                      f"  server CPU {statistics.median(cpus) * 1000:7.0f} ms")
    finally:
        proc.terminate()
        await proc.wait()


if __name__ == "__main__":
    asyncio.run(main())
