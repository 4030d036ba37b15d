"""A ChatKit `Store` over any nbchat data layer: ChatKit threads are nbchat threads.

    from nbchat.integrations.chatkit import NbchatStore
    store = NbchatStore("sqlite:///chat.db")        # or a layer, or postgresql://…
    server = MyChatKitServer(store)                 # chatkit.server.ChatKitServer
    result = await server.process(body, {"user_id": "alice"})

The ChatKit request context is a dict whose `user_id` is the nbchat user identifier (the
user is created on first use). A thread is an nbchat thread: title = name, owner = that
user; ChatKit's own fields (status, allowed image domains, metadata, created_at) are kept
in the thread's `metadata["chatkit"]`. Items are steps (see chatkit_items), attachments
elements of their thread. Another user's thread, item or attachment is ChatKit's
`NotFoundError`, as a missing one. Generated ids are UUIDs. See docs/chatkit.md.

Needs the optional `openai-chatkit` package (`pip install nbchat[chatkit]`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

from chatkit.store import NotFoundError, Store, StoreItemType
from chatkit.types import (
    Attachment,
    ImageAttachment,
    Page,
    ThreadItem,
    ThreadMetadata,
    UserMessageItem,
)
from pydantic import TypeAdapter

from nbchat.data import (
    BaseDataLayer,
    InvalidDataError,
    NativeDataLayer,
    blob_storage,
    make_data_layer,
)
from nbchat.data import (
    NotFoundError as DataNotFoundError,
)
from nbchat.data.plug import native_layer
from nbchat.integrations.chatkit_items import (
    META_KEY,
    item_to_step,
    ordered_items,
    parse_time,
    step_seq,
)
from nbchat.types import ElementDict, PersistedUser, ThreadDict, User

__all__ = ["NbchatStore", "NotFoundError"]

Context = Mapping[str, Any]
T = TypeVar("T")
_ATTACHMENT = TypeAdapter[Attachment](Attachment)
PENDING_KEY = "chatkit_attachments"  # user metadata: attachments not yet in a thread


def user_identifier(context: Context) -> str:
    """The nbchat user identifier of a ChatKit request context (`{"user_id": …}`)."""
    user_id = context.get("user_id") if isinstance(context, Mapping) else None
    if not isinstance(user_id, str) or not user_id:
        raise ValueError(
            "the ChatKit request context must be a dict with the nbchat user identifier "
            f"under 'user_id' (e.g. {{'user_id': 'alice'}}), got {context!r}")
    return user_id


def _page(data: Sequence[T], after: str | None, limit: int, order: str,
          key: str = "id") -> Page[T]:
    """One page of `data` (oldest first) in `order`, starting after the record `after`."""
    if order not in ("asc", "desc"):
        raise ValueError(f"order must be 'asc' or 'desc', got {order!r}")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive int, got {limit!r}")
    rows = list(data) if order == "asc" else list(reversed(data))
    start = 0
    if after is not None:
        ids = [getattr(r, key) for r in rows]
        if after not in ids:
            raise NotFoundError(f"cursor {after!r} is not in this list; start over")
        start = ids.index(after) + 1
    chunk = rows[start:start + limit]
    has_more = start + limit < len(rows)
    return Page(data=chunk, has_more=has_more,
                after=getattr(chunk[-1], key) if chunk and has_more else None)


class NbchatStore(Store[Context]):
    """`chatkit.store.Store` over an nbchat data layer (see the module doc).

    `layer_or_data_url`: an nbchat layer (`make_data_layer(…)`, what `nbchat serve`
    uses), a Chainlit-style `BaseDataLayer` (wrapped as every nbchat host wraps it), or a
    database URL as in nbchat.yaml's `data.url` (relative SQLite paths are relative to
    `app_dir`, default the current folder). Nothing connects before the first call; a
    layer made from a URL or wrapped here is closed by `close()`.
    """

    def __init__(self, layer_or_data_url: NativeDataLayer | BaseDataLayer | str,
                 app_dir: str | Path | None = None) -> None:
        folder = Path(app_dir) if app_dir is not None else Path.cwd()
        given = layer_or_data_url
        if isinstance(given, str):
            self.layer = make_data_layer(given, folder)
        else:
            self.layer = native_layer(given, folder, close_layer=False)
        self._owns_layer = self.layer is not given
        self.storage = blob_storage(self.layer, folder)  # where nbchat's hosts find files
        self._user_ids: dict[str, str] = {}
        self._user_locks: dict[str, asyncio.Lock] = {}

    async def close(self) -> None:
        """Flush and close the layer when this store made it (a URL, an adapter)."""
        if self._owns_layer:
            await self.layer.close()
        else:
            await self.layer.flush()

    # -- ids: UUIDs, as nbchat's own ------------------------------------------------------

    def generate_thread_id(self, context: Context) -> str:
        return str(uuid.uuid4())

    def generate_item_id(self, item_type: StoreItemType, thread: ThreadMetadata,
                         context: Context) -> str:
        return str(uuid.uuid4())

    # -- users and ownership -------------------------------------------------------------

    async def _user(self, context: Context) -> PersistedUser:
        identifier = user_identifier(context)
        user = await self.layer.get_user(identifier)
        if user is None:
            user = await self.layer.create_user(User(identifier=identifier))
        self._user_ids[identifier] = user.id
        return user

    async def _user_id(self, context: Context) -> str:
        identifier = user_identifier(context)
        known = self._user_ids.get(identifier)
        return known if known is not None else (await self._user(context)).id

    async def _own_thread(self, thread_id: str, context: Context) -> ThreadDict:
        """The thread when it belongs to the context's user, else NotFoundError."""
        identifier = user_identifier(context)
        thread = await self.layer.get_thread(thread_id)
        if thread is None or thread.get("userIdentifier") != identifier:
            raise NotFoundError(f"thread {thread_id!r} not found")
        return thread

    # -- threads -------------------------------------------------------------------------

    @staticmethod
    def _metadata(thread: ThreadDict) -> ThreadMetadata:
        kept = (thread.get("metadata") or {}).get(META_KEY)
        kept = kept if isinstance(kept, dict) else {}
        fields: dict[str, Any] = {
            "id": thread["id"], "title": thread.get("name"),
            "created_at": kept.get("created_at") or parse_time(thread["createdAt"]),
            "metadata": kept.get("metadata") or {},
        }
        if kept.get("status") is not None:
            fields["status"] = kept["status"]
        if kept.get("allowed_image_domains") is not None:
            fields["allowed_image_domains"] = kept["allowed_image_domains"]
        return ThreadMetadata.model_validate(fields)

    async def load_thread(self, thread_id: str, context: Context) -> ThreadMetadata:
        return self._metadata(await self._own_thread(thread_id, context))

    async def save_thread(self, thread: ThreadMetadata, context: Context) -> None:
        identifier = user_identifier(context)
        stored = await self.layer.get_thread(thread.id)
        if stored is not None and stored.get("userIdentifier") not in (None, identifier):
            raise NotFoundError(f"thread {thread.id!r} not found")
        # Only ChatKit's own fields, as one metadata key: the layer merges metadata key by
        # key, so nbchat's keys (sharing, settings) stay and ChatKit's are replaced whole.
        kept = {
            "created_at": thread.created_at.isoformat(),
            "status": thread.status.model_dump(mode="json"),
            "allowed_image_domains": thread.allowed_image_domains,
            "metadata": thread.metadata,
        }
        await self.layer.update_thread(thread.id, name=thread.title,
                                       user_id=await self._user_id(context),
                                       metadata={META_KEY: kept})
        await self.layer.flush()

    async def load_threads(self, limit: int, after: str | None, order: str,
                           context: Context) -> Page[ThreadMetadata]:
        """The user's threads by creation time (`after`: a thread id from the last page)."""
        user_id = await self._user_id(context)
        threads = [self._metadata(t) for t in await self.layer.export_threads(user_id)]
        threads.sort(key=lambda t: (t.created_at.timestamp()
                                    if t.created_at.tzinfo else t.created_at.astimezone()
                                    .timestamp(), t.id))
        return _page(threads, after, limit, order)

    async def delete_thread(self, thread_id: str, context: Context) -> None:
        await self._own_thread(thread_id, context)
        await self.layer.delete_thread(thread_id)

    # -- items ---------------------------------------------------------------------------

    async def load_thread_items(self, thread_id: str, after: str | None, limit: int,
                                order: str, context: Context) -> Page[ThreadItem]:
        thread = await self._own_thread(thread_id, context)
        return _page(ordered_items(thread["steps"] or []), after, limit, order)

    async def add_thread_item(self, thread_id: str, item: ThreadItem,
                              context: Context) -> None:
        await self._own_thread(thread_id, context)
        await self._write_item(thread_id, item, context, None)

    async def save_item(self, thread_id: str, item: ThreadItem, context: Context) -> None:
        thread = await self._own_thread(thread_id, context)
        # Item ids are generate_item_id's UUIDs, so an id is one thread's (ChatKit's server
        # never lets a client pick one).
        old = next((s for s in thread["steps"] or [] if s["id"] == item.id), None)
        await self._write_item(thread_id, item, context, step_seq(old) if old else None)

    async def _write_item(self, thread_id: str, item: ThreadItem, context: Context,
                          seq: int | None) -> None:
        name = user_identifier(context) if item.type == "user_message" else "Assistant"
        step = item_to_step(item, thread_id, name, seq)
        await self.layer.create_step(step, durable=True)
        if isinstance(item, UserMessageItem):  # its files, as elements of the message
            for attachment in item.attachments:
                await self._store_attachment(
                    attachment.model_copy(update={"thread_id": thread_id}), context, item.id)

    async def load_item(self, thread_id: str, item_id: str, context: Context) -> ThreadItem:
        thread = await self._own_thread(thread_id, context)
        for item in ordered_items(thread["steps"] or []):
            if item.id == item_id:
                return item
        raise NotFoundError(f"item {item_id!r} not found in thread {thread_id!r}")

    async def delete_thread_item(self, thread_id: str, item_id: str,
                                 context: Context) -> None:
        thread = await self._own_thread(thread_id, context)
        if any(s["id"] == item_id for s in thread["steps"] or []):
            await self.layer.delete_step(item_id)

    # -- attachments: elements of their thread; before that, in the user's metadata -------

    def _lock(self, identifier: str) -> asyncio.Lock:
        return self._user_locks.setdefault(identifier, asyncio.Lock())

    async def _set_pending(self, context: Context, attachment_id: str,
                           value: dict[str, Any] | None) -> None:
        """Record (or with None forget) where an attachment is, in the user's metadata."""
        identifier = user_identifier(context)
        async with self._lock(identifier):
            user = await self._user(context)
            index = dict((user.metadata or {}).get(PENDING_KEY) or {})
            if value is None and attachment_id not in index:
                return
            if value is None:
                index.pop(attachment_id)
            else:
                index[attachment_id] = value
            await self.layer.create_user(User(
                identifier=identifier, display_name=user.display_name,
                metadata={**(user.metadata or {}), PENDING_KEY: index}))

    async def _where(self, attachment_id: str, context: Context) -> dict[str, Any]:
        user = await self._user(context)
        found = ((user.metadata or {}).get(PENDING_KEY) or {}).get(attachment_id)
        if not isinstance(found, dict):
            raise NotFoundError(f"attachment {attachment_id!r} not found")
        return found

    async def _store_attachment(self, attachment: Attachment, context: Context,
                                for_id: str | None) -> None:
        thread_id = cast(str, attachment.thread_id)
        await self._own_thread(thread_id, context)
        old = await self.layer.get_element(thread_id, attachment.id)
        try:
            pending = await self._where(attachment.id, context)
        except NotFoundError:
            pending = {}
        element: dict[str, Any] = {
            "id": attachment.id, "threadId": thread_id,
            "forId": for_id or (old.get("forId") if old else None),  # a message's file stays
            "type": "image" if isinstance(attachment, ImageAttachment) else "file",
            "name": attachment.name, "mime": attachment.mime_type, "display": "inline",
            "url": str(attachment.preview_url) if isinstance(attachment, ImageAttachment)
            else None,
            # The uploaded bytes (save_attachment_bytes) become the element's file.
            "objectKey": pending.get("objectKey") or (old.get("objectKey") if old else None),
            "size": pending.get("size") or (old.get("size") if old else None),
            "props": {META_KEY: attachment.model_dump(mode="json")},
        }
        await self.layer.create_element(cast(ElementDict, element))
        await self._set_pending(context, attachment.id, {"threadId": thread_id})

    async def save_attachment(self, attachment: Attachment, context: Context) -> None:
        if attachment.thread_id is not None:
            await self._store_attachment(attachment, context, None)
            return
        try:
            kept = {k: v for k, v in (await self._where(attachment.id, context)).items()
                    if k in ("objectKey", "size")}
        except NotFoundError:
            kept = {}
        await self._set_pending(context, attachment.id,
                                {**kept, "attachment": attachment.model_dump(mode="json")})

    async def load_attachment(self, attachment_id: str, context: Context) -> Attachment:
        where = await self._where(attachment_id, context)
        if "attachment" in where:
            return _ATTACHMENT.validate_python(where["attachment"])
        raw = ((await self._element(attachment_id, where, context)).get("props")
                                 or {}).get(META_KEY)
        if not isinstance(raw, dict):
            raise NotFoundError(f"attachment {attachment_id!r} not found")
        return _ATTACHMENT.validate_python(raw)

    async def _element(self, attachment_id: str, where: dict[str, Any],
                       context: Context) -> dict[str, Any]:
        thread_id = str(where.get("threadId"))
        await self._own_thread(thread_id, context)
        element = await self.layer.get_element(thread_id, attachment_id)
        if element is None:
            raise NotFoundError(f"attachment {attachment_id!r} not found")
        return cast(dict[str, Any], element)

    async def delete_attachment(self, attachment_id: str, context: Context) -> None:
        try:
            where = await self._where(attachment_id, context)
        except NotFoundError:
            return
        if "threadId" in where:  # the element, and its file with it
            await self.layer.delete_element(attachment_id, str(where["threadId"]))
        elif where.get("objectKey"):
            await self.storage.delete(str(where["objectKey"]))
        await self._set_pending(context, attachment_id, None)

    # -- attachment bytes: nbchat's blob storage, the element's file once in a thread ----

    async def save_attachment_bytes(self, attachment_id: str,
                                    data: bytes | AsyncIterable[bytes], context: Context,
                                    *, max_size: int | None = None) -> None:
        """Store the uploaded bytes of an attachment not yet sent (ChatKit's two-phase
        upload); the attachment's upload descriptor is cleared. BlobTooLargeError past
        `max_size`, and then nothing is kept."""
        where = await self._where(attachment_id, context)
        if "attachment" not in where:
            raise InvalidDataError(f"attachment {attachment_id!r} was already sent; "
                                   "its file cannot change")
        attachment = _ATTACHMENT.validate_python(where["attachment"])
        key = await self.storage.put(data, attachment.mime_type, max_size=max_size)
        size = await self.storage.size(key)
        if where.get("objectKey"):
            await self.storage.delete(str(where["objectKey"]))  # an upload made again
        done = attachment.model_copy(update={"upload_descriptor": None})
        await self._set_pending(context, attachment_id, {
            "attachment": done.model_dump(mode="json"), "objectKey": key, "size": str(size)})

    async def load_attachment_bytes(self, attachment_id: str, context: Context) -> bytes:
        """The attachment's uploaded bytes (NotFoundError when none were uploaded)."""
        where = await self._where(attachment_id, context)
        key = where.get("objectKey") if "attachment" in where else (
            await self._element(attachment_id, where, context)).get("objectKey")
        if not key:
            raise NotFoundError(f"attachment {attachment_id!r} has no uploaded file")
        try:
            return await self.storage.get(str(key))
        except DataNotFoundError as exc:  # ChatKit's error, as for every missing thing
            raise NotFoundError(f"attachment {attachment_id!r} has no uploaded file") from exc
