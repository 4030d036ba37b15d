"""Streaming throughput through the real runtime, emitter and (in-memory) wire.

One session streams N tokens as fast as it can; the client side receives JSON frames.
Prints tokens/s, wire frames (batches), events and bytes, and `import nbchat` time.

    .venv/bin/python benchmarks/stream.py [--tokens 20000 1000000]

Budgets (issue 2): >= 250,000 tokens/s; tens of wire events for 20,000 tokens;
`import nbchat` under 0.3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.testing import ChatTestClient


def import_time() -> float:
    """Best of 5 fresh interpreters, each importing nbchat once."""
    code = "import time; t=time.perf_counter(); import nbchat; print(time.perf_counter()-t)"
    runs = [float(subprocess.check_output([sys.executable, "-c", code], text=True))
            for _ in range(5)]
    return min(runs)


async def stream(tokens: int) -> dict[str, float]:
    app = App("bench")
    with registering_on(app):

        @cl.on_message
        async def reply(_: cl.Message) -> None:
            msg = cl.Message(content="")
            for _ in range(tokens):
                await msg.stream_token("tok ")
            await msg.send()

    async with ChatTestClient(app, timeout=600) as client:
        assert client.transport is not None
        frames0, bytes0, events0 = (client.transport.frames, client.transport.bytes,
                                    len(client.events))
        start = time.perf_counter()
        await client.send("go")
        elapsed = time.perf_counter() - start
        text = client.messages[-1]["output"]
        assert len(text) == 4 * tokens, "the streamed reply is incomplete"
        new_events = client.events[events0:]
        return {
            "tokens": tokens,
            "seconds": elapsed,
            "tokens_per_s": tokens / elapsed,
            "frames": client.transport.frames - frames0,
            "events": len(new_events),
            "token_events": sum(1 for e in new_events if e["type"] == "token"),
            "bytes": client.transport.bytes - bytes0,
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, nargs="+", default=[20_000, 1_000_000])
    args = parser.parse_args()
    print(f"import nbchat: {import_time() * 1000:.0f} ms (budget 300 ms)")
    for n in args.tokens:
        r = asyncio.run(stream(n))
        print(f"{n:>9,} tokens: {r['tokens_per_s']:>11,.0f} tokens/s  {r['seconds']:.3f} s  "
              f"frames {r['frames']:,}  events {r['events']:,} "
              f"(token events {r['token_events']:,})  bytes {r['bytes']:,}")


if __name__ == "__main__":
    main()
