"""What LangchainCallbackHandler costs per streamed LLM token.

Two measurements inside a real chat session (ChatTestClient: runtime, coalescing emitter,
in-memory wire). Times are the process's CPU time (all its threads: `time.process_time`),
so other load on the machine does not count; each is the best of --repeat runs, run
interleaved with the variants it is compared with:

1. The handler alone: `on_llm_new_token` called N times for one open LLM run, as LangChain
   calls it — on the event loop (async runs) and from a worker thread (sync runs, where
   each token is queued to the loop). Includes streaming into the step and the emitter.
2. End to end in LangChain: a fake chat model streams N tokens through `astream` with no
   callbacks, with a no-op inline handler (LangChain's own dispatch cost), and with
   LangchainCallbackHandler (with and without final-answer streaming). The fake model's
   per-chunk objects dominate; the differences are what the callbacks add.

    .venv/bin/python benchmarks/langchain_overhead.py [--tokens 20000] [--repeat 5]

Budget (issue 6): the handler adds under 5 µs per streamed token.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.runnables import RunnableConfig

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.testing import ChatTestClient

Timed = Callable[[], Awaitable[float]]


class NoopHandler(BaseCallbackHandler):
    """Called inline like ours, does nothing: isolates LangChain's dispatch cost."""

    run_inline = True


async def in_session(body: Callable[[], Awaitable[float]]) -> float:
    """Run `body` inside an nbchat message callback; return the seconds it measured."""
    result: list[float] = []
    app = App("bench")
    with registering_on(app):

        @cl.on_message
        async def on_message(_: cl.Message) -> None:
            result.append(await body())

    async with ChatTestClient(app, timeout=600) as client:
        await client.send("go")
        llm = [s for s in client.steps if s["type"] == "llm"]
        assert all(s["output"] for s in llm), "the streamed output did not arrive"
    return result[0]


def handler_alone(tokens: int, threaded: bool) -> Timed:
    async def body() -> float:
        handler = cl.LangchainCallbackHandler()
        run_id = uuid.uuid4()
        handler.on_chat_model_start({"name": "bench"}, [[HumanMessage(content="hi")]],
                                    run_id=run_id)

        def stream() -> float:
            start = time.process_time()
            for _ in range(tokens):
                handler.on_llm_new_token("tok ", run_id=run_id)
            return time.process_time() - start

        if not threaded:
            elapsed = stream()
        else:
            start = time.process_time()
            await asyncio.to_thread(stream)
            elapsed = time.process_time() - start  # includes applying the queue on the loop
        handler.on_llm_end(_empty_result(), run_id=run_id)
        return elapsed

    return body


def _empty_result() -> Any:
    from langchain_core.messages import AIMessage
    from langchain_core.outputs import ChatGeneration, LLMResult

    return LLMResult(generations=[[ChatGeneration(message=AIMessage(content="x"))]])


class AsyncFakeChatModel(GenericFakeChatModel):
    """GenericFakeChatModel with a native async stream (the base class runs its sync
    stream in a thread, one hop per chunk, which would drown what we measure)."""

    async def _astream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                       run_manager: AsyncCallbackManagerForLLMRun | None = None,
                       **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        content = str(next(self.messages))
        for token in re.split(r"(\s)", content):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=token))
            if run_manager is not None:
                await run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk


def callbacks_for(kind: str) -> list[BaseCallbackHandler]:
    if kind == "noop":
        return [NoopHandler()]
    if kind == "nbchat":
        return [cl.LangchainCallbackHandler()]
    if kind == "nbchat+answer":
        return [cl.LangchainCallbackHandler(stream_final_answer=True, answer_prefix_tokens=[])]
    return []


def end_to_end(tokens: int, kind: str, threaded: bool) -> Timed:
    content = " ".join(["tok"] * ((tokens + 1) // 2))  # words and spaces: N tokens

    async def body() -> float:
        config: RunnableConfig = {"callbacks": callbacks_for(kind)}
        start = time.process_time()
        if threaded:
            model = GenericFakeChatModel(messages=iter([content]))
            await asyncio.to_thread(lambda: list(model.stream("go", config=config)))
        else:
            fast = AsyncFakeChatModel(messages=iter([content]))
            async for _ in fast.astream("go", config=config):
                pass
        return time.process_time() - start

    return body


def best_of(variants: dict[str, Timed], repeat: int) -> dict[str, float]:
    """Best time of each variant, measured interleaved (A B C A B C …) so that load from
    elsewhere on the machine hits them alike."""
    times = dict.fromkeys(variants, float("inf"))
    for _ in range(repeat):
        for name, make in variants.items():
            times[name] = min(times[name], asyncio.run(in_session(make)))
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    n, r = args.tokens, args.repeat
    us = 1e6 / n

    print(f"{n:,} tokens per run, CPU time, best of {r} interleaved runs\n")
    print("handler alone (on_llm_new_token → step.stream_token → emitter):")
    alone = best_of({"loop": handler_alone(n, threaded=False),
                     "thread": handler_alone(n, threaded=True)}, r)
    print(f"  on the event loop (async runs)   {alone['loop'] * us:6.2f} µs/token")
    print(f"  from a worker thread (sync runs) {alone['thread'] * us:6.2f} µs/token")

    kinds = ("none", "noop", "nbchat", "nbchat+answer")
    for threaded in (False, True):
        title = ("GenericFakeChatModel.stream in a worker thread" if threaded
                 else "async fake chat model, astream on the loop")
        print(f"\nend to end, {title}:")
        t = {k: v * us for k, v in
             best_of({k: end_to_end(n, k, threaded) for k in kinds}, r).items()}
        for k in kinds:
            print(f"  callbacks={k:<14} {t[k]:7.2f} µs/token")
        rows = [("LangChain's own dispatch", "noop - none", t["noop"] - t["none"]),
                ("nbchat handler", "nbchat - noop", t["nbchat"] - t["noop"]),
                ("final-answer message", "answer - nbchat", t["nbchat+answer"] - t["nbchat"])]
        for label, how, value in rows:
            print(f"  {label:<26} ({how:<15}) {value:6.2f} µs/token")
    worst = max(alone.values()) * us
    verdict = "OK" if worst < 5 else "OVER"
    print(f"\nbudget: the handler under 5 µs/token: {verdict} (worst alone {worst:.2f})")


if __name__ == "__main__":
    main()
