"""Chainlit's DynamoDB data layer for nbchat: `DynamoDBDataLayer(table_name, client=None,
storage_provider=None, user_thread_limit=10)`, on Chainlit's single-table design.

The items are Chainlit's (docs.chainlit.io/data-layers/dynamodb), so a table Chainlit
filled reads back here and the other way round:

    user     PK=USER#<identifier>  SK=USER          id, identifier, metadata, createdAt
    thread   PK=THREAD#<id>        SK=THREAD        id, name, userId, userIdentifier, tags,
             metadata, createdAt; UserThreadPK=USER#<user id>, UserThreadSK=TS#<activity>
             (the UserThread index: a user's threads, most recent activity first)
    step     PK=THREAD#<id>        SK=STEP#<id>     the StepDict, its feedback an attribute
    element  PK=THREAD#<id>        SK=ELEMENT#<id>  the ElementDict (url, objectKey)

nbchat adds what Chainlit reads from its request context instead (which step is in which
thread, which step a feedback id rates): `STEPREF#<step id>`/`STEPREF` and
`FEEDBACKREF#<id>`/`FEEDBACKREF` items, outside every thread and the index, and
`nbchatOrder` on a step (steps of equal createdAt keep their write order). Unlike
Chainlit's layer, a thread's createdAt is its first write's (not its last), step writes
count as thread activity, and `list_threads` pages by `pagination.first`.

The I/O is async: an aiobotocore client made from `endpoint_url`/credentials (the default),
or a boto3 client passed as `client` (Chainlit's way), whose calls run in worker threads.
Search and the feedback filter read threads one by one (DynamoDB has no text index): see
docs/persistence.md for their cost. Hosts use the layer through AdaptedDataLayer.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from nbchat.data.base import BaseDataLayer
from nbchat.data.dynamodb_client import (
    DynamoClient,
    Item,
    from_item,
    is_conditional_failure,
    to_attr,
    to_item,
)
from nbchat.data.dynamodb_reads import (
    CHAINLIT_FEEDBACK_ID,
    INDEX,
    KEYS,
    DynamoReads,
    child_key,
    feedback_id_in,
    feedback_id_out,
    ref_key,
    thread_key,
)
from nbchat.data.validation import NotFoundError
from nbchat.ids import utc_now
from nbchat.types import (
    Feedback,
    PersistedUser,
    StepDict,
    User,
)

if TYPE_CHECKING:
    from nbchat.data.sql_alchemy import WriteBatch
    from nbchat.element import Element

_ID_OK = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")


def table_definition(table_name: str) -> dict[str, Any]:
    """CreateTable's arguments for Chainlit's table: PK/SK keys and the UserThread index."""
    return {
        "TableName": table_name,
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"}
            for name in ("PK", "SK", "UserThreadPK", "UserThreadSK")],
        "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"},
                      {"AttributeName": "SK", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [{
            "IndexName": INDEX,
            "KeySchema": [{"AttributeName": "UserThreadPK", "KeyType": "HASH"},
                          {"AttributeName": "UserThreadSK", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["id", "name"]},
        }],
        "BillingMode": "PAY_PER_REQUEST",
    }


class DynamoDBDataLayer(DynamoReads, BaseDataLayer):
    """Chainlit's DynamoDB layer (same constructor, same table), with async I/O.

    `client`: a boto3 DynamoDB client (run in threads) or an aiobotocore one; without it,
    an aiobotocore client is made from `endpoint_url`, `region_name` (default: AWS_REGION,
    else us-east-1) and the credentials (default: botocore's chain). `storage_provider`:
    a Chainlit storage client (upload_file/get_read_url) element bytes also go to.
    `user_thread_limit` is accepted as in Chainlit; pages are `pagination.first` long.
    """

    def __init__(
        self,
        table_name: str,
        client: Any = None,
        storage_provider: Any = None,
        user_thread_limit: int = 10,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
    ) -> None:
        super().__init__(table_name, DynamoClient(
            client, endpoint_url=endpoint_url, region_name=region_name,
            aws_access_key_id=aws_access_key_id, aws_secret_access_key=aws_secret_access_key,
            aws_session_token=aws_session_token), storage_provider)
        self.user_thread_limit = user_thread_limit
        self._last_us = 0
        self._identifiers: dict[str, str] = {}  # user id → identifier, of users seen

    async def create_table(self) -> None:
        """Create the table (table_definition) and wait until it is ACTIVE."""
        await self.dynamo.call("create_table", **table_definition(self.table_name))
        while True:
            described = await self.dynamo.call("describe_table", TableName=self.table_name)
            if described["Table"]["TableStatus"] == "ACTIVE":
                return
            await asyncio.sleep(0.5)  # polling AWS until the table exists

    # -- helpers -------------------------------------------------------------------------

    def _activity(self) -> str:
        """UserThreadSK's time: UTC with microseconds, strictly increasing in a process."""
        us = max(time.time_ns() // 1000, self._last_us + 1)
        self._last_us = us
        seconds, micro = divmod(us, 1_000_000)
        stamp = datetime.fromtimestamp(seconds, UTC).replace(microsecond=micro)
        return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _touch(self, thread_id: str, **fields: Any) -> dict[str, Any]:
        """An Update of the thread item: created if new (id, createdAt kept once set),
        its activity time now, and the given non-None fields."""
        names = {"#ts": "UserThreadSK", "#id": "id", "#created": "createdAt"}
        values: Item = {":ts": {"S": f"TS#{self._activity()}"}, ":id": {"S": thread_id},
                        ":created": {"S": utc_now()}}
        sets = ["#ts = :ts", "#id = if_not_exists(#id, :id)",
                "#created = if_not_exists(#created, :created)"]
        for n, (name, value) in enumerate(fields.items()):
            if value is not None:
                names[f"#f{n}"] = name
                values[f":f{n}"] = to_attr(value)
                sets.append(f"#f{n} = :f{n}")
        return {"TableName": self.table_name, "Key": thread_key(thread_id),
                "UpdateExpression": "SET " + ", ".join(sets),
                "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}

    async def _transact(self, *actions: dict[str, Any]) -> None:
        await self.dynamo.call("transact_write_items", TransactItems=list(actions))

    # -- users ---------------------------------------------------------------------------

    def _user(self, item: Item) -> PersistedUser:
        user = from_item(item)
        self._identifiers[user["id"]] = user["identifier"]
        return PersistedUser(identifier=user["identifier"], display_name=user.get("display_name"),
                             metadata=user.get("metadata") or {}, id=user["id"],
                             createdAt=user.get("createdAt") or "")

    async def get_user(self, identifier: str) -> PersistedUser | None:
        """The user stored at USER#<identifier>, or None."""
        item = await self._get({"PK": {"S": f"USER#{identifier}"}, "SK": {"S": "USER"}})
        return None if item is None else self._user(item)

    async def create_user(self, user: User) -> PersistedUser | None:
        """Store the user; its id is its identifier, as Chainlit's (a derived id when the
        identifier is not one nbchat accepts as an id, e.g. an e-mail address)."""
        ident = user.identifier
        user_id = ident if _ID_OK.fullmatch(ident) else (
            "u-" + hashlib.sha256(ident.encode()).hexdigest()[:32])
        names = {"#id": "id", "#ident": "identifier", "#meta": "metadata", "#at": "createdAt"}
        values: Item = {":id": {"S": user_id}, ":ident": {"S": ident},
                        ":meta": to_attr(user.metadata or {}), ":at": {"S": utc_now()}}
        sets = ["#id = if_not_exists(#id, :id)", "#ident = :ident", "#meta = :meta",
                "#at = if_not_exists(#at, :at)"]
        if user.display_name is not None:
            names["#dn"], values[":dn"] = "display_name", {"S": user.display_name}
            sets.append("#dn = :dn")
        response = await self.dynamo.call(
            "update_item", TableName=self.table_name,
            Key={"PK": {"S": f"USER#{ident}"}, "SK": {"S": "USER"}},
            UpdateExpression="SET " + ", ".join(sets), ExpressionAttributeNames=names,
            ExpressionAttributeValues=values, ReturnValues="ALL_NEW")
        return self._user(response["Attributes"])

    # -- threads -------------------------------------------------------------------------

    async def update_thread(self, thread_id: str, name: str | None = None,
                            user_id: str | None = None, metadata: dict[str, Any] | None = None,
                            tags: list[str] | None = None) -> None:
        """Create or update the thread item; None arguments leave stored values as they are."""
        owner = None if user_id is None else {
            "userId": user_id, "userIdentifier": self._identifiers.get(user_id, user_id),
            "UserThreadPK": f"USER#{user_id}"}
        await self.dynamo.call("update_item", **self._touch(
            thread_id, name=name, tags=tags, metadata=metadata, **(owner or {})))

    async def get_thread_author(self, thread_id: str) -> str:
        """The owner's identifier ('' for a thread without one); ValueError if no thread."""
        item = await self._get(thread_key(thread_id),
                               ProjectionExpression="userId, userIdentifier")
        if item is None:
            raise ValueError(f"Author not found for thread_id {thread_id}")
        found = from_item(item)
        return str(found.get("userIdentifier") or found.get("userId") or "")

    async def delete_thread(self, thread_id: str) -> None:
        """Delete the thread item with its steps, elements and nbchat's references."""
        items = await self._thread_items(thread_id)
        keys = [{"PK": i["PK"], "SK": i["SK"]} for i in items]
        for item in items:
            sk = item["SK"]["S"]
            if sk.startswith("STEP#"):
                keys.append(ref_key("STEPREF", sk.removeprefix("STEP#")))
                fid = item.get("feedback", {}).get("M", {}).get("id", {}).get("S")
                if fid and not CHAINLIT_FEEDBACK_ID.fullmatch(fid):
                    keys.append(ref_key("FEEDBACKREF", fid))
        await self.dynamo.batch_write(self.table_name,
                                      [{"DeleteRequest": {"Key": k}} for k in keys])

    # -- steps ---------------------------------------------------------------------------

    async def create_step(self, step_dict: StepDict) -> None:
        """Store the step (replacing one of the same id) and touch its thread."""
        sid, tid = step_dict["id"], step_dict["threadId"]
        item = {k: to_attr(v) for k, v in step_dict.items() if k != "feedback"}
        item.update(child_key(tid, "STEP", sid))
        item["nbchatOrder"] = {"S": self._activity()}
        new = "attribute_not_exists(PK)"
        try:  # the common case, one round trip: a step id never stored before
            await self._transact(
                {"Put": {"TableName": self.table_name, "Item": item, "ConditionExpression": new}},
                {"Put": {"TableName": self.table_name, "ConditionExpression": new, "Item": {
                    **ref_key("STEPREF", sid), "threadId": {"S": tid}}}},
                {"Update": self._touch(tid)})
        except Exception as exc:
            if not is_conditional_failure(exc):
                raise
            await self._write_step(step_dict)  # a replacement, or a step that moves

    async def update_step(self, step_dict: StepDict) -> None:
        """Store the step's new version (complete, as the adapter hands it)."""
        values = {k: v for k, v in step_dict.items() if k != "feedback"}
        names = {f"#a{n}": k for n, k in enumerate(values)}
        attrs: Item = {f":a{n}": to_attr(v) for n, v in enumerate(values.values())}
        attrs[":order"] = {"S": self._activity()}
        names["#order"] = "nbchatOrder"
        sets = [f"#a{n} = :a{n}" for n in range(len(values))]
        sets.append("#order = if_not_exists(#order, :order)")
        in_place = {"TableName": self.table_name,
                    "Key": child_key(step_dict["threadId"], "STEP", step_dict["id"]),
                    "UpdateExpression": "SET " + ", ".join(sets),
                    "ConditionExpression": "attribute_exists(PK)",
                    "ExpressionAttributeNames": names, "ExpressionAttributeValues": attrs}
        try:  # the common case, one round trip: the step is where its threadId says
            await self._transact({"Update": in_place},
                                 {"Update": self._touch(step_dict["threadId"])})
        except Exception as exc:
            if not is_conditional_failure(exc):
                raise
            await self._write_step(step_dict)  # new here, or moved from another thread

    async def _write_step(self, step_dict: StepDict) -> None:
        sid, tid = step_dict["id"], step_dict["threadId"]
        ref = await self._get(ref_key("STEPREF", sid))
        old_tid = from_item(ref)["threadId"] if ref else tid
        old = await self._get(child_key(old_tid, "STEP", sid))
        item = {k: to_attr(v) for k, v in step_dict.items() if k != "feedback"}
        item.update(child_key(tid, "STEP", sid))
        item["nbchatOrder"] = (old or {}).get("nbchatOrder") or {"S": self._activity()}
        if old is not None and "feedback" in old:  # a step's feedback goes where it goes
            feedback = from_item({"f": old["feedback"]})["f"]
            item["feedback"] = to_attr({**feedback, "threadId": tid}) if feedback else old[
                "feedback"]
        actions: list[dict[str, Any]] = [
            {"Put": {"TableName": self.table_name, "Item": item}},
            {"Put": {"TableName": self.table_name, "Item": {
                **ref_key("STEPREF", sid), "threadId": {"S": tid}}}},
            {"Update": self._touch(tid)}]
        if old_tid != tid:
            actions.append({"Delete": {"TableName": self.table_name,
                                       "Key": child_key(old_tid, "STEP", sid)}})
        await self._transact(*actions)

    async def write_batch(self, batch: WriteBatch) -> None:
        """A write-behind batch with few round trips (AdaptedDataLayer's fast path): its
        steps as BatchWriteItem puts (25 per call, throttled ones sent again with backoff)
        after one BatchGetItem per 50 steps for their references, feedback and order;
        each thread touched once. Not one transaction: when this raises, the adapter
        writes the batch again one operation at a time, and every write here is a put of
        the final value, so writing again is harmless."""
        touched = dict.fromkeys(s["threadId"] for s in batch.steps)
        for tw in batch.threads:
            metadata = tw.metadata
            if metadata is not None:  # merged key by key, as the adapter's single writes
                stored = await self._get(thread_key(tw.id), ProjectionExpression="metadata")
                before = from_item(stored).get("metadata") if stored is not None else None
                metadata = {**(before or {}), **metadata}
            await self.update_thread(tw.id, name=tw.name, user_id=tw.user_id,
                                     metadata=metadata, tags=tw.tags)
            touched.pop(tw.id, None)
        if batch.steps:
            for tid in touched:  # the thread item exists before its steps are listed
                await self.dynamo.call("update_item", **self._touch(tid))
            await self._put_steps(batch.steps)
        for element in batch.elements:
            await self.create_element(element)
        for feedback in batch.feedback:
            await self.upsert_feedback(feedback)

    async def _put_steps(self, steps: list[StepDict]) -> None:
        keys = [ref_key("STEPREF", s["id"]) for s in steps]
        keys += [child_key(s["threadId"], "STEP", s["id"]) for s in steps]
        found = {(i["PK"]["S"], i["SK"]["S"]): i
                 for i in await self.dynamo.batch_get(self.table_name, keys)}
        puts: list[Item] = []
        moved: list[StepDict] = []
        for step in steps:
            sid, tid = step["id"], step["threadId"]
            ref = found.get((f"STEPREF#{sid}", "STEPREF"))
            if ref is not None and from_item(ref)["threadId"] != tid:
                moved.append(step)  # the rare move to another thread: one transaction
                continue
            old = found.get((f"THREAD#{tid}", f"STEP#{sid}")) or {}
            item = {k: to_attr(v) for k, v in step.items() if k != "feedback"}
            item.update(child_key(tid, "STEP", sid))
            item["nbchatOrder"] = old.get("nbchatOrder") or {"S": self._activity()}
            if "feedback" in old:  # written by upsert_feedback; a put would drop it
                item["feedback"] = old["feedback"]
            puts.append(item)
            if ref is None:
                puts.append({**ref_key("STEPREF", sid), "threadId": {"S": tid}})
        await self.dynamo.batch_write(self.table_name,
                                      [{"PutRequest": {"Item": i}} for i in puts])
        for step in moved:
            await self._write_step(step)

    async def delete_step(self, step_id: str) -> None:
        """Delete the step (with its feedback, an attribute of it)."""
        ref = await self._get(ref_key("STEPREF", step_id))
        threads = [from_item(ref)["threadId"]] if ref else await self._locate("STEP", step_id)
        keys = [child_key(t, "STEP", step_id) for t in threads]
        keys.append(ref_key("STEPREF", step_id))
        await self.dynamo.batch_write(self.table_name,
                                      [{"DeleteRequest": {"Key": k}} for k in keys])

    async def get_favorite_steps(self, user_id: str) -> list[StepDict]:
        """The user's steps with metadata.favorite, newest first (one query per thread)."""
        out: list[StepDict] = []
        for key in await self._user_thread_keys(f"USER#{user_id}", None):
            thread = await self.get_thread(key["PK"]["S"].removeprefix("THREAD#"))
            steps = cast(list[dict[str, Any]], thread["steps"] if thread else [])
            for s in steps:
                metadata: dict[str, Any] = s.get("metadata") or {}
                if metadata.get("favorite") is True:
                    out.append(cast(StepDict, {k: v for k, v in s.items() if k != "feedback"}))
        return sorted(out, key=lambda s: s.get("createdAt") or "", reverse=True)

    # -- feedback ------------------------------------------------------------------------

    async def upsert_feedback(self, feedback: Feedback) -> str:
        """Store the feedback as the `feedback` attribute of step `forId`; its id (the one
        given, else Chainlit's THREAD#<thread>::STEP#<step>, handed out with ':' for '#')."""
        ref = await self._get(ref_key("STEPREF", feedback.forId))
        thread_id = from_item(ref)["threadId"] if ref else feedback.threadId
        if not thread_id:
            raise NotFoundError(f"no step {feedback.forId!r} to attach feedback to")
        fid = feedback_id_in(feedback.id or f"THREAD#{thread_id}::STEP#{feedback.forId}")
        value = {"id": fid, "forId": feedback.forId, "threadId": thread_id,
                 "value": feedback.value, "comment": feedback.comment}
        actions: list[dict[str, Any]] = [{"Update": {
            "TableName": self.table_name, "Key": child_key(thread_id, "STEP", feedback.forId),
            "UpdateExpression": "SET #fb = :fb", "ConditionExpression": "attribute_exists(PK)",
            "ExpressionAttributeNames": {"#fb": "feedback"},
            "ExpressionAttributeValues": {":fb": to_attr(value)}}}]
        if not CHAINLIT_FEEDBACK_ID.fullmatch(fid):
            actions.append({"Put": {"TableName": self.table_name, "Item": {
                **ref_key("FEEDBACKREF", fid), "forId": {"S": feedback.forId}}}})
        try:
            await self._transact(*actions)
        except Exception as exc:
            if is_conditional_failure(exc):
                raise NotFoundError(f"no step {feedback.forId!r} to attach feedback to") from exc
            raise
        return feedback_id_out(fid)

    async def delete_feedback(self, feedback_id: str) -> bool:
        """Remove the feedback from its step; False when no step has this feedback."""
        feedback_id = feedback_id_in(feedback_id)
        chainlit_id = CHAINLIT_FEEDBACK_ID.fullmatch(feedback_id)
        if chainlit_id:
            thread_id, step_id = chainlit_id.group(1), chainlit_id.group(2)
        else:
            fref = await self._get(ref_key("FEEDBACKREF", feedback_id))
            sref = None if fref is None else await self._get(
                ref_key("STEPREF", from_item(fref)["forId"]))
            if fref is None or sref is None:
                return False
            thread_id, step_id = from_item(sref)["threadId"], from_item(fref)["forId"]
            await self.dynamo.call("delete_item", TableName=self.table_name,
                                   Key=ref_key("FEEDBACKREF", feedback_id))
        try:
            await self.dynamo.call(
                "update_item", TableName=self.table_name,
                Key=child_key(thread_id, "STEP", step_id), UpdateExpression="REMOVE #fb",
                ConditionExpression="#fb.#id = :id",
                ExpressionAttributeNames={"#fb": "feedback", "#id": "id"},
                ExpressionAttributeValues={":id": {"S": feedback_id}})
        except Exception as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    # -- elements ------------------------------------------------------------------------

    async def create_element(self, element: Element) -> None:
        """Store the element item (and its bytes in storage_provider, when there is one)."""
        stored: dict[str, Any] = dict(element.to_dict())
        content = element.content
        if content is None and element.path is not None:
            content = await asyncio.to_thread(element.path.read_bytes)
        if self.storage_provider is not None and content is not None and element.thread_id:
            # Chainlit's key, <user id>/<thread>/<element> (its user from the request context,
            # here the thread's owner).
            owner = await self._get(thread_key(element.thread_id), ProjectionExpression="userId")
            user_id = from_item(owner).get("userId") if owner else None
            key = f"{user_id or 'unknown'}/{element.thread_id}/{element.id}"
            uploaded = await self.storage_provider.upload_file(
                object_key=key, data=content, mime=element.mime or "application/octet-stream",
                overwrite=True)
            stored.update(url=uploaded.get("url"), objectKey=uploaded.get("object_key"))
        item = to_item({k: v for k, v in stored.items() if k not in KEYS})
        item.update(child_key(str(element.thread_id), "ELEMENT", element.id))
        await self._transact({"Put": {"TableName": self.table_name, "Item": item}},
                             {"Update": self._touch(str(element.thread_id))})

    async def delete_element(self, element_id: str, thread_id: str | None = None) -> None:
        """Delete the element of that thread (found by a scan when no thread is given)."""
        threads = [thread_id] if thread_id else await self._locate("ELEMENT", element_id)
        await self.dynamo.batch_write(self.table_name, [
            {"DeleteRequest": {"Key": child_key(t, "ELEMENT", element_id)}} for t in threads])

    async def build_debug_url(self) -> str:
        """DynamoDB has no debugging UI: ''."""
        return ""

    async def close(self) -> None:
        """Close the client (and the storage provider)."""
        if self.storage_provider is not None and hasattr(self.storage_provider, "close"):
            await self.storage_provider.close()
        await self.dynamo.close()
