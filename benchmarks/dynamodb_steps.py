"""Step writes into DynamoDB on moto's server: nbchat's batched write-behind vs one write
per step.

    .venv/bin/python benchmarks/dynamodb_steps.py                 # 20 threads x 50 steps
    .venv/bin/python benchmarks/dynamodb_steps.py --threads 40 --rounds 5

Each round, on a fresh table each, in turn (so load drifts hit all alike):

* batched: AdaptedDataLayer over DynamoDBDataLayer, as every nbchat host runs it; steps
  are queued and each write-behind batch goes to `write_batch` (BatchWriteItem, 25 items
  a call, one BatchGetItem per 50 steps);
* per step: the same adapter over the same layer without `write_batch`: each step is its
  own TransactWriteItems (step, its reference, the thread's activity), as before batching;
* PutItem: one PutItem per step straight through aiobotocore, nothing else (Chainlit's
  layer does this, blocking, on the event loop): the floor of one call per step.

The workload: every step created (queued, flushed), then every step updated once (a
streamed reply's end; queued, flushed). Prints steps/s per variant (median of rounds), the
ratio to PutItem and the load average. moto runs on the same cores as this process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from emulators import CREDENTIALS, Emulators, fresh_table  # noqa: E402 (tests' launcher)
from nbchat.data import AdaptedDataLayer, LocalStorage  # noqa: E402
from nbchat.data.dynamodb import DynamoDBDataLayer  # noqa: E402
from nbchat.data.dynamodb_client import to_attr  # noqa: E402
from nbchat.data.validation import Limits, normalize_step  # noqa: E402
from nbchat.ids import new_id, utc_now  # noqa: E402
from nbchat.types import StepDict  # noqa: E402


class PerStepLayer(DynamoDBDataLayer):
    """The layer without its batch path: the adapter writes step by step."""

    write_batch = None  # type: ignore[assignment]


def workload(threads: int, per_thread: int) -> list[StepDict]:
    """Whole step dicts, as the runtime sends them (an update needs no read to merge)."""
    return [cast(StepDict, dict(normalize_step(
        {"id": new_id(), "threadId": tid, "name": "m", "type": "assistant_message",
         "output": f"reply {i}", "createdAt": utc_now()}, Limits())))
        for tid in (new_id() for _ in range(threads)) for i in range(per_thread)]


async def adapted(layer: DynamoDBDataLayer, steps: list[StepDict], folder: Path) -> float:
    queued = AdaptedDataLayer(layer, LocalStorage(folder), max_batch=2000)
    await layer.dynamo.call("describe_table", TableName=layer.table_name)  # the client made
    start = time.perf_counter()
    for step in steps:
        await queued.create_step(step)
    await queued.flush()  # (else the queue merges each step's two writes into one)
    for step in steps:
        await queued.update_step(cast(StepDict, {**step, "output": f"{step['output']} (done)"}))
    await queued.flush()
    took = time.perf_counter() - start
    await queued.close()
    return took


async def put_items(url: str, table: str, steps: list[StepDict]) -> float:
    from aiobotocore.session import get_session

    async with get_session().create_client("dynamodb", endpoint_url=url,
                                           **CREDENTIALS) as client:
        await client.describe_table(TableName=table)  # the connection made
        start = time.perf_counter()
        for version in ("", " (done)"):
            for step in steps:
                item: dict[str, Any] = {k: to_attr(v) for k, v in step.items()}
                item["output"] = {"S": step["output"] + version}
                item["PK"] = {"S": f"THREAD#{step['threadId']}"}
                item["SK"] = {"S": f"STEP#{step['id']}"}
                await client.put_item(TableName=table, Item=item)
        return time.perf_counter() - start


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--steps", type=int, default=50, help="steps per thread")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    times: dict[str, list[float]] = {"batched": [], "per step": [], "PutItem": []}
    with tempfile.TemporaryDirectory() as tmp:
        emulators = Emulators(Path(tmp))
        moto = emulators.moto()
        try:
            for _ in range(args.rounds):
                for name in times:
                    steps = workload(args.threads, args.steps)
                    table = fresh_table(moto)
                    if name == "PutItem":
                        took = await put_items(moto.url, table, steps)
                    else:
                        kind = DynamoDBDataLayer if name == "batched" else PerStepLayer
                        layer = kind(table, endpoint_url=moto.url, **CREDENTIALS)
                        took = await adapted(layer, steps, Path(tmp) / "files")
                    times[name].append(took)
                    print(f"  round: {name} {took * 1000:.0f} ms", file=sys.stderr, flush=True)
        finally:
            emulators.close()
    writes = 2 * args.threads * args.steps
    floor = statistics.median(times["PutItem"])
    print(f"{args.threads} threads x {args.steps} steps, each created and updated: "
          f"{writes} step writes, median of {args.rounds} rounds")
    for name, runs in times.items():
        took = statistics.median(runs)
        print(f"  {name:9} {writes / took:8.0f} step writes/s  ({took * 1000:7.0f} ms, "
              f"{floor / took:5.2f}x PutItem)")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    asyncio.run(main())
