"""NbchatStore: every ChatKit Store method on SQLite and PostgreSQL (the real server), and
the same history seen from both sides (nbchat's listing, search, DataFrames, resume)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from chatkit.types import (
    Annotation,
    AssistantMessageContent,
    AssistantMessageItem,
    ClientToolCallItem,
    FileAttachment,
    HiddenContextItem,
    ImageAttachment,
    InferenceOptions,
    LockedStatus,
    SDKHiddenContextItem,
    ThreadItem,
    ThreadMetadata,
    URLSource,
    UserMessageItem,
    UserMessageTagContent,
    UserMessageTextContent,
    WidgetItem,
)
from chatkit.widgets import Card, Text

import pgdb
from memory_layer import MemoryDataLayer, MemoryStore
from nbchat import history
from nbchat.app import App
from nbchat.data import NotFoundError as DataNotFoundError
from nbchat.integrations.chatkit import NbchatStore, NotFoundError
from nbchat.message import Message
from nbchat.testing import ChatTestClient
from nbchat.types import Pagination, ThreadFilter, User

ALICE = {"user_id": "alice"}
BOB = {"user_id": "bob"}
T0 = datetime(2026, 3, 1, 12, 0, 0)


# As the data layer contract suite (tests/data/test_contract.py): nbchat's SQLite and
# PostgreSQL layers, and a Chainlit-style custom layer (wrapped as every host wraps it).
@pytest.fixture(params=["sqlite", "postgres", "chainlit"])
def data_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'chat.db'}"  # sqlite:////abs/path
    if request.param == "chainlit":
        return "chainlit"
    url: str = request.getfixturevalue("pg_url")
    asyncio.run(pgdb.truncate(url))
    return url


@pytest.fixture
async def store(data_url: str, tmp_path: Path) -> AsyncIterator[NbchatStore]:
    s = NbchatStore(MemoryDataLayer(MemoryStore()) if data_url == "chainlit" else data_url,
                    tmp_path)
    yield s
    await s.close()


def thread_meta(store: NbchatStore, title: str | None = "Trip", at: datetime = T0,
                **extra: object) -> ThreadMetadata:
    return ThreadMetadata(id=store.generate_thread_id(ALICE), title=title, created_at=at,
                          **extra)  # type: ignore[arg-type]


def user_item(thread_id: str, text: str, at: datetime, **extra: object) -> UserMessageItem:
    fields: dict[str, object] = {"content": [UserMessageTextContent(text=text)], **extra}
    return UserMessageItem(id=str(uuid.uuid4()), thread_id=thread_id, created_at=at,
                           inference_options=InferenceOptions(), **fields)  # type: ignore[arg-type]


def assistant_item(thread_id: str, text: str, at: datetime) -> AssistantMessageItem:
    return AssistantMessageItem(id=str(uuid.uuid4()), thread_id=thread_id, created_at=at,
                                content=[AssistantMessageContent(text=text)])


async def test_every_abstract_method_is_implemented(store: NbchatStore) -> None:
    assert not getattr(NbchatStore, "__abstractmethods__", None)
    thread_id = store.generate_thread_id(ALICE)
    uuid.UUID(thread_id)  # ids are UUIDs, not ChatKit's "thr_1a2b3c4d"
    uuid.UUID(store.generate_item_id("message", thread_meta(store), ALICE))


async def test_thread_round_trip_and_update(store: NbchatStore) -> None:
    thread = thread_meta(store, status=LockedStatus(reason="done"),
                         allowed_image_domains=["example.com"], metadata={"k": [1, 2]})
    await store.save_thread(thread, ALICE)
    assert await store.load_thread(thread.id, ALICE) == thread
    thread.title = "Renamed"
    thread.metadata = {}  # a removed key is gone, not merged back
    await store.save_thread(thread, ALICE)
    loaded = await store.load_thread(thread.id, ALICE)
    assert (loaded.title, loaded.metadata) == ("Renamed", {})
    stored = await store.layer.get_thread(thread.id)
    assert stored is not None
    assert stored["name"] == "Renamed"
    assert stored["userIdentifier"] == "alice"


async def test_another_users_thread_is_not_found(store: NbchatStore) -> None:
    thread = thread_meta(store)
    await store.save_thread(thread, ALICE)
    item = user_item(thread.id, "mine", T0)
    await store.add_thread_item(thread.id, item, ALICE)
    calls = [
        store.load_thread(thread.id, BOB),
        store.save_thread(thread.model_copy(update={"title": "taken"}), BOB),
        store.load_thread_items(thread.id, None, 10, "asc", BOB),
        store.add_thread_item(thread.id, user_item(thread.id, "x", T0), BOB),
        store.save_item(thread.id, item, BOB),
        store.load_item(thread.id, item.id, BOB),
        store.delete_thread_item(thread.id, item.id, BOB),
        store.delete_thread(thread.id, BOB),
        store.load_thread("no-such-thread", ALICE),
    ]
    for call in calls:
        with pytest.raises(NotFoundError):
            await call
    # Nothing of alice's changed, and bob's listing is empty.
    assert (await store.load_thread(thread.id, ALICE)).title == "Trip"
    assert [i.id for i in (await store.load_thread_items(thread.id, None, 9, "asc",
                                                         ALICE)).data] == [item.id]
    assert (await store.load_threads(10, None, "desc", BOB)).data == []


async def test_context_without_user_id_is_a_clear_error(store: NbchatStore) -> None:
    with pytest.raises(ValueError, match="user_id"):
        await store.load_threads(10, None, "desc", {"user": "alice"})


async def test_threads_pages_in_both_orders(store: NbchatStore) -> None:
    made = []
    for n in range(5):
        t = thread_meta(store, title=f"t{n}", at=T0 + timedelta(minutes=n))
        await store.save_thread(t, ALICE)
        made.append(t.id)
    await store.save_thread(thread_meta(store, title="bob's"), BOB)
    first = await store.load_threads(2, None, "desc", ALICE)
    assert [t.id for t in first.data] == made[:2:-1][:2] == [made[4], made[3]]
    assert first.has_more
    assert first.after == made[3]
    rest = await store.load_threads(10, first.after, "desc", ALICE)
    assert [t.id for t in rest.data] == [made[2], made[1], made[0]]
    assert not rest.has_more
    assert rest.after is None
    asc = await store.load_threads(3, None, "asc", ALICE)
    assert [t.id for t in asc.data] == made[:3]
    with pytest.raises(NotFoundError):
        await store.load_threads(3, "not-a-thread", "asc", ALICE)


async def test_items_order_cursors_and_same_time_ties(store: NbchatStore) -> None:
    thread = thread_meta(store)
    await store.save_thread(thread, ALICE)
    # Added out of time order, and three in the same microsecond: time, then insertion.
    late = assistant_item(thread.id, "late", T0 + timedelta(seconds=9))
    same = [user_item(thread.id, f"same {n}", T0) for n in range(3)]
    items: list[UserMessageItem | AssistantMessageItem] = [late, *same]
    for item in items:
        await store.add_thread_item(thread.id, item, ALICE)
    expected = [*(i.id for i in same), late.id]
    asc = await store.load_thread_items(thread.id, None, 2, "asc", ALICE)
    assert [i.id for i in asc.data] == expected[:2]
    assert asc.has_more
    nxt = await store.load_thread_items(thread.id, asc.after, 2, "asc", ALICE)
    assert [i.id for i in nxt.data] == expected[2:]
    assert not nxt.has_more
    desc = await store.load_thread_items(thread.id, None, 10, "desc", ALICE)
    assert [i.id for i in desc.data] == expected[::-1]
    # save_item keeps the item's place (an update, not a new item at the end).
    await store.save_item(thread.id, same[0].model_copy(update={"content": [
        UserMessageTextContent(text="edited")]}), ALICE)
    again = await store.load_thread_items(thread.id, None, 10, "asc", ALICE)
    assert [i.id for i in again.data] == expected
    first = again.data[0]
    assert isinstance(first, UserMessageItem)
    assert first.content[0].text == "edited"
    with pytest.raises(ValueError, match="order"):
        await store.load_thread_items(thread.id, None, 10, "sideways", ALICE)


async def test_item_types_round_trip(store: NbchatStore) -> None:
    thread = thread_meta(store)
    await store.save_thread(thread, ALICE)
    at = T0 + timedelta(microseconds=123)
    items: list[ThreadItem] = [
        user_item(thread.id, "hi", at, quoted_text="quoted", content=[
            UserMessageTextContent(text="hi"),
            UserMessageTagContent(id="tag", text="@doc", data={"x": 1})]),
        AssistantMessageItem(id=str(uuid.uuid4()), thread_id=thread.id, created_at=at,
                             content=[AssistantMessageContent(text="see", annotations=[
                                 Annotation(source=URLSource(title="t", url="https://e.x"))])]),
        ClientToolCallItem(id=str(uuid.uuid4()), thread_id=thread.id, created_at=at,
                           call_id="c1", name="lookup", arguments={"q": "x"}),
        WidgetItem(id=str(uuid.uuid4()), thread_id=thread.id, created_at=at,
                   widget=Card(children=[Text(value="hello")]), copy_text="hello"),
        HiddenContextItem(id=str(uuid.uuid4()), thread_id=thread.id, created_at=at,
                          content={"any": ["json"]}),
        SDKHiddenContextItem(id=str(uuid.uuid4()), thread_id=thread.id, created_at=at,
                             content="cancelled"),
    ]
    for item in items:
        await store.add_thread_item(thread.id, item, ALICE)
    for item in items:
        assert await store.load_item(thread.id, item.id, ALICE) == item
    page = await store.load_thread_items(thread.id, None, 20, "asc", ALICE)
    assert page.data == items
    # As nbchat sees them: message steps with the message text, others typed steps.
    stored = await store.layer.get_thread(thread.id)
    assert stored is not None
    by_id = {s["id"]: s for s in stored["steps"]}
    assert (by_id[items[0].id]["type"], by_id[items[0].id]["output"]) == (
        "user_message", "hi")
    assert (by_id[items[1].id]["type"], by_id[items[1].id]["output"]) == (
        "assistant_message", "see")
    assert by_id[items[2].id]["type"] == "tool"
    assert by_id[items[3].id]["type"] == "undefined"


async def test_delete_item_and_thread(store: NbchatStore) -> None:
    thread = thread_meta(store)
    await store.save_thread(thread, ALICE)
    keep, drop = user_item(thread.id, "keep", T0), user_item(thread.id, "drop", T0)
    await store.add_thread_item(thread.id, keep, ALICE)
    await store.add_thread_item(thread.id, drop, ALICE)
    await store.delete_thread_item(thread.id, drop.id, ALICE)
    with pytest.raises(NotFoundError):
        await store.load_item(thread.id, drop.id, ALICE)
    assert [i.id for i in (await store.load_thread_items(thread.id, None, 9, "asc",
                                                         ALICE)).data] == [keep.id]
    await store.delete_thread(thread.id, ALICE)
    with pytest.raises(NotFoundError):
        await store.load_thread(thread.id, ALICE)
    assert await store.layer.get_thread(thread.id) is None


async def test_attachments_round_trip(store: NbchatStore) -> None:
    pending = FileAttachment(id=str(uuid.uuid4()), name="a.pdf", mime_type="application/pdf",
                             metadata={"bucket": "x"})
    image = ImageAttachment(id=str(uuid.uuid4()), name="p.png", mime_type="image/png",
                            preview_url="https://img.example/p.png")  # type: ignore[arg-type]
    for a in (pending, image):
        await store.save_attachment(a, ALICE)
        assert await store.load_attachment(a.id, ALICE) == a
    with pytest.raises(NotFoundError):
        await store.load_attachment(pending.id, BOB)
    # Sent with a message: ChatKit saves them with the thread id, then the message.
    thread = thread_meta(store)
    await store.save_thread(thread, ALICE)
    in_thread = [a.model_copy(update={"thread_id": thread.id}) for a in (pending, image)]
    for a in in_thread:
        await store.save_attachment(a, ALICE)
    message = user_item(thread.id, "files", T0, attachments=in_thread)
    await store.add_thread_item(thread.id, message, ALICE)
    for a in in_thread:
        assert await store.load_attachment(a.id, ALICE) == a
    assert await store.load_item(thread.id, message.id, ALICE) == message
    stored = await store.layer.get_thread(thread.id)
    assert stored is not None
    elements = {e["id"]: e for e in stored["elements"] or []}
    assert elements[image.id]["type"] == "image"
    assert elements[image.id]["forId"] == message.id
    assert elements[pending.id]["mime"] == "application/pdf"
    await store.delete_attachment(image.id, ALICE)
    with pytest.raises(NotFoundError):
        await store.load_attachment(image.id, ALICE)
    assert await store.layer.get_element(thread.id, image.id) is None
    await store.delete_attachment(image.id, ALICE)  # twice: nothing to do, no error


async def test_chatkit_thread_is_nbchat_history(store: NbchatStore, tmp_path: Path) -> None:
    thread = thread_meta(store, title="Invoice questions")
    await store.save_thread(thread, ALICE)
    await store.add_thread_item(thread.id, user_item(thread.id, "where is my invoice", T0),
                                ALICE)
    await store.add_thread_item(
        thread.id, assistant_item(thread.id, "in the mail", T0 + timedelta(seconds=1)), ALICE)
    layer = store.layer
    alice = await layer.get_user("alice")
    assert alice is not None
    listed = await layer.list_threads(Pagination(10), ThreadFilter(userId=alice.id))
    assert [t["id"] for t in listed.data] == [thread.id]
    found = await layer.list_threads(Pagination(10), ThreadFilter(search="invoice"))
    assert [t["id"] for t in found.data] == [thread.id]
    rows = await history.asteps(layer, "alice")
    assert [(r["type"], r["output"]) for r in rows] == [
        ("user_message", "where is my invoice"), ("assistant_message", "in the mail")]
    assert [r["name"] for r in await history.athreads(layer, "alice")] == [
        "Invoice questions"]

    # Resumed in an nbchat chat, which adds to the same thread; ChatKit sees the reply.
    app = App("resume")
    app.register("on_chat_resume", lambda thread: None)

    async def reply(message: Message) -> None:
        await Message(content=f"nbchat: {message.content}").send()

    app.register("on_message", reply)
    async with ChatTestClient(app, user=User(identifier="alice"), data_layer=layer,
                              resume_thread=thread.id) as client:
        assert [m["output"] for m in client.messages][:2] == [
            "where is my invoice", "in the mail"]
        await client.send("thanks")
    await layer.flush()
    page = await store.load_thread_items(thread.id, None, 20, "asc", ALICE)
    kinds = [(i.type, i.content[0].text) for i in page.data
             if isinstance(i, UserMessageItem | AssistantMessageItem)]
    assert kinds == [("user_message", "where is my invoice"),
                     ("assistant_message", "in the mail"), ("user_message", "thanks"),
                     ("assistant_message", "nbchat: thanks")]


async def test_nbchat_chat_loads_in_the_store(store: NbchatStore) -> None:
    app = App("native")

    async def reply(message: Message) -> None:
        await Message(content=f"echo {message.content}").send()

    app.register("on_message", reply)
    async with ChatTestClient(app, user=User(identifier="alice"),
                              data_layer=store.layer) as client:
        await client.send("one")
        await client.send("two")
        thread_id = client.session.thread_id
    await store.layer.flush()
    threads = await store.load_threads(10, None, "desc", ALICE)
    assert [t.id for t in threads.data] == [thread_id]
    items = (await store.load_thread_items(thread_id, None, 20, "asc", ALICE)).data
    assert [(type(i).__name__, i.content[0].text) for i in items] == [  # type: ignore[union-attr]
        ("UserMessageItem", "one"), ("AssistantMessageItem", "echo one"),
        ("UserMessageItem", "two"), ("AssistantMessageItem", "echo two")]
    with pytest.raises(NotFoundError):
        await store.load_thread(thread_id, BOB)


async def test_users_are_made_on_first_use_and_otherwise_left_alone(store: NbchatStore) -> None:
    assert await store.layer.get_user("alice") is None
    await store.save_thread(thread_meta(store), ALICE)
    made = await store.layer.get_user("alice")
    assert made is not None
    assert made.identifier == "alice"
    await store.layer.create_user(User(identifier="bob", display_name="Bob",
                                       metadata={"role": "admin"}))
    await store.save_thread(thread_meta(store), BOB)
    await store.save_attachment(FileAttachment(id="f1", name="n", mime_type="text/plain"), BOB)
    bob = await store.layer.get_user("bob")
    assert bob is not None
    assert (bob.display_name, bob.metadata["role"]) == ("Bob", "admin")


async def test_attachment_bytes_become_the_elements_file(store: NbchatStore) -> None:
    pending = FileAttachment(id=str(uuid.uuid4()), name="notes.txt", mime_type="text/plain")
    await store.save_attachment(pending, ALICE)
    with pytest.raises(NotFoundError):
        await store.load_attachment_bytes(pending.id, ALICE)  # nothing uploaded yet
    await store.save_attachment_bytes(pending.id, b"first", ALICE)
    await store.save_attachment_bytes(pending.id, b"hello bytes", ALICE)  # again: replaced
    assert await store.load_attachment_bytes(pending.id, ALICE) == b"hello bytes"
    with pytest.raises(NotFoundError):
        await store.load_attachment_bytes(pending.id, BOB)
    with pytest.raises(NotFoundError):
        await store.save_attachment_bytes(pending.id, b"bob's", BOB)
    thread = thread_meta(store)
    await store.save_thread(thread, ALICE)
    sent = pending.model_copy(update={"thread_id": thread.id})
    await store.save_attachment(sent, ALICE)
    await store.add_thread_item(thread.id, user_item(thread.id, "file", T0, attachments=[sent]),
                                ALICE)
    assert await store.load_attachment_bytes(pending.id, ALICE) == b"hello bytes"
    element = await store.layer.get_element(thread.id, pending.id)
    assert element is not None
    assert element["objectKey"] is not None
    assert await store.storage.get(element["objectKey"]) == b"hello bytes"
    assert element["size"] == str(len(b"hello bytes"))
    await store.delete_attachment(pending.id, ALICE)
    assert await store.layer.get_element(thread.id, pending.id) is None
    with pytest.raises(DataNotFoundError):
        await store.storage.get(element["objectKey"])  # the file went with it
