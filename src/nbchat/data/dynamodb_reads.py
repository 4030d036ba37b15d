"""The read side of nbchat.data.dynamodb: item keys, items as nbchat dicts, and the
thread listing (a user's threads through the UserThread index, everyone's through a scan,
search and the feedback filter by reading each candidate thread, since DynamoDB has no text
index). DynamoDBDataLayer (nbchat.data.dynamodb) adds the writes.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, cast

from nbchat.data.dynamodb_client import (
    DynamoClient,
    Item,
    decode_cursor,
    encode_cursor,
    from_item,
)
from nbchat.data.queued import search_terms
from nbchat.data.validation import InvalidDataError
from nbchat.types import (
    ElementDict,
    PageInfo,
    PaginatedResponse,
    Pagination,
    StepDict,
    ThreadDict,
    ThreadFilter,
)

INDEX = "UserThread"
# Attributes of the table's items that are keys or nbchat's bookkeeping, not the dict's.
KEYS = ("PK", "SK", "UserThreadPK", "UserThreadSK", "nbchatOrder")
_READ_CONCURRENCY = 8  # threads read at once by search and the feedback filter
# Chainlit's feedback ids, THREAD#<thread>::STEP#<step>; nbchat shows them with ':' for
# '#' (its ids are URL- and path-safe: A-Z a-z 0-9 _ . : -) and stores them as Chainlit.
CHAINLIT_FEEDBACK_ID = re.compile(r"THREAD[#:](.+?)::STEP[#:](.+)")


def thread_key(thread_id: str) -> Item:
    return {"PK": {"S": f"THREAD#{thread_id}"}, "SK": {"S": "THREAD"}}


def child_key(thread_id: str, kind: str, child_id: str) -> Item:
    return {"PK": {"S": f"THREAD#{thread_id}"}, "SK": {"S": f"{kind}#{child_id}"}}


def ref_key(kind: str, ref_id: str) -> Item:
    return {"PK": {"S": f"{kind}#{ref_id}"}, "SK": {"S": kind}}


def feedback_id_out(stored: str) -> str:
    """A stored feedback id as nbchat hands it out (Chainlit's form with ':' for '#')."""
    m = CHAINLIT_FEEDBACK_ID.fullmatch(stored)
    return f"THREAD:{m.group(1)}::STEP:{m.group(2)}" if m else stored


def feedback_id_in(given: str) -> str:
    """A feedback id as stored (Chainlit's own form for Chainlit's kind of id)."""
    m = CHAINLIT_FEEDBACK_ID.fullmatch(given)
    return f"THREAD#{m.group(1)}::STEP#{m.group(2)}" if m else given


def plain(item: Item) -> dict[str, Any]:
    return {k: v for k, v in from_item(item).items() if k not in KEYS}


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


class DynamoReads:
    """Reads of Chainlit's DynamoDB table (the base of DynamoDBDataLayer)."""

    def __init__(self, table_name: str, dynamo: DynamoClient, storage_provider: Any) -> None:
        self.table_name = table_name
        self.dynamo = dynamo
        self.storage_provider = storage_provider

    async def _get(self, key: Item, **params: Any) -> Item | None:
        response = await self.dynamo.call("get_item", TableName=self.table_name, Key=key,
                                          ConsistentRead=True, **params)
        item: Item | None = response.get("Item")
        return item

    async def _thread_items(self, thread_id: str) -> list[Item]:
        return await self.dynamo.pages(
            "query", TableName=self.table_name, ConsistentRead=True,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"THREAD#{thread_id}"}})

    def _thread(self, item: Item) -> ThreadDict:
        t = plain(item)
        out = {"id": t.get("id") or from_item(item)["PK"].removeprefix("THREAD#"),
               "createdAt": t.get("createdAt") or "", "name": t.get("name"),
               "userId": t.get("userId"), "userIdentifier": t.get("userIdentifier"),
               "tags": t.get("tags"), "metadata": t.get("metadata") or {},
               "steps": [], "elements": None}
        return cast(ThreadDict, {**t, **out})

    async def get_thread(self, thread_id: str) -> ThreadDict | None:
        """The thread with its steps (oldest first) and elements, or None."""
        return await self._assemble(await self._thread_items(thread_id))

    async def _assemble(self, items: list[Item]) -> ThreadDict | None:
        thread: ThreadDict | None = None
        steps: list[tuple[str, str, dict[str, Any]]] = []
        elements: list[ElementDict] = []
        for item in items:
            sk = item["SK"]["S"]
            if sk == "THREAD":
                thread = self._thread(item)
            elif sk.startswith("STEP#"):
                step = plain(item)
                feedback = step.get("feedback") or None
                if feedback and isinstance(feedback.get("id"), str):
                    feedback["id"] = feedback_id_out(feedback["id"])
                step["feedback"] = feedback
                order = item.get("nbchatOrder", {}).get("S", "")
                steps.append((str(step.get("createdAt") or ""), order, step))
            elif sk.startswith("ELEMENT#"):
                elements.append(await self._element(item))
        if thread is None:
            return None
        steps.sort(key=lambda s: (s[0], s[1]))
        thread["steps"] = [cast(StepDict, s) for _, _, s in steps]
        thread["elements"] = elements
        return thread

    async def _locate(self, kind: str, child_id: str) -> list[str]:
        """Threads holding a step or element that nbchat has no reference for (a table
        Chainlit wrote, which finds them through its request context): a full scan."""
        items = await self.dynamo.pages(
            "scan", TableName=self.table_name, ProjectionExpression="PK",
            FilterExpression="SK = :sk",
            ExpressionAttributeValues={":sk": {"S": f"{kind}#{child_id}"}})
        return [i["PK"]["S"].removeprefix("THREAD#") for i in items]

    async def _element(self, item: Item) -> ElementDict:
        element = plain(item)
        if self.storage_provider is not None and element.get("objectKey"):
            element["url"] = await self.storage_provider.get_read_url(
                object_key=element["objectKey"])
        return cast(ElementDict, element)

    async def get_element(self, thread_id: str, element_id: str) -> ElementDict | None:
        """The element of that thread, or None."""
        item = await self._get(child_key(thread_id, "ELEMENT", element_id))
        return None if item is None else await self._element(item)

    # -- listing -------------------------------------------------------------------------

    async def _user_thread_keys(self, user_pk: str, after: dict[str, str] | None,
                                limit: int | None = None) -> list[Item]:
        """The user's thread keys from the UserThread index, newest activity first."""
        params: dict[str, Any] = {
            "TableName": self.table_name, "IndexName": INDEX, "ScanIndexForward": False,
            "KeyConditionExpression": "UserThreadPK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": user_pk}}}
        if after is not None:
            params["ExclusiveStartKey"] = {k: {"S": v} for k, v in after.items()}
        keys: list[Item] = []
        while limit is None or len(keys) < limit:
            if limit is not None:
                params["Limit"] = limit - len(keys)
            response = await self.dynamo.call("query", **params)
            keys += response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                break
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return keys

    async def _all_thread_items(self, after: dict[str, str] | None) -> list[Item]:
        """Every thread item (a scan: threads of all users and of none), newest first."""
        items = await self.dynamo.pages(
            "scan", TableName=self.table_name, ConsistentRead=True,
            FilterExpression="SK = :sk", ExpressionAttributeValues={":sk": {"S": "THREAD"}})

        def order(i: Item) -> tuple[str, str]:
            return i.get("UserThreadSK", {}).get("S", ""), i["PK"]["S"]

        items.sort(key=order, reverse=True)
        if after is None:
            return items
        mark = (after["UserThreadSK"], after["PK"])
        return [i for i in items if order(i) < mark]

    def _matches(self, thread: ThreadDict, terms: list[str], feedback: int | None) -> bool:
        steps = cast(list[dict[str, Any]], thread["steps"] or [])
        if feedback is not None and not any(
                (s.get("feedback") or {}).get("value") == feedback for s in steps):
            return False
        if not terms:
            return True
        words = _words(thread.get("name") or "")
        for s in steps:
            words += _words(f"{s.get('input') or ''} {s.get('output') or ''}")
        *whole, last = terms
        return all(t in words for t in whole) and any(w.startswith(last) for w in words)

    async def _filtered(self, candidates: list[Item], wanted: int, terms: list[str],
                        feedback: int | None) -> list[Item]:
        """The first `wanted` candidates whose thread matches, reading threads in order,
        a few at once (the whole thread per candidate: that is the cost of search)."""
        found: list[Item] = []
        for start in range(0, len(candidates), _READ_CONCURRENCY):
            chunk = candidates[start:start + _READ_CONCURRENCY]
            reads = await asyncio.gather(*(self._thread_items(
                c["PK"]["S"].removeprefix("THREAD#")) for c in chunk))
            for items in reads:
                thread = await self._assemble(items)
                if thread is not None and self._matches(thread, terms, feedback):
                    found.append(next(i for i in items if i["SK"]["S"] == "THREAD"))
                    if len(found) == wanted:
                        return found
        return found

    async def list_threads(self, pagination: Pagination,
                           filters: ThreadFilter) -> PaginatedResponse[ThreadDict]:
        """A page of threads, most recent activity first: a user's through the UserThread
        index, everyone's through a scan; search and feedback read each candidate."""
        first = pagination.first
        after = None if pagination.cursor is None else decode_cursor(pagination.cursor)
        terms = search_terms(filters.search or "")
        if filters.search is not None and not terms:
            return PaginatedResponse(PageInfo(False, None, None), [])
        filtered = bool(terms) or filters.feedback is not None
        if filters.userId is not None:
            user_pk = f"USER#{filters.userId}"
            if after is not None and after.get("UserThreadPK") != user_pk:
                raise InvalidDataError("this cursor is from another listing; start over")
            keys = await self._user_thread_keys(user_pk, after, None if filtered else first + 1)
            rows = (await self._filtered(keys, first + 1, terms, filters.feedback)
                    if filtered else await self._full(keys[:first + 1]))
        else:
            items = await self._all_thread_items(after)
            rows = (await self._filtered(items, first + 1, terms, filters.feedback)
                    if filtered else items[:first + 1])
        page = rows[:first]
        cursors = [encode_cursor({k: row[k] for k in
                                  ("PK", "SK", "UserThreadPK", "UserThreadSK") if k in row})
                   for row in page]
        return PaginatedResponse(
            PageInfo(len(rows) > first, cursors[0] if cursors else None,
                     cursors[-1] if cursors else None),
            [self._thread(row) for row in page])

    async def _full(self, keys: list[Item]) -> list[Item]:
        """The thread items of index entries (the index projects only id and name), in
        the index's order."""
        got = await self.dynamo.batch_get(
            self.table_name, [{"PK": k["PK"], "SK": k["SK"]} for k in keys])
        by_pk = {i["PK"]["S"]: i for i in got}
        return [by_pk[k["PK"]["S"]] for k in keys if k["PK"]["S"] in by_pk]
