"""PostgreSQL through an asyncpg pool, for served deployments with several workers.

Same contract and queue as SQLite. Differences that matter: metadata merges in SQL
(`jsonb ||`), full-text search uses generated tsvector columns with GIN indexes, and a
batch touches threads in sorted id order so two workers can never deadlock on them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from nbchat.data.queued import QueuedDataLayer
from nbchat.data.rows import (
    ELEMENT_COLUMNS,
    STEP_COLUMNS,
    _dumps,
    element_from_row,
    element_params,
    feedback_from_row,
    feedback_params,
    step_from_row,
    step_params,
    thread_from_row,
)
from nbchat.data.sqlite import _feedback_export, migrations
from nbchat.data.storage import BlobStorage
from nbchat.data.validation import DataLayerError
from nbchat.data.writebehind import Batch
from nbchat.ids import new_id, utc_now
from nbchat.types import ElementDict, PersistedUser, StepDict, ThreadDict, User

T = TypeVar("T")
_JSONB = {"metadata", "tags", "generation", "show_input", "extra"}
_STEP_SELECT = ", ".join(f"s.{c}" for c in STEP_COLUMNS)
_EL_SELECT = ", ".join(ELEMENT_COLUMNS)
_THREAD_SELECT = ("t.id, t.created_at, t.name, t.user_id, u.identifier, t.tags, t.metadata, "
                  "t.updated_at FROM threads t LEFT JOIN users u ON u.id = t.user_id")
_MIGRATION_LOCK = 0x6E62_6368  # "nbch": one migrator at a time across workers


_TYPES = {"is_error": "bool", "default_open": "bool", "streaming": "bool",
          "wait_for_answer": "bool", "cancelled": "bool", "value": "int2"}


def _upsert(table: str, cols: tuple[str, ...], conflict: str, keep: tuple[str, ...] = ()) -> str:
    """One statement for a whole batch: every column is one array parameter, unnested.

    One round trip and one executor run per table per batch, where executemany pays a
    bind and an execution per row (PostgreSQL step writes were 2.4-3x a COPY; see
    benchmarks/README.md). Rows of a batch have unique `conflict` keys (the queue
    coalesces them), as ON CONFLICT DO UPDATE requires.
    """
    arrays = ", ".join(f"${i}::{_TYPES.get(c, 'text')}[]" for i, c in enumerate(cols, 1))
    values = ", ".join(f"u.{c}::jsonb" if c in _JSONB else f"u.{c}" for c in cols)
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols if c != conflict and c not in keep)
    return (f"INSERT INTO {table} ({', '.join(cols)}) SELECT {values} FROM unnest({arrays}) "
            f"AS u({', '.join(cols)}) ON CONFLICT ({conflict}) DO UPDATE SET {sets}")


def _columns(rows: list[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows → one list per column (the array parameters of an `_upsert`)."""
    return [list(c) for c in zip(*rows, strict=True)]


_FB_COLUMNS = ("id", "for_id", "thread_id", "value", "comment", "created_at", "updated_at")
_STEP_UPSERT = _upsert("steps", STEP_COLUMNS, "id")

# Big step batches go through a staging table: COPY the rows into it (binary, no array
# parameters to unpack), then one INSERT ... SELECT ... ON CONFLICT moves them into
# `steps`, in the same transaction and order, with the same upsert as _STEP_UPSERT.
# 10,000 steps: 0.76-0.84 s vs unnest's 0.98-1.10 s (COPY alone, the baseline, 0.55-0.75
# s). Below STAGE_MIN rows the extra round trip and the end-of-transaction truncation
# cost more than unnest saves (equal at ~50 rows; see benchmarks/README.md).
# The table is per connection (TEMPORARY, made by the pool's `init`), so workers and
# pooled connections never see each other's rows, and ON COMMIT DELETE ROWS empties it
# at every commit (a rollback discards its rows anyway).
STAGE_MIN = 64
_STAGE = "nbchat_stage_steps"
_STAGE_DDL = (f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} ("
              + ", ".join(f"{c} {'jsonb' if c in _JSONB else _TYPES.get(c, 'text')}"
                          for c in STEP_COLUMNS)
              + ") ON COMMIT DELETE ROWS")
