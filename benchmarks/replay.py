"""nbchat.replay of stored turns against a fake model: seconds for 1,000 turns.

    .venv/bin/python benchmarks/replay.py                  # 100 threads x 10 turns
    .venv/bin/python benchmarks/replay.py --threads 50 --turns 20 --concurrency 16

The threads are stored first by playing the app through ChatTestClient into a SQLite
data layer in a temp folder (not timed). The timed part is `nbchat.replay(ids, app=...)`:
reading the threads back, loading the app once, and playing every user turn (a tool step
with a generation and a streamed reply each) in-process through the real protocol.
Budget: 1,000 turns in under 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

import nbchat
from nbchat.data import make_data_layer
from nbchat.testing import ChatTestClient
from nbchat.types import User

FAKE_MODEL = '''\
import nbchat as cl

@cl.on_message
async def on_message(message: cl.Message):
    async with cl.Step(name="retrieve", type="tool") as step:
        step.input = message.content
        step.output = f"3 notes about {message.content}"
    async with cl.Step(name="fake-llm", type="llm") as llm:
        llm.generation = cl.ChatGeneration(model="fake", token_count=12)
        llm.output = "ok"
    reply = cl.Message(content="")
    for word in f"Here is what I found about {message.content}".split():
        await reply.stream_token(word + " ")
    await reply.send()
'''


async def store(folder: Path, app: Path, threads: int, turns: int) -> list[str]:
    layer = make_data_layer(None, folder)
    ids = []
    try:
        for t in range(threads):
            async with ChatTestClient(app, data_layer=layer, user=User("local")) as client:
                for n in range(turns):
                    await client.send(f"question {t}.{n}")
                ids.append(client.session.thread_id)
    finally:
        await layer.close()
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=100)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        app = folder / "app.py"
        app.write_text(FAKE_MODEL)
        seeded = time.perf_counter()
        ids = asyncio.run(store(folder, app, args.threads, args.turns))
        print(f"stored {len(ids)} threads x {args.turns} turns in "
              f"{time.perf_counter() - seeded:.1f} s")
        started = time.perf_counter()
        df = nbchat.replay(ids, app=app, app_dir=folder, concurrency=args.concurrency,
                           progress=False)
        took = time.perf_counter() - started
        assert len(df) == args.threads * args.turns, len(df)
        assert df["same"].all(), "the fake model is deterministic: every reply is the same"
        print(f"replayed {len(df)} turns in {took:.2f} s ({len(df) / took:,.0f} turns/s, "
              f"concurrency {args.concurrency}); budget: 1,000 turns < 10 s")
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
