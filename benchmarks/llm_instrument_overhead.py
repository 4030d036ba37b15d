"""What cl.instrument_openai() costs per traced call and per streamed chunk.

The real `openai` client, inside a real chat session (ChatTestClient: runtime, coalescing
emitter, in-memory wire), answered in-process by an httpx2 MockTransport that replays a
chat-completions response: JSON for a plain call, N server-sent-event chunks for a stream
(the "fake model": the client's own HTTP, SSE parsing and pydantic models). Each variant
is the process's CPU time (`time.process_time`), best of --repeat runs, interleaved:

- plain:  `create` as the library has it (the instrumentation's wrapper bypassed through
          `__wrapped__`), in the same chat;
- traced: `create` through cl.instrument_openai() (a step opened, tokens streamed into it,
          the generation closed).

The difference is what the instrumentation adds: per call (non-streamed; two events, the
step shown at the start and closed with its generation at the end) and per chunk
(streamed, divided by the chunk count), and as a share of the plain call's own time. For
comparison, the same plain call wrapped by hand in `async with cl.Step(...)`: most of a
call's cost is the runtime's showing a step (events built, flushed, mirrored), not the
instrumentation's bookkeeping.

    .venv/bin/python benchmarks/llm_instrument_overhead.py [--chunks 2000] [--calls 200]

Budget (issue 17): under 50 µs per traced event (a call, or a streamed chunk) and under
5% of the fake model's own time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
import openai
from openai.resources.chat.completions import AsyncCompletions

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.config import Config, DataConfig, RuntimeConfig
from nbchat.testing import ChatTestClient

MESSAGES: Any = [{"role": "user", "content": "hi"}]


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "bench",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def sse_body(chunks: int) -> bytes:
    events = [_chunk({"role": "assistant", "content": "tok "})]
    events += [_chunk({"content": "tok "}) for _ in range(chunks - 2)]
    events.append({**_chunk({}, "stop"),
                   "usage": {"prompt_tokens": 3, "completion_tokens": chunks,
                             "total_tokens": chunks + 3}})
    return b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events) + b"data: [DONE]\n\n"


JSON_BODY = json.dumps({
    "id": "c", "object": "chat.completion", "created": 1, "model": "bench",
    "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": "Hello there, friend."}}],
}).encode()


def client_for(chunks: int) -> openai.AsyncOpenAI:
    stream = sse_body(chunks)

    def answer(request: httpx2.Request) -> httpx2.Response:
        if json.loads(request.content).get("stream"):
            return httpx2.Response(200, content=stream,
                                   headers={"content-type": "text/event-stream"})
        return httpx2.Response(200, content=JSON_BODY,
                               headers={"content-type": "application/json"})

    return openai.AsyncOpenAI(api_key="bench", base_url="http://bench.invalid/v1",
                              http_client=httpx2.AsyncClient(
                                  transport=httpx2.MockTransport(answer)))


async def in_session(body: Callable[[], Awaitable[float]]) -> float:
    """Run `body` inside an nbchat message callback; return the seconds it measured."""
    result: list[float] = []
    app = App("bench")
    with registering_on(app):

        @cl.on_message
        async def on_message(_: cl.Message) -> None:
            result.append(await body())

    # No watchdog: a long measured loop is not a stall to report.
    config = Config(data=DataConfig(enabled=False), runtime=RuntimeConfig(stall_warning_ms=None))
    async with ChatTestClient(app, config=config, timeout=600) as client:
        await client.send("go")
    return result[0]


def streamed(chunks: int, traced: bool) -> Callable[[], Awaitable[float]]:
    async def body() -> float:
        completions = client_for(chunks).chat.completions
        create: Any = (AsyncCompletions.create if traced
                       else AsyncCompletions.create.__wrapped__)  # type: ignore[attr-defined]
        start = time.process_time()
        stream = await create(completions, model="bench", messages=MESSAGES, stream=True)
        async for _ in stream:
            pass
        return time.process_time() - start

    return body


def plain_calls(calls: int, traced: bool, in_step: bool = False) -> Callable[[], Awaitable[float]]:
    async def body() -> float:
        completions = client_for(2).chat.completions
        create: Any = (AsyncCompletions.create if traced
                       else AsyncCompletions.create.__wrapped__)  # type: ignore[attr-defined]
        start = time.process_time()
        for _ in range(calls):
            if in_step:  # what showing any step costs the runtime, for comparison
                async with cl.Step(name="bench", type="llm") as step:
                    step.input = MESSAGES
                    reply = await create(completions, model="bench", messages=MESSAGES)
                    step.output = reply.choices[0].message.content
            else:
                await create(completions, model="bench", messages=MESSAGES)
        return time.process_time() - start

    return body


def best_of(variants: dict[str, Callable[[], Awaitable[float]]], repeat: int) -> dict[str, float]:
    times = dict.fromkeys(variants, float("inf"))
    for _ in range(repeat):
        for name, body in variants.items():
            times[name] = min(times[name], asyncio.run(in_session(body)))
    return times


def report(title: str, unit: str, per: dict[str, float]) -> float:
    """Print one measurement (µs per unit); return what tracing added."""
    added = per["traced"] - per["plain"]
    print(f"{title}:")
    print(f"  plain   {per['plain']:7.2f} µs/{unit} (the client's own work)")
    print(f"  traced  {per['traced']:7.2f} µs/{unit}")
    print(f"  added   {added:7.2f} µs/{unit} ({added / per['plain']:.1%})")
    if "cl.Step" in per:
        print(f"  for comparison, the plain call in a hand-written `async with cl.Step` "
              f"(input, output): {per['cl.Step'] - per['plain']:.2f} µs/{unit} added")
    return added


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    cl.instrument_openai()

    print(f"CPU time, best of {args.repeat} interleaved runs\n")
    t = best_of({"plain": streamed(args.chunks, False),
                 "traced": streamed(args.chunks, True)}, args.repeat)
    chunk_cost = report(f"streamed, {args.chunks:,} chunks per call", "chunk",
                        {k: v * 1e6 / args.chunks for k, v in t.items()})
    t = best_of({"plain": plain_calls(args.calls, False),
                 "traced": plain_calls(args.calls, True),
                 "cl.Step": plain_calls(args.calls, False, in_step=True)}, args.repeat)
    call_cost = report(f"\nplain calls, {args.calls:,} per run", "call",
                       {k: v * 1e6 / args.calls for k, v in t.items()})

    # A plain call is two events (the step shown when it starts, then closed with its
    # generation); a streamed chunk is one (a token).
    worst = max(chunk_cost, call_cost / 2)
    verdict = "OK" if worst < 50 else "OVER"
    print(f"\nbudget: under 50 µs per traced event (a chunk; a call's start or end): "
          f"{verdict} (worst {worst:.1f} µs)")


if __name__ == "__main__":
    main()