_STEP_FROM_STAGE = (
    f"INSERT INTO steps ({', '.join(STEP_COLUMNS)}) SELECT {', '.join(STEP_COLUMNS)} "
    f"FROM pg_temp.{_STAGE} ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in STEP_COLUMNS if c != "id"))
_EL_UPSERT = _upsert("elements", ELEMENT_COLUMNS, "id")
_FB_UPSERT = _upsert("feedbacks", _FB_COLUMNS, "for_id", keep=("id", "created_at"))
# Threads in sorted id order (the arrays are sorted; unnest keeps order), so two workers
# writing batches that touch the same threads lock them in the same order.
_THREAD_TOUCH = ("INSERT INTO threads (id, created_at, updated_at) SELECT u.id, $2, $2 FROM "
                 "unnest($1::text[]) AS u(id) ON CONFLICT (id) DO UPDATE SET updated_at = "
                 "EXCLUDED.updated_at WHERE EXCLUDED.updated_at > threads.updated_at")
_THREAD_PATCH = ("INSERT INTO threads (id, created_at, updated_at, name, user_id, tags, metadata)"
                 " SELECT u.id, $6, $6, u.name, u.user_id, u.tags::jsonb, u.metadata::jsonb FROM"
                 " unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS"
                 " u(id, name, user_id, tags, metadata) ON CONFLICT (id) DO UPDATE"
                 " SET name = coalesce(EXCLUDED.name, threads.name), user_id = coalesce("
                 "EXCLUDED.user_id, threads.user_id), tags = coalesce(EXCLUDED.tags, threads.tags),"
                 " metadata = threads.metadata || EXCLUDED.metadata")


def tsquery(terms: list[str]) -> str:
    """All words must occur; the last one may be a prefix (type-ahead)."""
    return " & ".join([*terms[:-1], terms[-1] + ":*"])


class PostgresDataLayer(QueuedDataLayer):
    """The data layer on a PostgreSQL database (the database must exist; tables are made)."""

    def __init__(
        self,
        url: str,
        storage: BlobStorage | None = None,
        *,
        min_size: int = 1,
        max_size: int = 10,
        target_version: int | None = None,  # for tests of upgrades; None = latest
        **kwargs: Any,
    ) -> None:
        super().__init__(storage, **kwargs)
        self.url = url
        self.target_version = target_version
        self._pool_args = {"min_size": min_size, "max_size": max_size}
        self._pool: Any = None  # asyncpg.Pool; asyncpg ships no type information
        self._connect_lock = asyncio.Lock()

    async def _db(self) -> Any:
        if self._pool is None:
            async with self._connect_lock:
                if self._pool is None:
                    self._pool = await self._open()
        return self._pool

    async def _open(self) -> Any:
        import asyncpg  # lazily: `import nbchat` must stay cheap

        try:
            pool = await asyncpg.create_pool(self.url, init=_init_connection,
                                             **self._pool_args)
        except (OSError, asyncpg.PostgresError) as exc:
            raise DataLayerError(f"cannot connect to PostgreSQL at {_safe(self.url)}: {exc}."
                                 " Is the server running and the database created?") from exc
        try:
            async with pool.acquire() as conn, conn.transaction():
                await self._migrate(conn)
        except BaseException:
            await pool.close()
            raise
        return pool

    async def _migrate(self, conn: Any) -> None:
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version "
                           "(version integer PRIMARY KEY, applied_at text NOT NULL)")
        current = await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_version")
        available = migrations("postgres")
        latest = self.target_version or available[-1][0]
        if current > available[-1][0]:
            raise DataLayerError(f"the database has schema version {current}, newer than this "
                                 f"nbchat knows ({available[-1][0]}); upgrade nbchat")
        for version, sql in available:
            if current < version <= latest:
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_version VALUES ($1, $2)",
                                   version, utc_now())

    def _is_outage(self, exc: BaseException) -> bool:
        import asyncpg

        # A lost or refused connection, or a server shutting down or refusing connections.
        return super()._is_outage(exc) or isinstance(exc, (
            asyncpg.InterfaceError, asyncpg.PostgresConnectionError,
            asyncpg.OperatorInterventionError, asyncpg.TooManyConnectionsError))

    async def _write(self, fn: Callable[[Any], Awaitable[T]]) -> T:
        pool = await self._db()
        async with pool.acquire() as conn, conn.transaction():
            return await fn(conn)

    async def _rows(self, sql: str, *params: Any) -> list[Any]:
        pool = await self._db()
        return list(await pool.fetch(sql, *params))

    async def _apply(self, batch: Batch) -> None:
        now = utc_now()

        async def run(conn: Any) -> None:
            if batch.threads:
                patches = sorted(batch.threads.values(), key=lambda p: p.id)
                await conn.execute(_THREAD_PATCH, *_columns([
                    (p.id, p.name, p.user_id, _dumps(p.tags), _dumps(p.metadata or {}))
                    for p in patches]), now)
            touched = {s["threadId"] for s in batch.steps.values()}
            touched |= {str(e["threadId"]) for e in batch.elements.values()}
            if touched:
                await conn.execute(_THREAD_TOUCH, sorted(touched), now)
            if len(batch.steps) >= STAGE_MIN:
                await conn.copy_records_to_table(
                    _STAGE, schema_name="pg_temp", columns=STEP_COLUMNS,
                    records=[step_params(s) for s in batch.steps.values()])
                await conn.execute(_STEP_FROM_STAGE)
            elif batch.steps:
                await conn.execute(_STEP_UPSERT, *_columns(
                    [step_params(s) for s in batch.steps.values()]))
            if batch.elements:
                await conn.execute(_EL_UPSERT, *_columns(
                    [element_params(e) for e in batch.elements.values()]))
            if batch.feedback:
                await conn.execute(_FB_UPSERT, *_columns(
                    [feedback_params(f, now) for f in batch.feedback.values()]))

        await self._write(run)

    async def _db_step(self, step_id: str) -> StepDict | None:
        rows = await self._rows(f"SELECT {_STEP_SELECT} FROM steps s WHERE s.id = $1", step_id)
        return step_from_row(rows[0]) if rows else None

    async def _db_step_owner(self, step_id: str) -> tuple[str, str | None] | None:
        rows = await self._rows("SELECT s.thread_id, f.id FROM steps s LEFT JOIN feedbacks f "
                                "ON f.for_id = s.id WHERE s.id = $1", step_id)
        return (rows[0][0], rows[0][1]) if rows else None

    async def _db_user_exists(self, user_id: str) -> bool:
        return bool(await self._rows("SELECT 1 FROM users WHERE id = $1", user_id))

    async def _db_delete_thread(self, thread_id: str) -> list[str]:
        async def run(conn: Any) -> list[str]:
            keys = await conn.fetch("SELECT object_key FROM elements WHERE thread_id = $1 AND "
                                    "object_key IS NOT NULL", thread_id)
            await conn.execute("DELETE FROM threads WHERE id = $1", thread_id)
            return [r[0] for r in keys]

        return await self._write(run)

    async def _db_delete_step(self, step_id: str) -> None:
        await self._write(lambda c: c.execute("DELETE FROM steps WHERE id = $1", step_id))

    async def _db_delete_feedback(self, feedback_id: str) -> bool:
        status = await self._write(
            lambda c: c.execute("DELETE FROM feedbacks WHERE id = $1", feedback_id))
        return bool(status != "DELETE 0")

    async def _db_delete_element(self, element_id: str, thread_id: str | None) -> str | None:
        sql = "DELETE FROM elements WHERE id = $1" + (" AND thread_id = $2" if thread_id else "")
        params = (element_id, thread_id) if thread_id else (element_id,)
        rows = await self._write(lambda c: c.fetch(sql + " RETURNING object_key", *params))
        return None if not rows else (rows[0][0] or "")

    async def _db_get_thread(self, thread_id: str) -> ThreadDict | None:
        rows = await self._rows(f"SELECT {_THREAD_SELECT} WHERE t.id = $1", thread_id)
        if not rows:
            return None
        thread = thread_from_row(rows[0])
        steps = await self._rows(
            f"SELECT {_STEP_SELECT}, f.id, f.for_id, f.thread_id, f.value, f.comment FROM steps s"
            " LEFT JOIN feedbacks f ON f.for_id = s.id WHERE s.thread_id = $1"
            " ORDER BY s.created_at, s.id", thread_id)
        n = len(STEP_COLUMNS)
        thread["steps"] = [
            step_from_row(r, feedback_from_row(r[n:]) if r[n] is not None else None)
            for r in steps]
        elements = await self._rows(
            f"SELECT {_EL_SELECT} FROM elements WHERE thread_id = $1 ORDER BY id", thread_id)
        thread["elements"] = [element_from_row(r) for r in elements]
        return thread

    async def _db_list_threads(
        self, first: int, after: tuple[str, str] | None, user_id: str | None,
        feedback: int | None, terms: list[str],
    ) -> list[tuple[ThreadDict, str]]:
        where: list[str] = []
        params: list[Any] = []

        def param(value: Any) -> str:
            params.append(value)
            return f"${len(params)}"

        if terms:
            q = f"to_tsquery('simple', {param(tsquery(terms))})"
            where.append(f"t.id IN (SELECT id FROM threads WHERE search @@ {q} UNION "
                         f"SELECT thread_id FROM steps WHERE search @@ {q})")
        if user_id is not None:
            where.append(f"t.user_id = {param(user_id)}")
        if feedback is not None:
            where.append("EXISTS (SELECT 1 FROM feedbacks f WHERE f.thread_id = t.id AND "
                         f"f.value = {param(feedback)})")
        if after is not None:
            where.append(f"(t.updated_at, t.id) < ({param(after[0])}, {param(after[1])})")
        sql = f"SELECT {_THREAD_SELECT}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY t.updated_at DESC, t.id DESC LIMIT {param(first)}"
        rows = await self._rows(sql, *params)
        return [(thread_from_row(r), r[7]) for r in rows]

    async def _db_get_element(self, thread_id: str, element_id: str) -> ElementDict | None:
        rows = await self._rows(f"SELECT {_EL_SELECT} FROM elements WHERE id = $1 AND "
                                "thread_id = $2", element_id, thread_id)
        return element_from_row(rows[0]) if rows else None

    async def _db_thread_author(self, thread_id: str) -> str | None:
        rows = await self._rows("SELECT u.identifier FROM threads t JOIN users u ON "
                                "u.id = t.user_id WHERE t.id = $1", thread_id)
        return rows[0][0] if rows else None

    async def _db_get_user(self, identifier: str) -> PersistedUser | None:
        rows = await self._rows("SELECT id, identifier, display_name, metadata, created_at "
                                "FROM users WHERE identifier = $1", identifier)
        return _user(rows[0]) if rows else None

    async def _db_upsert_user(self, user: User, metadata_json: str) -> PersistedUser:
        rows = await self._write(lambda c: c.fetch(
            "INSERT INTO users (id, identifier, display_name, metadata, created_at) "
            "VALUES ($1, $2, $3, $4::jsonb, $5) ON CONFLICT (identifier) DO UPDATE SET "
            "display_name = coalesce(EXCLUDED.display_name, users.display_name), "
            "metadata = EXCLUDED.metadata "
            "RETURNING id, identifier, display_name, metadata, created_at",
            new_id(), user.identifier, user.display_name, metadata_json, utc_now()))
        return _user(rows[0])

    async def _db_close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def export_threads(self, user_id: str | None = None) -> list[ThreadDict]:
        await self._seen()
        where = " WHERE t.user_id = $1" if user_id else ""
        rows = await self._rows(f"SELECT {_THREAD_SELECT}{where} ORDER BY t.created_at",
                                *([user_id] if user_id else []))
        return [thread_from_row(r) for r in rows]

    async def export_steps(self, user_id: str | None = None) -> list[StepDict]:
        await self._seen()
        join = " JOIN threads t ON t.id = s.thread_id WHERE t.user_id = $1" if user_id else ""
        rows = await self._rows(
            f"SELECT {_STEP_SELECT}, f.id, f.for_id, f.thread_id, f.value, f.comment FROM steps s"
            f" LEFT JOIN feedbacks f ON f.for_id = s.id{join} ORDER BY s.created_at",
            *([user_id] if user_id else []))
        n = len(STEP_COLUMNS)
        return [step_from_row(r, feedback_from_row(r[n:]) if r[n] is not None else None)
                for r in rows]

    async def export_feedback(self, user_id: str | None = None) -> list[dict[str, Any]]:
        await self._seen()
        where = " WHERE t.user_id = $1" if user_id else ""
        rows = await self._rows(
            "SELECT f.id, f.for_id, f.thread_id, f.value, f.comment, f.created_at, s.type, "
            "f.updated_at FROM feedbacks f JOIN steps s ON s.id = f.for_id JOIN threads t ON "
            f"t.id = f.thread_id{where} ORDER BY f.created_at", *([user_id] if user_id else []))
        return [_feedback_export(r) for r in rows]


async def _init_connection(conn: Any) -> None:
    """Every pooled connection (new or re-established) gets its step staging table."""
    await conn.execute(_STAGE_DDL)


def _user(row: Any) -> PersistedUser:
    meta = row[3]
    return PersistedUser(identifier=row[1], display_name=row[2],
                         metadata=json.loads(meta) if isinstance(meta, str) else dict(meta),
                         id=row[0], createdAt=row[4])


def _safe(url: str) -> str:
    """The URL without its password, for error messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}@{host}"
    return url
