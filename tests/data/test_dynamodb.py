"""DynamoDBDataLayer against moto's server on loopback (tests/moto_server.py), beyond the
contract suite: Chainlit's item layout both ways (a table Chainlit's layer filled reads
back, what nbchat writes is what Chainlit reads), plain JSON out, first/cursor paging, and
a boto3 client's calls kept off the event loop."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest

import nbchat as cl
from moto_server import CREDENTIALS, MotoServer, boto3_client, fresh_table
from nbchat.app import App, registering_on
from nbchat.config import Config
from nbchat.data import AdaptedDataLayer, InvalidDataError, LocalStorage
from nbchat.data.dynamodb import DynamoDBDataLayer, table_definition
from nbchat.ids import new_id, utc_now
from nbchat.testing import ChatTestClient
from nbchat.types import Pagination, StepDict, ThreadFilter, User


@pytest.fixture
def table(moto_server: MotoServer) -> str:
    return fresh_table(moto_server)


@pytest.fixture
async def dynamo(moto_server: MotoServer, table: str) -> AsyncIterator[DynamoDBDataLayer]:
    layer = DynamoDBDataLayer(table, endpoint_url=moto_server.url, **CREDENTIALS)
    yield layer
    await layer.close()


def S(value: str) -> dict[str, str]:
    return {"S": value}


def chainlit_step(thread_id: str, step_id: str, kind: str, output: str, at: str) -> dict[str, Any]:
    """A step item as Chainlit's create_step writes it (boto3's TypeSerializer)."""
    return {
        "PK": S(f"THREAD#{thread_id}"), "SK": S(f"STEP#{step_id}"), "id": S(step_id),
        "threadId": S(thread_id), "parentId": {"NULL": True}, "name": S(kind),
        "type": S(kind), "input": S(""), "output": S(output), "createdAt": S(at),
        "start": S(at), "end": S(at), "isError": {"BOOL": False}, "showInput": {"BOOL": False},
        "streaming": {"BOOL": False}, "waitForAnswer": {"BOOL": False},
        "metadata": {"M": {"temperature": {"N": "0.7"}, "tokens": {"N": "12"}}},
        "tags": {"NULL": True}, "language": {"NULL": True}, "generation": {"NULL": True},
    }


def fill_like_chainlit(server: MotoServer, table: str, thread_id: str) -> dict[str, str]:
    """Items exactly as Chainlit's DynamoDBDataLayer leaves them after a short chat of user
    ada (whose id is her identifier), with feedback 1 on the reply and one element."""
    user_step, reply = new_id(), new_id()
    fid = f"THREAD#{thread_id}::STEP#{reply}"
    client = boto3_client(server)
    items = [
        {"PK": S("USER#ada"), "SK": S("USER"), "id": S("ada"), "identifier": S("ada"),
         "metadata": {"M": {"role": S("admin")}}, "createdAt": S("2025-01-02T03:04:05.000000Z")},
        {"PK": S(f"THREAD#{thread_id}"), "SK": S("THREAD"), "id": S(thread_id),
         "UserThreadPK": S("USER#ada"), "UserThreadSK": S("TS#2025-01-02T03:05:00.000000Z"),
         "createdAt": S("2025-01-02T03:05:00.000000Z"), "name": S("Invoice questions"),
         "userId": S("ada"), "userIdentifier": S("ada"),
         "metadata": {"M": {"chat_profile": {"NULL": True}}}},
        chainlit_step(thread_id, user_step, "user_message", "where is my invoice?",
                      "2025-01-02T03:05:01.000Z"),
        {**chainlit_step(thread_id, reply, "assistant_message", "in the billing folder",
                         "2025-01-02T03:05:02.000Z"),
         "feedback": {"M": {"forId": S(reply), "value": {"N": "1"}, "threadId": S(thread_id),
                            "id": S(fid), "comment": {"NULL": True}}}},
        {"PK": S(f"THREAD#{thread_id}"), "SK": S("ELEMENT#el1"), "id": S("el1"),
         "threadId": S(thread_id), "type": S("file"), "name": S("invoice.pdf"),
         "display": S("inline"), "forId": S(reply), "mime": S("application/pdf"),
         "url": S("https://bucket.example/ada/invoice.pdf"), "objectKey": S("ada/t/el1"),
         "size": {"NULL": True}, "language": {"NULL": True}},
    ]
    for item in items:
        client.put_item(TableName=table, Item=item)
    client.close()
    return {"user_step": user_step, "reply": reply, "feedback": fid}


async def test_a_table_chainlit_filled_reads_back(
        moto_server: MotoServer, table: str, dynamo: DynamoDBDataLayer) -> None:
    tid = new_id()
    ids = fill_like_chainlit(moto_server, table, tid)
    layer = AdaptedDataLayer(dynamo, LocalStorage(Path("/nonexistent")), close_layer=False)
    ada = await layer.get_user("ada")
    assert ada is not None
    assert (ada.id, ada.metadata) == ("ada", {"role": "admin"})
    page = await layer.list_threads(Pagination(10), ThreadFilter(userId="ada"))
    assert [(t["id"], t["name"], t["userIdentifier"]) for t in page.data] == [
        (tid, "Invoice questions", "ada")]
    assert await layer.get_thread_author(tid) == "ada"
    thread = await layer.get_thread(tid)
    assert thread is not None
    json.dumps(thread)  # plain JSON: no Decimal anywhere
    steps = thread["steps"]
    assert [s["id"] for s in steps] == [ids["user_step"], ids["reply"]]
    assert steps[0]["metadata"] == {"temperature": 0.7, "tokens": 12}
    assert type(steps[0]["metadata"]["tokens"]) is int
    feedback = steps[1]["feedback"]
    assert feedback is not None
    assert feedback["value"] == 1
    assert feedback["id"] == ids["feedback"].replace("#", ":")  # an id nbchat accepts
    assert type(feedback["value"]) is int
    assert "PK" not in steps[0]
    assert [e["name"] for e in thread["elements"] or []] == ["invoice.pdf"]
    found = await layer.list_threads(Pagination(10), ThreadFilter(userId="ada", search="billing"))
    assert [t["id"] for t in found.data] == [tid]
    # Rated again through nbchat: the same feedback, still in Chainlit's id form.
    assert await layer.upsert_feedback({"forId": ids["reply"], "value": 0}) == feedback["id"]
    raw = boto3_client(moto_server)
    item = raw.get_item(TableName=table, Key={"PK": S(f"THREAD#{tid}"),
                                              "SK": S(f"STEP#{ids['reply']}")})["Item"]
    raw.close()
    assert item["feedback"]["M"]["id"] == S(ids["feedback"])
    assert item["feedback"]["M"]["value"] == {"N": "0"}
    assert await layer.delete_feedback(feedback["id"]) is True
    assert await layer.delete_feedback(feedback["id"]) is False
    # Chainlit's steps change and go through nbchat (found without nbchat's references).
    await layer.update_step(cast(StepDict, {"id": ids["reply"], "output": "moved to archive"}))
    await layer.delete_step(ids["user_step"])
    thread = await layer.get_thread(tid)
    assert thread is not None
    assert [(s["id"], s["output"]) for s in thread["steps"]] == [
        (ids["reply"], "moved to archive")]
    assert thread["steps"][0]["metadata"] == {"temperature": 0.7, "tokens": 12}
    await layer.close()


async def test_a_chainlit_thread_resumes_in_a_chat(
        moto_server: MotoServer, table: str, dynamo: DynamoDBDataLayer, tmp_path: Path) -> None:
    tid = new_id()
    fill_like_chainlit(moto_server, table, tid)
    seen: dict[str, Any] = {}
    app = App("resume")
    with registering_on(app):

        @cl.on_message
        async def reply(message: cl.Message) -> None:
            await cl.Message(content=f"echo {message.content}").send()

        @cl.on_chat_resume
        async def resume(thread: dict[str, Any]) -> None:
            seen["outputs"] = [s["output"] for s in thread["steps"]]

    async with ChatTestClient(app, user=User("ada"), data_layer=dynamo,
                              config=Config(app_dir=tmp_path), resume_thread=tid) as chat:
        assert chat.errors == []
        assert seen["outputs"] == ["where is my invoice?", "in the billing folder"]
        assert [m["output"] for m in chat.messages][:2] == seen["outputs"]
        await chat.send("and the receipt?")
    thread = await dynamo.get_thread(tid)
    assert thread is not None
    assert [s["output"] for s in thread["steps"]][-2:] == ["and the receipt?",
                                                           "echo and the receipt?"]


async def test_what_nbchat_writes_has_chainlits_layout(
        moto_server: MotoServer, table: str, dynamo: DynamoDBDataLayer, tmp_path: Path) -> None:
    layer = AdaptedDataLayer(dynamo, LocalStorage(tmp_path), close_layer=False)
    ann = await layer.create_user(User("ann", "Ann"))
    tid, sid = new_id(), new_id()
    await layer.update_thread(tid, name="Budget", user_id=ann.id, metadata={"k": 1.5})
    await layer.create_step(StepDict(id=sid, threadId=tid, name="ann", type="user_message",
                                     output="hi", createdAt=utc_now()))  # type: ignore[typeddict-item]
    fid = await layer.upsert_feedback({"forId": sid, "value": 1, "comment": "ok"})
    el = await layer.create_element({"id": new_id(), "threadId": tid, "type": "file",
                                     "name": "a.txt", "display": "inline",
                                     "mime": "text/plain"}, b"abc")  # type: ignore[typeddict-item]
    await layer.flush()
    client = boto3_client(moto_server)
    try:
        user = client.get_item(TableName=table, Key={"PK": S("USER#ann"), "SK": S("USER")})
        assert user["Item"]["id"] == S("ann")  # Chainlit: the id is the identifier
        assert user["Item"]["identifier"] == S("ann")
        thread = client.get_item(TableName=table,
                                 Key={"PK": S(f"THREAD#{tid}"), "SK": S("THREAD")})["Item"]
        assert thread["UserThreadPK"] == S("USER#ann")
        assert thread["UserThreadSK"]["S"].startswith("TS#")
        assert thread["userId"] == thread["userIdentifier"] == S("ann")
        assert thread["name"] == S("Budget")
        assert thread["metadata"] == {"M": {"k": {"N": "1.5"}}}  # a float is a number
        step = client.get_item(TableName=table,
                               Key={"PK": S(f"THREAD#{tid}"), "SK": S(f"STEP#{sid}")})["Item"]
        assert step["output"] == S("hi")
        assert step["feedback"]["M"]["value"] == {"N": "1"}
        assert step["feedback"]["M"]["id"] == S(fid)
        element = client.get_item(TableName=table, Key={
            "PK": S(f"THREAD#{tid}"), "SK": S(f"ELEMENT#{el['id']}")})["Item"]
        assert el["objectKey"] is not None
        assert element["objectKey"] == S(el["objectKey"])
        # Chainlit's list_threads: the UserThread index, newest first.
        listed = client.query(TableName=table, IndexName="UserThread",
                              KeyConditionExpression="UserThreadPK = :pk",
                              ExpressionAttributeValues={":pk": S("USER#ann")},
                              ScanIndexForward=False)
        assert [i["PK"] for i in listed["Items"]] == [S(f"THREAD#{tid}")]
        assert listed["Items"][0]["name"] == S("Budget")
    finally:
        client.close()


async def _pages(layer: DynamoDBDataLayer, filters: ThreadFilter) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = await layer.list_threads(Pagination(2, cursor), filters)
        json.dumps([dict(t) for t in page.data])
        pages.append([t["id"] for t in page.data])
        if not page.pageInfo.hasNextPage:
            return pages
        cursor = page.pageInfo.endCursor


async def test_three_pages_of_two_cover_every_thread_once(dynamo: DynamoDBDataLayer) -> None:
    ann = await dynamo.create_user(User("ann"))
    assert ann is not None
    ids = []
    for i in range(6):
        tid = new_id()
        await dynamo.update_thread(tid, name=f"t{i}", user_id=ann.id)
        ids.append(tid)
    await dynamo.update_thread(new_id(), name="nobody's")
    newest_first = ids[::-1]
    by_user = await _pages(dynamo, ThreadFilter(userId=ann.id))  # the UserThread index
    assert by_user == [newest_first[0:2], newest_first[2:4], newest_first[4:6]]
    everyone = await _pages(dynamo, ThreadFilter())  # a scan: threads without a user too
    assert len(everyone) == 4
    assert [t for page in everyone for t in page][1:] == newest_first
    searched = await _pages(dynamo, ThreadFilter(userId=ann.id, search="t"))
    assert searched == by_user


async def test_bad_cursors_are_invalid_data(dynamo: DynamoDBDataLayer) -> None:
    ann, bob = await dynamo.create_user(User("ann")), await dynamo.create_user(User("bob"))
    assert ann is not None
    assert bob is not None
    for _ in range(3):
        await dynamo.update_thread(new_id(), user_id=ann.id)
    page = await dynamo.list_threads(Pagination(1), ThreadFilter(userId=ann.id))
    assert page.pageInfo.hasNextPage
    for cursor in ("garbage!", "e30", json.dumps({"PK": S("THREAD#x")})):
        with pytest.raises(InvalidDataError, match="cursor"):
            await dynamo.list_threads(Pagination(1, cursor), ThreadFilter(userId=ann.id))
    with pytest.raises(InvalidDataError, match="another listing"):
        await dynamo.list_threads(Pagination(1, page.pageInfo.endCursor),
                                  ThreadFilter(userId=bob.id))


async def test_a_boto3_clients_calls_run_off_the_event_loop(
        moto_server: MotoServer, table: str) -> None:
    client = boto3_client(moto_server)
    callers: list[int] = []
    client.meta.events.register("before-call.dynamodb",
                                lambda **_: callers.append(threading.get_ident()))
    layer = DynamoDBDataLayer(table, client=client)
    loop_thread = threading.get_ident()
    try:
        tid = new_id()
        await layer.update_thread(tid, name="threaded")
        thread = await layer.get_thread(tid)
        assert thread is not None
        assert thread["name"] == "threaded"
        assert callers
        assert loop_thread not in callers
    finally:
        await layer.close()


async def test_an_email_identifier_gets_an_id_nbchat_accepts(dynamo: DynamoDBDataLayer) -> None:
    user = await dynamo.create_user(User("ada@example.com"))
    assert user is not None
    assert user.id.startswith("u-")
    tid = new_id()
    await dynamo.update_thread(tid, user_id=user.id)
    assert await dynamo.get_thread_author(tid) == "ada@example.com"
    again = await dynamo.get_user("ada@example.com")
    assert again is not None
    assert again.id == user.id


DOC = Path(__file__).resolve().parents[2] / "docs" / "persistence.md"


def test_the_documented_table_is_table_definition() -> None:
    section = DOC.read_text().split("## DynamoDB (Chainlit's table)", 1)[1].split("\n## ", 1)[0]
    documented = json.loads(section.split("```json\n", 1)[1].split("```", 1)[0])
    assert documented == table_definition("nbchat")


async def test_the_documented_app_runs_as_written(
        moto_server: MotoServer, table: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    section = DOC.read_text().split("## DynamoDB (Chainlit's table)", 1)[1]
    (tmp_path / "app.py").write_text(section.split("```python\n", 1)[1].split("```", 1)[0])
    monkeypatch.chdir(tmp_path)
    # The standard AWS settings the example relies on, pointing at moto.
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_server.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("DYNAMODB_TABLE", table)
    async with ChatTestClient(tmp_path / "app.py") as client:
        await client.send("hi")
        assert client.messages[-1]["output"] == "echo: hi"
        recorder = client.session.recorder
        assert recorder is not None
        await recorder._queue.join()  # the reply's write reached the layer's queue
        adapted = recorder.data
        assert isinstance(adapted, AdaptedDataLayer)
        await adapted.flush()
        layer = adapted.layer
        assert isinstance(layer, DynamoDBDataLayer)
        stored = await layer.get_thread(client.session.thread_id)
        assert stored is not None
        assert [s["output"] for s in stored["steps"]] == ["hi", "echo: hi"]
    await layer.close()
    raw = boto3_client(moto_server)
    count = raw.scan(TableName=table, Select="COUNT", FilterExpression="SK = :sk",
                     ExpressionAttributeValues={":sk": S("THREAD")})["Count"]
    raw.close()
    assert count == 1


async def test_delete_thread_removes_every_item_in_batches(
        moto_server: MotoServer, table: str, dynamo: DynamoDBDataLayer) -> None:
    layer = AdaptedDataLayer(dynamo, LocalStorage(Path("/nonexistent")), close_layer=False)
    tid, other = new_id(), new_id()
    steps = [StepDict(id=new_id(), threadId=tid, name="u", type="user_message",  # type: ignore[typeddict-item]
                      output=f"m{i}", createdAt=utc_now()) for i in range(30)]
    for s in steps:
        await layer.create_step(s)
    await layer.create_step(StepDict(id=new_id(), threadId=other, name="u",  # type: ignore[typeddict-item]
                                     type="user_message", output="kept", createdAt=utc_now()))
    for s in steps[:3]:
        await layer.upsert_feedback({"forId": s["id"], "value": 1})
    await layer.flush()
    raw = boto3_client(moto_server)
    before = raw.scan(TableName=table)["Items"]
    # 31 steps, 31 step references, 3 feedback references, 2 threads.
    assert len(before) == 67
    await layer.delete_thread(tid)  # 30 steps + 30 refs + 3 refs + 1 thread: 3 batches
    left = raw.scan(TableName=table)["Items"]
    raw.close()
    assert sorted(i["PK"]["S"].split("#")[0] for i in left) == ["STEPREF", "THREAD", "THREAD"]
    assert {i["PK"]["S"] for i in left if i["PK"]["S"].startswith("THREAD#")} == {
        f"THREAD#{other}"}
    await layer.close()


class S3Provider:
    """Chainlit's storage client methods (upload_file, get_read_url, close) on moto's S3,
    a stand-in for nbchat's own S3 client (data/storage_clients, built on another branch)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.context: Any = None
        self.client: Any = None

    async def open(self) -> None:
        from aiobotocore.session import get_session

        self.context = get_session().create_client("s3", endpoint_url=self.url, **CREDENTIALS)
        self.client = await self.context.__aenter__()
        await self.client.create_bucket(Bucket="elements")

    async def upload_file(self, object_key: str, data: bytes | str, mime: str,
                          overwrite: bool = True) -> dict[str, Any]:
        await self.client.put_object(Bucket="elements", Key=object_key, Body=data,
                                     ContentType=mime)
        return {"object_key": object_key, "url": await self.get_read_url(object_key)}

    async def get_read_url(self, object_key: str) -> str:
        url: str = await self.client.generate_presigned_url(
            "get_object", Params={"Bucket": "elements", "Key": object_key})
        return url

    async def close(self) -> None:
        await self.context.__aexit__(None, None, None)


