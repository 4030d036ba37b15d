"""The embedded default: SQLite through aiosqlite, one file at `<app>/.nbchat/nbchat.db`.

Why these settings: WAL lets readers (the Jupyter server listing history) run while the
kernel writes; every write transaction starts with BEGIN IMMEDIATE, so it takes the write
lock up front and waits for it in the busy handler. A deferred transaction that reads and
then writes can fail with "database is locked" at once, without waiting, when another
process committed in between; IMMEDIATE never does. `synchronous=NORMAL` in WAL mode keeps
every commit across a crash of the process (SIGKILL); only a power loss can lose the last
commits.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from nbchat.data.queued import QueuedDataLayer
from nbchat.data.rows import (
    ELEMENT_COLUMNS,
    STEP_COLUMNS,
    _dumps,
    element_from_row,
    element_params,
    feedback_from_row,
    feedback_params,
    merge_metadata,
    step_from_row,
    step_params,
    thread_from_row,
)
from nbchat.data.storage import BlobStorage
from nbchat.data.validation import DataLayerError
from nbchat.data.writebehind import Batch
from nbchat.ids import new_id, utc_now
from nbchat.types import ElementDict, PersistedUser, StepDict, ThreadDict, User

if TYPE_CHECKING:
    import aiosqlite

T = TypeVar("T")
_STEP_SELECT = ", ".join(f"s.{c}" for c in STEP_COLUMNS)
_EL_SELECT = ", ".join(ELEMENT_COLUMNS)
_THREAD_SELECT = ("t.id, t.created_at, t.name, t.user_id, u.identifier, t.tags, t.metadata, "
                  "t.updated_at FROM threads t LEFT JOIN users u ON u.id = t.user_id")


def _upsert(table: str, cols: tuple[str, ...], conflict: str, keep: tuple[str, ...] = ()) -> str:
    sets = ", ".join(f"{c} = excluded.{c}" for c in cols if c != conflict and c not in keep)
    marks = ", ".join("?" * len(cols))
    return (f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks}) "
            f"ON CONFLICT({conflict}) DO UPDATE SET {sets}")


_STEP_UPSERT = _upsert("steps", STEP_COLUMNS, "id")
_EL_UPSERT = _upsert("elements", ELEMENT_COLUMNS, "id")
_FB_UPSERT = _upsert("feedbacks", ("id", "for_id", "thread_id", "value", "comment",
                                   "created_at", "updated_at"), "for_id", keep=("id", "created_at"))
# A step or element for an unknown thread creates it (Chainlit does the same); activity
# moves the thread to the top of the list.
_THREAD_TOUCH = ("INSERT INTO threads (id, created_at, updated_at) VALUES (?, ?, ?) "
                 "ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at "
                 "WHERE excluded.updated_at > threads.updated_at")
_THREAD_PATCH = ("INSERT INTO threads (id, created_at, updated_at, name, user_id, tags, metadata)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                 "name = coalesce(excluded.name, name), user_id = coalesce(excluded.user_id, "
                 "user_id), tags = coalesce(excluded.tags, tags), metadata = excluded.metadata")


def migrations(dialect: str) -> list[tuple[int, str]]:
    """(version, sql) of every migration file shipped for the dialect, in order."""
    folder = resources.files("nbchat.data") / "migrations" / dialect
    out = [(int(f.name.split("_", 1)[0]), f.read_text("utf-8"))
           for f in folder.iterdir() if f.name.endswith(".sql")]
    return sorted(out)


def split_statements(sql: str) -> Iterator[str]:
    """Statements of a script; trigger bodies keep their inner semicolons."""
    buf = ""
    for line in sql.splitlines(keepends=True):
        if not buf and (not line.strip() or line.lstrip().startswith("--")):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            yield buf.strip()
            buf = ""
    if buf.strip():
        raise DataLayerError(f"incomplete statement in a migration: {buf[:80]!r}")


def fts_query(terms: list[str]) -> str:
    """All words must occur; the last one may be a prefix (type-ahead)."""
    quoted = [f'"{t}"' for t in terms]
    quoted[-1] += "*"
    return " ".join(quoted)


class SQLiteDataLayer(QueuedDataLayer):
    """The data layer on one SQLite file, created (with its folder) on first use."""

    def __init__(
        self,
        path: Path | str,
        storage: BlobStorage | Path | None = None,
        *,
        busy_timeout: float = 60.0,
        target_version: int | None = None,  # for tests of upgrades; None = latest
        **kwargs: Any,
    ) -> None:
        super().__init__(storage, **kwargs)
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self.target_version = target_version
        self._conn: aiosqlite.Connection | None = None
        self._connect_lock = asyncio.Lock()
        # One connection, so one transaction at a time: the batch writer, barriers and
        # create_user all write through _write, and must not nest BEGINs.
        self._write_lock = asyncio.Lock()

    def _is_outage(self, exc: BaseException) -> bool:
        # The file is locked past busy_timeout, read-only, gone or on a failing disk.
        return super()._is_outage(exc) or (
            isinstance(exc, sqlite3.OperationalError) and any(
                word in str(exc) for word in ("locked", "readonly", "disk I/O", "unable to open")))

    async def _db(self) -> aiosqlite.Connection:
        if self._conn is None:
            async with self._connect_lock:
                if self._conn is None:
                    self._conn = await self._open()
        return self._conn

    async def _open(self) -> aiosqlite.Connection:
        import aiosqlite  # lazily: `import nbchat` must stay cheap

        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(self.path, timeout=self.busy_timeout,
                                       isolation_level=None)
        try:
            # busy_timeout is already set (timeout=), so these wait instead of failing;
            # switching a new file to WAL can still report "locked" without waiting while
            # another process does the same, hence the retry.
            await _retry_locked(lambda: self._setup(conn), self.busy_timeout)
        except BaseException:
            await conn.close()
            raise
        return conn

    async def _setup(self, conn: aiosqlite.Connection) -> None:
        async with conn.execute("PRAGMA journal_mode") as cur:
            mode = (await cur.fetchone() or ("",))[0]
        if str(mode).lower() != "wal":
            await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        # Search reads the rows of every candidate thread to order them (thousands for a
        # common word); memory-mapped reads and a 32 MB page cache keep that cheap.
        await conn.execute("PRAGMA mmap_size=268435456")
        await conn.execute("PRAGMA cache_size=-32768")
        await self._migrate(conn)

    async def _migrate(self, conn: aiosqlite.Connection) -> None:
        available = migrations("sqlite")
        latest = self.target_version or available[-1][0]
        await conn.execute("BEGIN IMMEDIATE")  # two processes opening at once: one migrates
        try:
            await conn.execute("CREATE TABLE IF NOT EXISTS schema_version "
                               "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
            async with conn.execute("SELECT coalesce(max(version), 0) FROM schema_version") as c:
                current = int((await c.fetchone() or (0,))[0])
            if current > available[-1][0]:
                raise DataLayerError(
                    f"{self.path} has schema version {current}, newer than this nbchat "
                    f"knows ({available[-1][0]}); upgrade nbchat to open it")
            for version, sql in available:
                if current < version <= latest:
                    for statement in split_statements(sql):
                        await conn.execute(statement)
                    await conn.execute("INSERT INTO schema_version VALUES (?, ?)",
                                       (version, utc_now()))
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise

    async def _write(self, fn: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        conn = await self._db()
        async with self._write_lock:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                result = await fn(conn)
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            await conn.execute("COMMIT")
            return result

    async def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        conn = await self._db()

        async def read() -> list[Any]:
            async with conn.execute(sql, params) as cur:
                return list(await cur.fetchall())

        # A WAL reader can see SQLITE_BUSY without the busy handler (another process
        # recovering the WAL after a crash); reads are safe to retry.
        return await _retry_locked(read, self.busy_timeout)

    # -- the batch writer -------------------------------------------------------------------

    async def _apply(self, batch: Batch) -> None:
        now = utc_now()

        async def run(conn: aiosqlite.Connection) -> None:
            if batch.threads:
                ids = list(batch.threads)
                marks = ",".join("?" * len(ids))
                async with conn.execute(
                        f"SELECT id, metadata FROM threads WHERE id IN ({marks})", ids) as cur:
                    stored: dict[str, str] = {r[0]: r[1] for r in await cur.fetchall()}
                await conn.executemany(_THREAD_PATCH, [
                    (p.id, now, now, p.name, p.user_id, _dumps(p.tags),
                     merge_metadata(stored.get(p.id), p.metadata))
                    for p in batch.threads.values()])
            touched = {s["threadId"] for s in batch.steps.values()}
            touched |= {str(e["threadId"]) for e in batch.elements.values()}
            if touched:
                await conn.executemany(_THREAD_TOUCH, [(t, now, now) for t in touched])
            if batch.steps:
                await conn.executemany(_STEP_UPSERT, map(step_params, batch.steps.values()))
            if batch.elements:
                await conn.executemany(_EL_UPSERT, map(element_params, batch.elements.values()))
            if batch.feedback:
                await conn.executemany(
                    _FB_UPSERT, [feedback_params(f, now) for f in batch.feedback.values()])

        await self._write(run)

    # -- primitives used by QueuedDataLayer --------------------------------------------------

    async def _db_step(self, step_id: str) -> StepDict | None:
        rows = await self._rows(f"SELECT {_STEP_SELECT} FROM steps s WHERE s.id = ?", (step_id,))
        return step_from_row(rows[0]) if rows else None

    async def _db_step_owner(self, step_id: str) -> tuple[str, str | None] | None:
        rows = await self._rows("SELECT s.thread_id, f.id FROM steps s LEFT JOIN feedbacks f "
                                "ON f.for_id = s.id WHERE s.id = ?", (step_id,))
        return (rows[0][0], rows[0][1]) if rows else None

    async def _db_user_exists(self, user_id: str) -> bool:
        return bool(await self._rows("SELECT 1 FROM users WHERE id = ?", (user_id,)))

    async def _db_delete_thread(self, thread_id: str) -> list[str]:
        async def run(conn: aiosqlite.Connection) -> list[str]:
            async with conn.execute("SELECT object_key FROM elements WHERE thread_id = ? AND "
                                    "object_key IS NOT NULL", (thread_id,)) as cur:
                keys = [r[0] for r in await cur.fetchall()]
            await conn.execute("DELETE FROM threads WHERE id = ?", (thread_id,))
            return keys

        return await self._write(run)

    async def _db_delete_step(self, step_id: str) -> None:
        async def run(conn: aiosqlite.Connection) -> None:
            await conn.execute("DELETE FROM steps WHERE id = ?", (step_id,))

        await self._write(run)

    async def _db_delete_feedback(self, feedback_id: str) -> bool:
        async def run(conn: aiosqlite.Connection) -> bool:
            cur = await conn.execute("DELETE FROM feedbacks WHERE id = ?", (feedback_id,))
            return cur.rowcount > 0

        return await self._write(run)

    async def _db_delete_element(self, element_id: str, thread_id: str | None) -> str | None:
        async def run(conn: aiosqlite.Connection) -> str | None:
            sql = "DELETE FROM elements WHERE id = ?" + (" AND thread_id = ?" if thread_id else "")
            params = (element_id, thread_id) if thread_id else (element_id,)
            async with conn.execute(sql + " RETURNING object_key", params) as cur:
                row = await cur.fetchone()
            return None if row is None else (row[0] or "")

        return await self._write(run)

    async def _db_get_thread(self, thread_id: str) -> ThreadDict | None:
        rows = await self._rows(f"SELECT {_THREAD_SELECT} WHERE t.id = ?", (thread_id,))
        if not rows:
            return None
        thread = thread_from_row(rows[0])
        steps = await self._rows(
            f"SELECT {_STEP_SELECT}, f.id, f.for_id, f.thread_id, f.value, f.comment FROM steps s"
            " LEFT JOIN feedbacks f ON f.for_id = s.id WHERE s.thread_id = ?"
            " ORDER BY s.created_at, s.id", (thread_id,))
        n = len(STEP_COLUMNS)
        thread["steps"] = [
            step_from_row(r, feedback_from_row(r[n:]) if r[n] is not None else None)
            for r in steps]
        elements = await self._rows(
            f"SELECT {_EL_SELECT} FROM elements WHERE thread_id = ? ORDER BY pk", (thread_id,))
        thread["elements"] = [element_from_row(r) for r in elements]
        return thread

    async def _db_list_threads(
        self, first: int, after: tuple[str, str] | None, user_id: str | None,
        feedback: int | None, terms: list[str],
    ) -> list[tuple[ThreadDict, str]]:
        where: list[str] = []
        params: list[Any] = []
        if terms:
            q = fts_query(terms)
            # Both indexes answer with thread pks: a step hit's rowid carries its thread's pk
            # in the high 32 bits (migration 0003), so no step row is read.
            where.append(
                "t.pk IN (SELECT rowid FROM threads_fts WHERE threads_fts MATCH ? UNION "
                "SELECT rowid >> 32 FROM steps_fts WHERE steps_fts MATCH ?)")
            params += [q, q]
        if user_id is not None:
            where.append("t.user_id = ?")
            params.append(user_id)
        if feedback is not None:
            where.append("EXISTS (SELECT 1 FROM feedbacks f WHERE f.thread_id = t.id "
                         "AND f.value = ?)")
            params.append(feedback)
        if after is not None:
            where.append("(t.updated_at, t.id) < (?, ?)")
            params += list(after)
        sql = f"SELECT {_THREAD_SELECT}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY t.updated_at DESC, t.id DESC LIMIT ?"
        rows = await self._rows(sql, (*params, first))
        return [(thread_from_row(r), r[7]) for r in rows]

    async def _db_get_element(self, thread_id: str, element_id: str) -> ElementDict | None:
        rows = await self._rows(f"SELECT {_EL_SELECT} FROM elements WHERE id = ? AND "
                                "thread_id = ?", (element_id, thread_id))
        return element_from_row(rows[0]) if rows else None

    async def _db_thread_author(self, thread_id: str) -> str | None:
        rows = await self._rows("SELECT u.identifier FROM threads t JOIN users u ON "
                                "u.id = t.user_id WHERE t.id = ?", (thread_id,))
        return rows[0][0] if rows else None

    async def _db_get_user(self, identifier: str) -> PersistedUser | None:
        rows = await self._rows("SELECT id, identifier, display_name, metadata, created_at "
                                "FROM users WHERE identifier = ?", (identifier,))
        return _user(rows[0]) if rows else None

    async def _db_upsert_user(self, user: User, metadata_json: str) -> PersistedUser:
        async def run(conn: aiosqlite.Connection) -> PersistedUser:
            async with conn.execute(
                "INSERT INTO users (id, identifier, display_name, metadata, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(identifier) DO UPDATE SET display_name = "
                "coalesce(excluded.display_name, display_name), metadata = excluded.metadata "
                "RETURNING id, identifier, display_name, metadata, created_at",
                (new_id(), user.identifier, user.display_name, metadata_json, utc_now()),
            ) as cur:
                return _user(await cur.fetchone())

        return await self._write(run)

    async def _db_close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()

    # -- history export: one query each ----------------------------------------------------

    async def export_threads(self, user_id: str | None = None) -> list[ThreadDict]:
        await self._seen()
        where, params = (" WHERE t.user_id = ?", (user_id,)) if user_id else ("", ())
        rows = await self._rows(f"SELECT {_THREAD_SELECT}{where} ORDER BY t.created_at", params)
        return [thread_from_row(r) for r in rows]

    async def export_steps(self, user_id: str | None = None) -> list[StepDict]:
        await self._seen()
        join, params = ((" JOIN threads t ON t.id = s.thread_id WHERE t.user_id = ?", (user_id,))
                        if user_id else ("", ()))
        rows = await self._rows(
            f"SELECT {_STEP_SELECT}, f.id, f.for_id, f.thread_id, f.value, f.comment FROM steps s"
            f" LEFT JOIN feedbacks f ON f.for_id = s.id{join} ORDER BY s.created_at", params)
        n = len(STEP_COLUMNS)
        return [step_from_row(r, feedback_from_row(r[n:]) if r[n] is not None else None)
                for r in rows]

    async def export_feedback(self, user_id: str | None = None) -> list[dict[str, Any]]:
        await self._seen()
        where, params = (" WHERE t.user_id = ?", (user_id,)) if user_id else ("", ())
        rows = await self._rows(
            "SELECT f.id, f.for_id, f.thread_id, f.value, f.comment, f.created_at, s.type, "
            "f.updated_at FROM feedbacks f JOIN steps s ON s.id = f.for_id JOIN threads t ON "
            f"t.id = f.thread_id{where} ORDER BY f.created_at", params)
        return [_feedback_export(r) for r in rows]


async def _retry_locked(fn: Callable[[], Awaitable[T]], patience: float) -> T:
    """Run `fn`, retrying with backoff while SQLite reports the database locked/busy."""
    deadline = time.monotonic() + patience
    delay = 0.001
    while True:
        try:
            return await fn()
        except sqlite3.OperationalError as exc:
            msg = str(exc).lower()
            if ("locked" not in msg and "busy" not in msg) or time.monotonic() > deadline:
                raise
        await asyncio.sleep(delay)  # backoff between attempts, not synchronization
        delay = min(delay * 2, 0.1)


def _feedback_export(r: Any) -> dict[str, Any]:
    keys = ("id", "forId", "threadId", "value", "comment", "createdAt", "stepType", "updatedAt")
    return dict(zip(keys, r, strict=True))


def _user(row: Any) -> PersistedUser:
    import json

    return PersistedUser(identifier=row[1], display_name=row[2], metadata=json.loads(row[3]),
                         id=row[0], createdAt=row[4])
