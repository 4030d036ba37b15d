"""The cost of a burst of simultaneous messages, in-process: N chats each get a message at
once; how long until every reply's first token has been sent, and CPU per message.

    .venv/bin/python benchmarks/message_burst.py             # N = 1000, 3 rounds
    .venv/bin/python benchmarks/message_burst.py --n 300 --profile

No sockets: the sessions of a `ChatHost` send into in-memory transports (which encode each
frame as the wire would), and each message is decoded, validated and dispatched as a
served one is. This is the floor under `serve_load.py`'s TTFT at N simultaneous
messages (issue 5 §6): the last message of the burst waits for all the others, so a p99
under 100 ms at N = 1,000 needs this under 100 µs per message.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import statistics
import time
from typing import Any

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.config import Config, DataConfig
from nbchat.runtime.hosting import ChatHost
from nbchat.transports.memory import MemoryTransport

HELLO = json.dumps({"type": "hello", "protocolVersion": 1})
MESSAGE = json.dumps({"type": "user_message", "content": "hi"})


def burst_app() -> App:
    app = App("burst")
    with registering_on(app):

        @cl.on_message
        async def reply(message: cl.Message) -> None:
            msg = cl.Message(content="")
            await msg.stream_token("first ")
            await asyncio.Event().wait()  # the rest of the reply does not matter here

    return app


def is_first_token(event: dict[str, Any]) -> bool:
    return event["type"] == "token" or (
        event["type"] == "step" and event["step"]["type"] == "assistant_message"
        and event["step"]["streaming"] is True)


async def one_round(n: int, profile: bool) -> tuple[float, float]:
    host = ChatHost(burst_app(), Config(data=DataConfig(enabled=False)))
    arrived = asyncio.Event()
    remaining = n

    def receiver() -> Any:
        seen = False

        def receive(events: list[dict[str, Any]]) -> None:
            nonlocal seen, remaining
            if not seen and any(is_first_token(e) for e in events):
                seen = True
                remaining -= 1
                if remaining == 0:
                    arrived.set()

        return receive

    sessions = []
    for _ in range(n):
        session = host.new_session(None)
        session.attach(MemoryTransport(receiver()))
        await session.receive(HELLO)
        sessions.append(session)
    for session in sessions:
        await session.quiet.wait()  # on_chat_start and the welcome are done
    profiler = cProfile.Profile() if profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    for session in sessions:
        await session.receive(MESSAGE)  # decoded and validated as a served frame is
    await asyncio.wait_for(arrived.wait(), 120)
    if profiler is not None:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    await host.close()
    return wall, cpu / n


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile one round")
    args = parser.parse_args()
    walls, cpus = [], []
    for i in range(args.rounds):
        wall, cpu = await one_round(args.n, args.profile and i == 0)
        walls.append(wall)
        cpus.append(cpu)
    print(f"{args.n} simultaneous messages → every first token sent: best "
          f"{min(walls) * 1000:.0f} ms, median {statistics.median(walls) * 1000:.0f} ms; "
          f"CPU per message best {min(cpus) * 1e6:.0f} µs, median "
          f"{statistics.median(cpus) * 1e6:.0f} µs")


if __name__ == "__main__":
    asyncio.run(main())
