"""DynamoDBDataLayer's batched writes (`write_batch`, the write-behind path of
AdaptedDataLayer) against moto's server: a batch of steps is BatchWriteItem calls of at
most 25 items, not one transaction per step; updates keep a step's order and feedback;
throttled items (UnprocessedItems) are sent again; a batch that still fails is written
one operation at a time, nothing lost.

The calls are observed by wrapping the client's `call` (each still goes to moto). moto
never throttles, so the UnprocessedItems answer is made by that wrapper: it sends part of
a BatchWriteItem to moto and hands the rest back as unprocessed, as DynamoDB does under
load; the retry then goes to moto for real."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import pytest

from emulators import CREDENTIALS, Emulator, boto3_client, fresh_table
from nbchat.data import AdaptedDataLayer, LocalStorage
from nbchat.data.dynamodb import DynamoDBDataLayer
from nbchat.ids import new_id, utc_now
from nbchat.types import StepDict

Call = Callable[..., Awaitable[dict[str, Any]]]


class Spy:
    """Counts the layer's DynamoDB operations; `throttle(n)` answers the next n
    BatchWriteItem calls by storing all but their last 3 requests and returning those
    as UnprocessedItems; `refuse_all` answers every one with all of it unprocessed."""

    def __init__(self, layer: DynamoDBDataLayer) -> None:
        self.calls: Counter[str] = Counter()
        self.sizes: list[int] = []
        self.throttled = 0
        self.refuse_all = False  # every BatchWriteItem answered "all unprocessed"
        self._call: Call = layer.dynamo.call
        layer.dynamo.call = self.call  # type: ignore[method-assign]

    async def call(self, operation: str, **params: Any) -> dict[str, Any]:
        self.calls[operation] += 1
        if operation == "batch_write_item":
            [(table, requests)] = params["RequestItems"].items()
            self.sizes.append(len(requests))
            if self.refuse_all:
                return {"UnprocessedItems": {table: requests}}
            if self.throttled > 0 and len(requests) > 3:
                self.throttled -= 1
                await self._call(operation, RequestItems={table: requests[:-3]})
                return {"UnprocessedItems": {table: requests[-3:]}}
        return await self._call(operation, **params)


@pytest.fixture
async def layer(moto_server: Emulator, tmp_path: Path,
                ) -> AsyncIterator[tuple[AdaptedDataLayer, DynamoDBDataLayer, Spy]]:
    dynamo = DynamoDBDataLayer(fresh_table(moto_server), endpoint_url=moto_server.url,
                               **CREDENTIALS)
    # A long interval: the batch is exactly what was queued before flush().
    adapted = AdaptedDataLayer(dynamo, LocalStorage(tmp_path), interval=60, backoff=0.001)
    spy = Spy(dynamo)
    yield adapted, dynamo, spy
    await adapted.close()


def steps(thread_id: str, count: int) -> list[StepDict]:
    return [StepDict(id=new_id(), threadId=thread_id, name="m",  # type: ignore[typeddict-item]
                     type="user_message" if i % 2 == 0 else "assistant_message",
                     output=f"m{i}", createdAt=utc_now()) for i in range(count)]


async def test_sixty_new_steps_are_batch_writes_of_at_most_25(
        layer: tuple[AdaptedDataLayer, DynamoDBDataLayer, Spy]) -> None:
    adapted, _, spy = layer
    one, two = new_id(), new_id()
    made = {one: steps(one, 40), two: steps(two, 20)}
    for thread_steps in made.values():
        for step in thread_steps:
            await adapted.create_step(step)
    await adapted.flush()
    # 60 steps + 60 step references = 120 puts: 5 calls. No transaction per step.
    assert spy.sizes == [25, 25, 25, 25, 20]
    assert spy.calls["transact_write_items"] == 0
    assert spy.calls["batch_get_item"] == 2  # 120 keys, 100 per call
    for tid, thread_steps in made.items():
        thread = await adapted.get_thread(tid)
        assert thread is not None
        assert [s["output"] for s in thread["steps"]] == [s["output"] for s in thread_steps]


async def test_a_batch_of_updates_keeps_order_and_feedback(
        layer: tuple[AdaptedDataLayer, DynamoDBDataLayer, Spy],
        moto_server: Emulator) -> None:
    adapted, dynamo, spy = layer
    tid = new_id()
    made = steps(tid, 30)
    for step in made:
        await adapted.create_step(step)
    await adapted.flush()
    await adapted.upsert_feedback({"forId": made[1]["id"], "value": 1, "comment": "good"})
    spy.sizes.clear()
    for step in reversed(made):  # updated in the reverse order: the order stays creation's
        await adapted.update_step(cast(StepDict, {**step, "output": f"{step['output']} (edited)"}))
    await adapted.flush()
    assert spy.sizes == [25, 5]  # 30 puts, the references exist already
    thread = await adapted.get_thread(tid)
    assert thread is not None
    assert [s["output"] for s in thread["steps"]] == [f"m{i} (edited)" for i in range(30)]
    rated = next(s for s in thread["steps"] if s["id"] == made[1]["id"])
    feedback = rated.get("feedback")
    assert feedback is not None
    assert feedback.get("comment") == "good"
    raw = boto3_client(moto_server)
    item = raw.get_item(TableName=dynamo.table_name,
                        Key={"PK": {"S": f"THREAD#{tid}"}, "SK": {"S": f"STEP#{made[1]['id']}"}})
    raw.close()
    assert item["Item"]["feedback"]["M"]["value"] == {"N": "1"}


async def test_unprocessed_items_are_sent_again(
        layer: tuple[AdaptedDataLayer, DynamoDBDataLayer, Spy]) -> None:
    adapted, _, spy = layer
    tid = new_id()
    made = steps(tid, 20)  # 40 puts: 25 + 15
    spy.throttled = 2
    for step in made:
        await adapted.create_step(step)
    await adapted.flush()
    assert spy.sizes == [25, 3, 15, 3]  # each chunk's 3 unprocessed items, sent again
    assert spy.calls["transact_write_items"] == 0
    thread = await adapted.get_thread(tid)
    assert thread is not None
    assert len(thread["steps"]) == 20


async def test_a_batch_still_throttled_is_written_one_by_one(
        layer: tuple[AdaptedDataLayer, DynamoDBDataLayer, Spy],
        caplog: pytest.LogCaptureFixture) -> None:
    adapted, _, spy = layer
    spy.refuse_all = True
    tid = new_id()
    made = steps(tid, 10)
    for step in made:
        await adapted.create_step(step)
    await adapted.flush()
    assert "storing them one by one" in caplog.text
    assert spy.calls["transact_write_items"] >= 10  # the single writes' transactions
    assert adapted.queue.failed_writes == 0
    thread = await adapted.get_thread(tid)
    assert thread is not None
    assert [s["output"] for s in thread["steps"]] == [s["output"] for s in made]
