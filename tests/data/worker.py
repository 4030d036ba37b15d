"""A child process for the durability and contention tests (run as a script, not imported).

    worker.py ack   <backend> <thread_id> <n>   write n durable user messages, print "ack i"
                                                after each commit, then wait to be killed
    worker.py churn <backend> <tag> <n>         n rounds of: durable step, queued step,
                                                list/search/get; print "done" at the end
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from nbchat.data import LocalStorage, PostgresDataLayer, QueuedDataLayer, SQLiteDataLayer
from nbchat.ids import new_id, utc_now
from nbchat.types import Pagination, StepDict, ThreadFilter


def open_layer(backend: str) -> QueuedDataLayer:
    if backend.startswith("sqlite:"):
        path = Path(backend[len("sqlite:"):])
        return SQLiteDataLayer(path, LocalStorage(path.parent / "files"))
    return PostgresDataLayer(backend)


def message(thread_id: str, text: str) -> StepDict:
    return {
        "id": new_id(), "threadId": thread_id, "parentId": None, "name": "user",
        "type": "user_message", "input": "", "output": text, "isError": False,
        "createdAt": utc_now(), "start": None, "end": None, "metadata": {}, "tags": None,
        "language": None, "generation": None, "showInput": False, "defaultOpen": False,
        "streaming": False, "waitForAnswer": False,
    }


async def ack(backend: str, thread_id: str, n: int) -> None:
    layer = open_layer(backend)
    for i in range(n):
        await layer.create_step(message(thread_id, f"message {i}"), durable=True)
        # Queued but not durable: may or may not survive, must not corrupt anything.
        await layer.create_step(message(thread_id, f"echo {i}"))
        print(f"ack {i}", flush=True)
    sys.stdin.readline()  # block until the parent kills us


async def churn(backend: str, tag: str, n: int) -> None:
    layer = open_layer(backend)
    thread_id = new_id()
    await layer.update_thread(thread_id, name=f"churn {tag}")
    for i in range(n):
        await layer.create_step(message(thread_id, f"{tag} durable {i}"), durable=True)
        await layer.create_step(message(thread_id, f"{tag} queued {i}"))
        await layer.list_threads(Pagination(5), ThreadFilter())
        await layer.list_threads(Pagination(5), ThreadFilter(search=tag))
        await layer.get_thread(thread_id)
    await layer.close()
    print("done", thread_id, flush=True)


if __name__ == "__main__":
    mode, backend, arg, count = sys.argv[1:5]
    asyncio.run((ack if mode == "ack" else churn)(backend, arg, int(count)))
