"""`SQLAlchemyDataLayer`: Chainlit's SQLAlchemy layer, on Chainlit's schema, done right.

Same constructor as `chainlit.data.sql_alchemy.SQLAlchemyDataLayer` (`conninfo`,
`connect_args`, `ssl_require`, `storage_provider`, `user_thread_limit`, `show_logger`) and
the same tables, so a database Chainlit 2.x wrote opens here. SQLite (`sqlite+aiosqlite`),
PostgreSQL (`postgresql+asyncpg`) and MySQL/MariaDB (`mysql+aiomysql`). What differs from
Chainlit's layer, and why:

* every write is awaited in one transaction with bound parameters (Chainlit's are
  fire-and-forget and lost steps under load); hosts wrap the layer in AdaptedDataLayer,
  whose write-behind queue hands a whole batch to `write_batch` (one transaction,
  executemany), which is where the step-write speed comes from;
* thread metadata is merged inside the transaction that writes it (Chainlit read it in
  one session and wrote in another, so concurrent writes wiped it);
* only columns the database has are touched (reflected on connect): Chainlit's documented
  schema lacks `autoCollapse` and `props`, which its own layer writes and reads;
* tags and JSON are encoded per engine (Chainlit passed Python lists to SQLite);
* a page of threads comes from nbchat's `nbchat_activity` index table (see
  sql_alchemy_schema), not a MAX over every step.

`storage_provider` is duck-typed on Chainlit's BaseStorageClient: `upload_file(object_key,
data, mime, overwrite)` → `{"object_key", "url"}`, `delete_file(object_key)`,
`get_read_url(object_key)`.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from nbchat.data.base import BaseDataLayer
from nbchat.data.sql_alchemy_db import ChainlitDatabase
from nbchat.data.sql_alchemy_schema import (
    element_dict,
    element_row,
    step_dict,
    step_row,
    tags_of,
)
from nbchat.data.validation import InvalidDataError
from nbchat.ids import utc_now
from nbchat.types import (
    ElementDict,
    Feedback,
    PageInfo,
    PaginatedResponse,
    Pagination,
    PersistedUser,
    StepDict,
    ThreadDict,
    ThreadFilter,
    User,
)

log = logging.getLogger("nbchat.data")
DISPLAY_NAME_KEY = "nbchat:display_name"  # in users.metadata


@dataclass
class ThreadWrite:
    """One update_thread of a batch (None: leave as is)."""

    id: str
    name: str | None = None
    user_id: str | None = None
    metadata: dict[str, Any] | None = None
    tags: list[str] | None = None


@dataclass
class WriteBatch:
    """What AdaptedDataLayer hands `write_batch`: applied in this order, in one transaction."""

    threads: list[ThreadWrite] = field(default_factory=list)
    steps: list[StepDict] = field(default_factory=list)
    elements: list[Any] = field(default_factory=list)  # Element objects, as create_element
    feedback: list[Feedback] = field(default_factory=list)


class SQLAlchemyDataLayer(ChainlitDatabase, BaseDataLayer):
    """Chainlit's SQLAlchemy data layer interface on its documented schema (module doc)."""

    # -- writes ----------------------------------------------------------------------------

    async def write_batch(self, batch: WriteBatch) -> None:
        """Apply a batch of writes in one transaction (AdaptedDataLayer's fast path)."""
        md = await self._tables()
        uploaded = [await self._element_row(e) for e in batch.elements]
        async with self._engine.begin() as conn:
            touched: dict[str, str | None] = {}
            for tw in batch.threads:
                await self._write_thread(conn, md, tw)
                touched[tw.id] = None
            steps = md.tables["steps"]
            cols = {c.name for c in steps.columns}
            rows = [step_row(s, cols) for s in batch.steps]
            if rows:
                await self._ensure_threads(conn, md, {r["threadId"] for r in rows})
                await self._run_upsert(conn, steps, rows)
                touched.update({r["threadId"]: None for r in rows})
            rows = [r for r in uploaded if r is not None]
            if rows:
                await self._ensure_threads(conn, md, {r["threadId"] for r in rows
                                                      if r.get("threadId")})
                await self._run_upsert(conn, md.tables["elements"], rows)
                touched.update({r["threadId"]: None for r in rows if r.get("threadId")})
            for fb in batch.feedback:
                await self._write_feedback(conn, md, fb)
            await self._touch(conn, md, touched)

    async def _touch(self, conn: Any, md: Any, thread_ids: Iterable[str]) -> None:
        rows = [{"threadId": tid, "activity": self._tick()} for tid in thread_ids]
        if rows:
            await conn.execute(self._upsert(md.tables["nbchat_activity"], rows,
                                            key="threadId"), rows)

    async def _ensure_threads(self, conn: Any, md: Any, ids: set[str]) -> None:
        if ids:
            now = utc_now()
            rows = [{"id": i, "createdAt": now, "metadata": {}} for i in sorted(ids)]
            await conn.execute(self._upsert(md.tables["threads"], rows, update=()), rows)

    async def _write_thread(self, conn: Any, md: Any, tw: ThreadWrite) -> None:
        from sqlalchemy import select, update

        t, u = md.tables["threads"], md.tables["users"]
        # The row exists first, then is locked, merged and updated: two writers of one
        # thread's metadata each see the other's keys (Chainlit's read-then-upsert lost them).
        await self._ensure_threads(conn, md, {tw.id})
        values: dict[str, Any] = {}
        if tw.name is not None:
            values["name"] = tw.name
        if tw.tags is not None:
            values["tags"] = list(tw.tags)
        if tw.user_id is not None:
            values["userId"] = tw.user_id
            if "userIdentifier" in t.c:
                values["userIdentifier"] = (await conn.execute(
                    select(u.c.identifier).where(u.c.id == tw.user_id))).scalar()
        if tw.metadata is not None:
            query = select(t.c.metadata).where(t.c.id == tw.id)
            if self.dialect != "sqlite":  # (SQLite: BEGIN IMMEDIATE already serializes)
                query = query.with_for_update()
            stored = (await conn.execute(query)).scalar()
            merged = {**(stored if isinstance(stored, dict) else {}), **tw.metadata}
            values["metadata"] = {k: v for k, v in merged.items() if v is not None}
        if values:
            await conn.execute(update(t).where(t.c.id == tw.id).values(**values))
        await self._touch(conn, md, [tw.id])

    async def _write_feedback(self, conn: Any, md: Any, fb: Feedback) -> str:
        fid = fb.id or str(uuid.uuid4())
        row = {"id": fid, "forId": fb.forId, "threadId": fb.threadId, "value": fb.value,
               "comment": fb.comment}
        await conn.execute(self._upsert(md.tables["feedbacks"], [row]), [row])
        return fid

    async def _element_row(self, element: Any) -> dict[str, Any] | None:
        """The elements row of an Element object, its bytes uploaded to storage_provider
        (no storage: the row keeps its url; Chainlit dropped the element)."""
        md = await self._tables()
        data: dict[str, Any] = dict(element.to_dict())
        content = element.content
        if content is None and getattr(element, "path", None):
            content = element.path.read_bytes()
        if self.storage_provider is not None and content is not None:
            if isinstance(content, str):
                content = content.encode()
            owner = data.get("threadId") or "unknown"
            key = f"{owner}/{data['id']}" + (f"/{data['name']}" if data.get("name") else "")
            uploaded = await self.storage_provider.upload_file(
                object_key=key, data=content, mime=data.get("mime") or
                "application/octet-stream", overwrite=True)
            if not uploaded:
                raise RuntimeError(f"the storage provider did not store element {data['id']}")
            data["url"], data["objectKey"] = uploaded.get("url"), uploaded.get("object_key")
        return element_row(data, {c.name for c in md.tables["elements"].columns})

    async def update_thread(self, thread_id: str, name: str | None = None,
                            user_id: str | None = None, metadata: dict[str, Any] | None = None,
                            tags: list[str] | None = None) -> None:
        await self.write_batch(WriteBatch(threads=[ThreadWrite(
            thread_id, name, user_id, metadata, tags)]))

    async def create_step(self, step_dict: StepDict) -> None:
        await self.write_batch(WriteBatch(steps=[step_dict]))

    async def update_step(self, step_dict: StepDict) -> None:
        await self.write_batch(WriteBatch(steps=[step_dict]))

    async def create_element(self, element: Any) -> None:
        await self.write_batch(WriteBatch(elements=[element]))

    async def upsert_feedback(self, feedback: Feedback) -> str:
        md = await self._tables()
        async with self._engine.begin() as conn:
            return await self._write_feedback(conn, md, feedback)

    # -- users -----------------------------------------------------------------------------

    async def get_user(self, identifier: str) -> PersistedUser | None:
        from sqlalchemy import select

        md = await self._tables()
        u = md.tables["users"]
        async with self._reader.connect() as conn:
            row = (await conn.execute(select(u).where(u.c.identifier == identifier))).first()
        return None if row is None else self._user(row._mapping)

    @staticmethod
    def _user(row: Any) -> PersistedUser:
        meta = row.get("metadata")
        meta = dict(meta) if isinstance(meta, dict) else {}
        name = meta.pop(DISPLAY_NAME_KEY, None)  # Chainlit's users table has no column
        return PersistedUser(identifier=row["identifier"], display_name=name, metadata=meta,
                             id=str(row["id"]), createdAt=row.get("createdAt") or "")

    async def create_user(self, user: User) -> PersistedUser | None:
        from sqlalchemy import select

        md = await self._tables()
        u = md.tables["users"]
        async with self._engine.begin() as conn:
            old = (await conn.execute(select(u.c.metadata).where(
                u.c.identifier == user.identifier))).scalar()
            name = user.display_name or (old or {}).get(DISPLAY_NAME_KEY)
            meta = dict(user.metadata) | ({DISPLAY_NAME_KEY: name} if name else {})
            row = {"id": str(uuid.uuid4()), "identifier": user.identifier, "metadata": meta,
                   "createdAt": utc_now()}
            await conn.execute(self._upsert(u, [row], key="identifier", update=["metadata"]),
                               [row])
        return await self.get_user(user.identifier)

    # -- reads -----------------------------------------------------------------------------

    async def get_thread_author(self, thread_id: str) -> str:
        from sqlalchemy import select

        md = await self._tables()
        t, u = md.tables["threads"], md.tables["users"]
        async with self._reader.connect() as conn:
            row = (await conn.execute(select(t.c.userId, u.c.identifier)
                                      .outerjoin(u, u.c.id == t.c.userId)
                                      .where(t.c.id == thread_id))).first()
        if row is None:
            raise ValueError(f"Thread {thread_id} not found")
        return row[1] or ""

    async def get_thread(self, thread_id: str) -> ThreadDict | None:
        from sqlalchemy import select

        md = await self._tables()
        t, u, s, f = (md.tables[n] for n in ("threads", "users", "steps", "feedbacks"))
        e = md.tables["elements"]
        async with self._reader.connect() as conn:
            row = (await conn.execute(select(t, u.c.identifier.label("_ident"))
                                      .outerjoin(u, u.c.id == t.c.userId)
                                      .where(t.c.id == thread_id))).first()
            if row is None:
                return None
            steps = (await conn.execute(
                select(s, f.c.id.label("_fid"), f.c.value.label("_fval"),
                       f.c.comment.label("_fcom"))
                .outerjoin(f, f.c.forId == s.c.id).where(s.c.threadId == thread_id)
                .order_by(s.c.createdAt, s.c.id))).all()
            elements = (await conn.execute(select(e).where(e.c.threadId == thread_id))).all()
        thread = self._thread(row._mapping)
        out_steps: list[Any] = []
        for r in steps:
            m = r._mapping
            sd = step_dict(m)
            sd["feedback"] = None if m["_fid"] is None else {
                "id": str(m["_fid"]), "forId": sd["id"], "threadId": thread_id,
                "value": m["_fval"], "comment": m["_fcom"]}
            out_steps.append(self._ids(sd, ("id", "threadId", "parentId")))
        thread["steps"] = out_steps
        thread["elements"] = [await self._element(r._mapping) for r in elements]
        return thread

    @staticmethod
    def _ids(d: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
        for k in keys:  # PostgreSQL UUID columns may come back as uuid.UUID
            if d.get(k) is not None:
                d[k] = str(d[k])
        return d

    def _thread(self, m: Any) -> ThreadDict:
        meta = m.get("metadata")
        out = {"id": str(m["id"]), "createdAt": m.get("createdAt"), "name": m.get("name"),
               "userId": None if m.get("userId") is None else str(m["userId"]),
               "userIdentifier": m.get("_ident") or m.get("userIdentifier"),
               "tags": tags_of(m.get("tags")),
               "metadata": meta if isinstance(meta, dict) else {},
               "steps": [], "elements": None}
        return cast(ThreadDict, out)

    async def _element(self, m: Any) -> ElementDict:
        el = self._ids(element_dict(m), ("id", "threadId", "forId"))
        if self.storage_provider is not None and el.get("objectKey"):
            try:
                el["url"] = await self.storage_provider.get_read_url(object_key=el["objectKey"])
            except Exception as exc:  # the stored url still works for public buckets
                log.warning("nbchat: no read url for %s (%s)", el["objectKey"], exc)
        return cast(ElementDict, el)

    async def get_element(self, thread_id: str, element_id: str) -> ElementDict | None:
        from sqlalchemy import select

        md = await self._tables()
        e = md.tables["elements"]
        async with self._reader.connect() as conn:
            row = (await conn.execute(select(e).where(
                e.c.id == element_id, e.c.threadId == thread_id))).first()
        return None if row is None else await self._element(row._mapping)

    async def list_threads(self, pagination: Pagination,
                           filters: ThreadFilter) -> PaginatedResponse[ThreadDict]:
        from sqlalchemy import and_, exists, func, literal, or_, select

        md = await self._tables()
        t, s, f, a = (md.tables[n] for n in ("threads", "steps", "feedbacks", "nbchat_activity"))
        u = md.tables["users"]
        query = (select(t, u.c.identifier.label("_ident"), a.c.activity)
                 .join(a, a.c.threadId == t.c.id).outerjoin(u, u.c.id == t.c.userId))
        if pagination.cursor:
            try:
                act, tid = json.loads(base64.urlsafe_b64decode(pagination.cursor.encode()))
            except (ValueError, TypeError) as exc:
                raise InvalidDataError(f"bad cursor {pagination.cursor!r}") from exc
            tid = literal(str(tid), a.c.threadId.type)  # (a uuid on PostgreSQL)
            query = query.where(or_(a.c.activity < int(act),
                                    and_(a.c.activity == int(act), a.c.threadId < tid)))
        if filters.userId is not None:
            query = query.where(t.c.userId == filters.userId)
        terms = re.findall(r"\w+", (filters.search or "").lower())
        if filters.search and not terms:
            return PaginatedResponse(PageInfo(False, None, None), [])
        for term in terms:  # each word in the name or in some step (substring, any case)
            like = "%" + term.replace("_", "\\_") + "%"
            query = query.where(or_(func.lower(t.c.name).like(like, escape="\\"), exists().where(
                s.c.threadId == t.c.id,
                or_(func.lower(s.c.input).like(like, escape="\\"),
                    func.lower(s.c.output).like(like, escape="\\")))))
        if filters.feedback is not None:
            query = query.where(exists().where(f.c.threadId == t.c.id,
                                               f.c.value == filters.feedback))
        query = query.order_by(a.c.activity.desc(), a.c.threadId.desc()).limit(
            pagination.first + 1)
        async with self._reader.connect() as conn:
            rows = (await conn.execute(query)).all()
        page = rows[:pagination.first]
        cursors = [base64.urlsafe_b64encode(json.dumps(
            [r._mapping["activity"], str(r._mapping["id"])]).encode()).decode() for r in page]
        return PaginatedResponse(
            PageInfo(len(rows) > pagination.first, cursors[0] if cursors else None,
                     cursors[-1] if cursors else None),
            [self._thread(r._mapping) for r in page])

    # -- deletes ---------------------------------------------------------------------------

    async def delete_thread(self, thread_id: str) -> None:
        from sqlalchemy import delete, or_, select

        md = await self._tables()
        t, s, e, f, a = (md.tables[n] for n in
                         ("threads", "steps", "elements", "feedbacks", "nbchat_activity"))
        async with self._engine.begin() as conn:
            keys = (await conn.execute(select(e.c.objectKey).where(
                e.c.threadId == thread_id))).scalars().all()
            await conn.execute(delete(f).where(or_(f.c.threadId == thread_id, f.c.forId.in_(
                select(s.c.id).where(s.c.threadId == thread_id)))))
            for table, col in ((e, "threadId"), (s, "threadId"), (a, "threadId"), (t, "id")):
                await conn.execute(delete(table).where(table.c[col] == thread_id))
        await self._delete_files(keys)

    async def _delete_files(self, keys: Iterable[str | None]) -> None:
        if self.storage_provider is None:
            return
        for key in keys:
            if key:
                await self.storage_provider.delete_file(object_key=key)

    async def delete_step(self, step_id: str) -> None:
        from sqlalchemy import delete, select

        md = await self._tables()
        s, e, f = (md.tables[n] for n in ("steps", "elements", "feedbacks"))
        async with self._engine.begin() as conn:
            keys = (await conn.execute(select(e.c.objectKey).where(
                e.c.forId == step_id))).scalars().all()
            await conn.execute(delete(f).where(f.c.forId == step_id))
            await conn.execute(delete(e).where(e.c.forId == step_id))
            await conn.execute(delete(s).where(s.c.id == step_id))
        await self._delete_files(keys)

    async def delete_feedback(self, feedback_id: str) -> bool:
        from sqlalchemy import delete

        md = await self._tables()
        f = md.tables["feedbacks"]
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(f).where(f.c.id == feedback_id))
        return bool(result.rowcount)

    async def delete_element(self, element_id: str, thread_id: str | None = None) -> None:
        from sqlalchemy import delete, select

        md = await self._tables()
        e = md.tables["elements"]
        where = [e.c.id == element_id] + ([] if thread_id is None else
                                          [e.c.threadId == thread_id])
        async with self._engine.begin() as conn:
            keys = (await conn.execute(select(e.c.objectKey).where(*where))).scalars().all()
            await conn.execute(delete(e).where(*where))
        await self._delete_files(keys)

    async def close(self) -> None:
        close = getattr(self.storage_provider, "close", None)
        if close is not None:  # as Chainlit's layer does
            await close()
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
            self._md = None
