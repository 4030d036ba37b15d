"""The connection side of SQLAlchemyDataLayer: its engine (SQLite transactions that
take the write lock at BEGIN), Chainlit's tables as the database has them (reflected on
first use; nbchat_activity created and backfilled), and upserts in each engine's dialect."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, Sequence
from typing import Any

from nbchat.data.sql_alchemy_schema import chainlit_tables, only_present


def _immediate_transactions(engine: Any) -> None:
    """SQLite: every transaction takes the write lock at BEGIN (IMMEDIATE), so concurrent
    writers queue on the busy timeout instead of failing at their first write, and a
    read-merge-write (thread metadata) cannot interleave with another."""
    from sqlalchemy import event

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_conn: Any, record: Any) -> None:
        dbapi_conn.isolation_level = None  # the driver's own BEGIN off; ours below

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:  # reads (the `reading` engine) do not need the lock
        read = conn.get_execution_options().get("nbchat_read")
        conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")


class ChainlitDatabase:
    """Engine, tables and upserts of one database with Chainlit's schema."""

    def __init__(
        self,
        conninfo: str,
        connect_args: dict[str, Any] | None = None,
        ssl_require: bool = False,
        storage_provider: Any = None,
        user_thread_limit: int | None = 1000,
        show_logger: bool | None = False,
    ) -> None:
        self._conninfo = conninfo
        self.connect_args = dict(connect_args or {})
        if ssl_require:  # as Chainlit: TLS without certificate checks
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            self.connect_args["ssl"] = ctx
        self.storage_provider = storage_provider
        self.user_thread_limit = user_thread_limit
        self.show_logger = bool(show_logger)
        self._engine: Any = None
        self._reader: Any = None  # the engine, for reads (SQLite: no write lock)
        self._md: Any = None
        self._clock = 0

    # -- connection, schema --------------------------------------------------------------

    @property
    def dialect(self) -> str:
        return self._conninfo.split(":", 1)[0].split("+", 1)[0]

    def _make_engine(self) -> Any:
        try:
            from sqlalchemy.ext.asyncio import create_async_engine
        except ImportError as exc:  # the optional extra
            raise ImportError("SQLAlchemyDataLayer needs `pip install nbchat[sqlalchemy]` "
                              "(sqlalchemy[asyncio], plus aiosqlite/asyncpg/aiomysql)") from exc
        engine = create_async_engine(self._conninfo, connect_args=self.connect_args,
                                     echo=self.show_logger)
        if self.dialect == "sqlite":
            _immediate_transactions(engine)
        return engine

    async def create_schema(self) -> None:
        """Create Chainlit's tables (the documented schema, with this engine's types) where
        missing. Chainlit's layer never creates them; this is for new databases and tests."""
        engine = self._engine or self._make_engine()
        self._engine = engine
        full = chainlit_tables(self.dialect)
        async with engine.begin() as conn:
            await conn.run_sync(full.create_all)
        self._md = None  # reflect again

    async def _tables(self) -> Any:
        if self._md is not None:
            return self._md
        if self._engine is None:
            self._engine = self._make_engine()
        self._reader = self._engine.execution_options(nbchat_read=True)
        from sqlalchemy import inspect

        full = chainlit_tables(self.dialect)
        async with self._engine.begin() as conn:
            def present(sync: Any) -> dict[str, set[str]]:
                insp = inspect(sync)
                names = set(insp.get_table_names())
                return {t: {c["name"] for c in insp.get_columns(t)} for t in full.tables
                        if t in names}
            cols = await conn.run_sync(present)
            missing = [t for t in ("users", "threads", "steps", "elements", "feedbacks")
                       if t not in cols]
            if missing:
                raise RuntimeError(
                    f"{self._conninfo.split('@')[-1]}: no table {', '.join(missing)}; create "
                    "Chainlit's schema (nbchat/data/sql/chainlit_schema*.sql, or await "
                    "layer.create_schema())")
            if "nbchat_activity" not in cols:
                await conn.run_sync(full.tables["nbchat_activity"].create)
                await self._backfill_activity(conn, full)
            self._md = only_present(full, cols)
        return self._md

    async def _backfill_activity(self, conn: Any, md: Any) -> None:
        """Every existing thread gets an activity: its last step's time, else its own."""
        from sqlalchemy import func, select

        t, s = md.tables["threads"], md.tables["steps"]
        last = (select(s.c.threadId, func.max(s.c.createdAt).label("at"))
                .group_by(s.c.threadId).subquery())
        rows = (await conn.execute(select(t.c.id, t.c.createdAt, last.c.at)
                                   .outerjoin(last, last.c.threadId == t.c.id))).all()
        ordered = sorted(rows, key=lambda r: (r[2] or r[1] or "", str(r[0])))
        if ordered:
            await conn.execute(md.tables["nbchat_activity"].insert(), [
                {"threadId": r[0], "activity": i + 1} for i, r in enumerate(ordered)])

    def _tick(self) -> int:
        """A strictly increasing activity stamp (µs since the epoch)."""
        self._clock = max(self._clock + 1, time.time_ns() // 1000)
        return self._clock

    def _upsert(self, table: Any, rows: Sequence[dict[str, Any]], *,
                key: str = "id", update: Iterable[str] | None = None) -> Any:
        """INSERT … ON CONFLICT/DUPLICATE KEY UPDATE of `update` columns (all but key when
        None; none: insert if absent) for rows that share their keys."""
        cols = list(rows[0])
        upd = [c for c in (cols if update is None else update) if c != key]
        if self.dialect in ("mysql", "mariadb"):
            from sqlalchemy.dialects.mysql import insert as my_insert

            stmt = my_insert(table)
            if not upd:
                return stmt.prefix_with("IGNORE")
            return stmt.on_duplicate_key_update({c: stmt.inserted[c] for c in upd})
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert
            ins: Any = pg_insert(table)
        else:
            from sqlalchemy.dialects.sqlite import insert as lite_insert
            ins = lite_insert(table)
        if not upd:
            return ins.on_conflict_do_nothing(index_elements=[key])
        return ins.on_conflict_do_update(index_elements=[key],
                                         set_={c: ins.excluded[c] for c in upd})

    async def _run_upsert(self, conn: Any, table: Any, rows: list[dict[str, Any]],
                          **kw: Any) -> None:
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(tuple(row), []).append(row)
        for same in groups.values():
            await conn.execute(self._upsert(table, same, **kw), same)
