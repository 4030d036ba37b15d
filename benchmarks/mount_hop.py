"""What the `mount_chainlit` hop costs: the same chat served by `nbchat serve` directly and
mounted in a FastAPI app under uvicorn (nbchat.server.mounted forwards over a Unix socket).

    .venv/bin/python benchmarks/mount_hop.py                  # 5 rounds of 200 each
    .venv/bin/python benchmarks/mount_hop.py --rounds 9 --n 300

Both servers run in this process on one event loop, as `uvicorn main:app` runs the mounted
chat in its own loop. Per round, alternating which goes first: N sequential `GET /health`
(HTTP: the hop's httpx request and streamed response), and N chat turns on one WebSocket
each (`user_message` → the final reply `step`: the hop's two `websockets` frames each way);
and N `GET` of a trivial route of the FastAPI app itself, which is what uvicorn costs
without the hop. Prints the median of each and the ratio mounted / direct, round by round
and overall.
Every wait has a deadline; the benchmark stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 30.0
APP = '''
import nbchat as cl

@cl.on_message
async def echo(message: cl.Message):
    await cl.Message(content=f"echo {message.content}").send()
'''


async def http_latencies(url: str, n: int) -> list[float]:
    import httpx

    out = []
    async with httpx.AsyncClient() as client:
        for _ in range(n):
            start = time.perf_counter()
            response = await client.get(url)
            response.raise_for_status()
            out.append(time.perf_counter() - start)
    return out


async def chat_latencies(url: str, n: int) -> list[float]:
    from websockets.asyncio.client import connect

    out = []
    async with connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "hello", "protocolVersion": 1}))
        while not any(e["type"] == "welcome" for e in json.loads(
                await asyncio.wait_for(ws.recv(), DEADLINE))):
            pass
        for i in range(n):
            start = time.perf_counter()
            await ws.send(json.dumps({"type": "user_message", "content": str(i)}))
            done = False
            while not done:
                for event in json.loads(await asyncio.wait_for(ws.recv(), DEADLINE)):
                    done = done or (event["type"] == "step"
                                    and event["step"]["output"] == f"echo {i}"
                                    and not event["step"]["streaming"])
            out.append(time.perf_counter() - start)
    return out


async def main(rounds: int, n: int) -> None:
    import uvicorn
    from fastapi import FastAPI

    from nbchat.server.mounted import MountedChat
    from nbchat.server.serve import ServeOptions, start_server

    folder = Path(tempfile.mkdtemp(prefix="nbchat-mount-bench-"))
    (folder / "app.py").write_text(APP, encoding="utf-8")
    (folder / "nbchat.yaml").write_text("data:\n  enabled: false\n", encoding="utf-8")
    quiet = io.StringIO()  # the servers' start-up lines
    direct = await start_server(ServeOptions(folder / "app.py", port=0), out=quiet)
    outer = FastAPI()

    @outer.get("/own")
    async def own() -> dict[str, str]:  # the ASGI server's own cost, without the hop
        return {"status": "ok"}

    chat = MountedChat(folder / "app.py", "/chat")
    outer.mount("/chat", chat)
    # IPPROTO_TCP, as getaddrinfo gives it: asyncio sets TCP_NODELAY only on such sockets
    # (with proto 0 every uvicorn response waits ~40 ms for a delayed ACK).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(outer, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    give_up = time.monotonic() + DEADLINE
    while not server.started:  # uvicorn offers no event: a bounded poll of its flag
        if time.monotonic() > give_up or serving.done():
            raise SystemExit("uvicorn did not start")
        await asyncio.sleep(0.01)
    port = sock.getsockname()[1]
    targets = {
        "direct": (f"{direct.url}health", f"ws://127.0.0.1:{direct.port}/ws"),
        "mounted": (f"http://127.0.0.1:{port}/chat/health", f"ws://127.0.0.1:{port}/chat/ws"),
    }
    own_url = f"http://127.0.0.1:{port}/own"
    print(f"load average before: {os.getloadavg()[0]:.2f}; {rounds} rounds x {n}", flush=True)
    medians: dict[tuple[str, str], list[float]] = {}
    try:
        for r in range(rounds):
            order = ["direct", "mounted"] if r % 2 == 0 else ["mounted", "direct"]
            for name in order:
                http, ws = targets[name]
                medians.setdefault((name, "http"), []).append(
                    statistics.median(await http_latencies(http, n)))
                medians.setdefault((name, "chat"), []).append(
                    statistics.median(await chat_latencies(ws, n)))
            medians.setdefault(("uvicorn", "http"), []).append(
                statistics.median(await http_latencies(own_url, n)))
            line = "  ".join(
                f"{kind} {medians[('direct', kind)][-1] * 1e3:.3f}/"
                f"{medians[('mounted', kind)][-1] * 1e3:.3f} ms "
                f"(x{medians[('mounted', kind)][-1] / medians[('direct', kind)][-1]:.2f})"
                for kind in ("http", "chat"))
            print(f"round {r + 1}: direct/mounted median  {line}", flush=True)
        own_ms = statistics.median(medians[("uvicorn", "http")]) * 1e3
        print(f"uvicorn's own FastAPI route (no hop): {own_ms:.3f} ms")
        for kind in ("http", "chat"):
            d = statistics.median(medians[("direct", kind)])
            m = statistics.median(medians[("mounted", kind)])
            print(f"{kind}: direct {d * 1e3:.3f} ms, mounted {m * 1e3:.3f} ms, "
                  f"ratio {m / d:.2f}, added {(m - d) * 1e3:.3f} ms")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, DEADLINE)
        await chat.stop()
        await direct.stop()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.n))