async def test_element_bytes_go_to_the_storage_provider_as_in_chainlit(
        moto_server: MotoServer, table: str, tmp_path: Path) -> None:
    provider = S3Provider(moto_server.url)
    await provider.open()
    dynamo = DynamoDBDataLayer(table, endpoint_url=moto_server.url, storage_provider=provider,
                               **CREDENTIALS)
    layer = AdaptedDataLayer(dynamo, LocalStorage(tmp_path))
    tid = new_id()
    ann = await layer.create_user(User("ann"))
    await layer.update_thread(tid, user_id=ann.id)
    el = await layer.create_element({"id": new_id(), "threadId": tid, "type": "file",  # type: ignore[typeddict-item]
                                     "name": "a.txt", "display": "inline",
                                     "mime": "text/plain"}, b"abc")
    await layer.flush()
    key = f"ann/{tid}/{el['id']}"  # Chainlit's key: <user id>/<thread>/<element>
    stored = await provider.client.get_object(Bucket="elements", Key=key)
    async with stored["Body"] as body:
        assert await body.read() == b"abc"
    got = await dynamo.get_element(tid, el["id"])
    assert got is not None
    assert got["objectKey"] == key
    assert got["url"] is not None
    assert got["url"].startswith(f"{moto_server.url}/elements/{key}")
    await layer.close()  # closes the layer, and the layer its provider


async def test_an_aiobotocore_client_can_be_passed_as_client(
        moto_server: MotoServer, table: str) -> None:
    from aiobotocore.session import get_session

    async with get_session().create_client("dynamodb", endpoint_url=moto_server.url,
                                           **CREDENTIALS) as client:
        layer = DynamoDBDataLayer(table, client=client)
        assert not layer.dynamo.threaded  # awaited on the loop, not sent to a thread
        tid = new_id()
        await layer.update_thread(tid, name="async client")
        thread = await layer.get_thread(tid)
        assert thread is not None
        assert thread["name"] == "async client"
