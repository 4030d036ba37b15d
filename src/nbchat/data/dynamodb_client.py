"""The DynamoDB wire side of nbchat.data.dynamodb: typed attribute values, the two client
kinds behind one async `call`, batch writes, and the opaque list cursor.

* `to_attr` / `from_attr`: DynamoDB's typed JSON (`{"S": …}`, `{"N": "1.5"}`, `{"M": …}`).
  Numbers travel as strings, so nothing becomes a float by accident on the way in, and
  what comes out is plain JSON: `int` where the number is integral, `float` otherwise,
  never `Decimal` (sets, which Chainlit's boto3 serializer makes of Python sets, become
  lists).
* `DynamoClient.call(operation, **params)`: an aiobotocore client (async I/O on the event
  loop), or a blocking boto3 client (Chainlit's way) whose calls run in a worker thread
  (`asyncio.to_thread`), never on the loop.
* `batch_write`: BatchWriteItem, 25 requests per call, UnprocessedItems retried with
  exponential backoff.
* `encode_cursor` / `decode_cursor`: a DynamoDB key (LastEvaluatedKey's shape) as an opaque
  URL-safe string; anything else is an InvalidDataError.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import inspect
import json
import math
import os
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from nbchat.data.validation import InvalidDataError

Item = dict[str, Any]  # one item in DynamoDB's typed form
BATCH_SIZE = 25  # BatchWriteItem's limit
GET_BATCH_SIZE = 100  # BatchGetItem's limit


def to_attr(value: Any) -> dict[str, Any]:
    """One Python/JSON value as a DynamoDB attribute value."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidDataError(f"DynamoDB cannot store the number {value!r}")
        return {"N": repr(value)}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, Mapping):
        return {"M": {str(k): to_attr(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [to_attr(v) for v in value]}
    raise InvalidDataError(f"DynamoDB cannot store a {type(value).__name__}")


def _number(text: str) -> int | float:
    number = Decimal(text)
    integral = number == number.to_integral_value() and "." not in text and "e" not in text.lower()
    return int(number) if integral else float(number)


def from_attr(attr: Mapping[str, Any]) -> Any:
    """A DynamoDB attribute value as plain JSON (ints, floats, lists; no Decimal)."""
    [(kind, value)] = attr.items()
    if kind in ("S", "BOOL"):
        return value
    if kind == "NULL":
        return None
    if kind == "N":
        return _number(value)
    if kind == "B":
        return value
    if kind == "M":
        return {k: from_attr(v) for k, v in value.items()}
    if kind == "L":
        return [from_attr(v) for v in value]
    if kind == "SS":
        return sorted(value)
    if kind == "NS":
        return sorted(_number(v) for v in value)
    if kind == "BS":
        return list(value)
    raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


def to_item(values: Mapping[str, Any]) -> Item:
    return {k: to_attr(v) for k, v in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: from_attr(v) for k, v in item.items()}


def encode_cursor(key: Mapping[str, Any]) -> str:
    """A DynamoDB key (typed, as LastEvaluatedKey is) as an opaque cursor."""
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, str]:
    """The thread key a cursor of list_threads names: PK, SK, UserThreadSK[, UserThreadPK]."""
    try:
        raw = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
        key = {name: attr["S"] for name, attr in raw.items()}
        if (set(key) - {"PK", "SK", "UserThreadPK", "UserThreadSK"}
                or not key["PK"].startswith("THREAD#") or key["SK"] != "THREAD"
                or not key["UserThreadSK"].startswith("TS#")
                or not all(isinstance(v, str) for v in key.values())):
            raise ValueError(cursor)
        return key
    except (ValueError, TypeError, KeyError, AttributeError, binascii.Error,
            UnicodeDecodeError) as exc:
        raise InvalidDataError(
            f"cursor {cursor[:40]!r} was not made by list_threads; start over") from exc


def is_conditional_failure(exc: BaseException) -> bool:
    """A ConditionExpression that did not hold (botocore's ClientError of that code)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    error = response.get("Error", {})
    if error.get("Code") == "ConditionalCheckFailedException":
        return True
    # A cancelled transaction: by a failed condition, not by a conflict or throttling.
    reasons = f"{response.get('CancellationReasons', '')} {error.get('Message', '')}"
    return (error.get("Code") == "TransactionCanceledException"
            and "ConditionalCheckFailed" in reasons)


def _is_async_client(client: Any) -> bool:
    """An aiobotocore (or aioboto3) client: its methods return awaitables, though they are
    not coroutine functions themselves."""
    return (any(c.__module__.startswith(("aiobotocore", "aioboto3"))
                for c in type(client).__mro__)
            or inspect.iscoroutinefunction(getattr(client, "get_item", None)))


class DynamoClient:
    """One DynamoDB client, sync (boto3, run in threads) or async (aiobotocore)."""

    def __init__(self, client: Any = None, *, endpoint_url: str | None = None,
                 region_name: str | None = None, aws_access_key_id: str | None = None,
                 aws_secret_access_key: str | None = None,
                 aws_session_token: str | None = None) -> None:
        self._given = client
        self._is_async = client is not None and _is_async_client(client)
        self._options = {
            "endpoint_url": endpoint_url,
            "region_name": region_name or os.environ.get("AWS_REGION", "us-east-1"),
            "aws_access_key_id": aws_access_key_id,
            "aws_secret_access_key": aws_secret_access_key,
            "aws_session_token": aws_session_token,
        }
        self._context: Any = None  # the aiobotocore client's async context manager
        self._client: Any = client if self._is_async else None
        self._opening: asyncio.Lock | None = None

    @property
    def threaded(self) -> bool:
        """True for a blocking boto3 client (its calls run in worker threads)."""
        return self._given is not None and not self._is_async

    async def _async_client(self) -> Any:
        if self._client is not None:
            return self._client
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._client is None:
                try:
                    from aiobotocore.session import get_session
                except ImportError as exc:
                    raise ImportError(
                        "DynamoDBDataLayer without a boto3 client needs aiobotocore: "
                        "pip install 'nbchat[dynamodb]'") from exc
                options = {k: v for k, v in self._options.items() if v is not None}
                self._context = get_session().create_client("dynamodb", **options)
                self._client = await self._context.__aenter__()
        return self._client

    async def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Run one DynamoDB API operation (snake_case name, e.g. "get_item")."""
        if self.threaded:
            result: dict[str, Any] = await asyncio.to_thread(
                getattr(self._given, operation), **params)
            return result
        client = await self._async_client()
        out: dict[str, Any] = await getattr(client, operation)(**params)
        return out

    async def pages(self, operation: str, **params: Any) -> list[Item]:
        """Every item of a query or scan, following LastEvaluatedKey."""
        items: list[Item] = []
        while True:
            response = await self.call(operation, **params)
            items += response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                return items
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    async def batch_write(self, table: str, requests: list[dict[str, Any]], *,
                          backoff: float = 0.05, attempts: int = 8) -> None:
        """BatchWriteItem in chunks of 25; UnprocessedItems (throttling) are sent again
        with exponential backoff, and still unprocessed after `attempts` is an error."""
        for start in range(0, len(requests), BATCH_SIZE):
            pending: dict[str, Any] = {table: requests[start:start + BATCH_SIZE]}
            for attempt in range(attempts):
                response = await self.call("batch_write_item", RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
                if not pending:
                    break
                # Backoff before re-sending what DynamoDB throttled, not synchronization.
                await asyncio.sleep(min(backoff * 2 ** attempt, 2.0))
            else:
                raise ConnectionError(
                    f"DynamoDB left {len(pending.get(table, []))} writes unprocessed "
                    f"after {attempts} attempts (throttled: raise the table's capacity)")

    async def batch_get(self, table: str, keys: list[Item]) -> list[Item]:
        """BatchGetItem in chunks of 100, UnprocessedKeys sent again (order not kept)."""
        found: list[Item] = []
        for start in range(0, len(keys), GET_BATCH_SIZE):
            pending: dict[str, Any] = {table: {"Keys": keys[start:start + GET_BATCH_SIZE]}}
            attempt = 0
            while pending:
                response = await self.call("batch_get_item", RequestItems=pending)
                found += response.get("Responses", {}).get(table, [])
                pending = response.get("UnprocessedKeys") or {}
                if pending:
                    await asyncio.sleep(min(0.05 * 2 ** attempt, 2.0))  # throttled: backoff
                    attempt += 1
        return found

    async def close(self) -> None:
        if self.threaded:
            await asyncio.to_thread(self._given.close)
        elif self._context is not None:
            await self._context.__aexit__(None, None, None)
            self._context = self._client = None
        elif self._client is not None:
            await self._client.close()
            self._client = None
