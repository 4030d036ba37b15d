"""Copy a database of Chainlit's SQLAlchemy schema into nbchat's own (faster) schema.

    nbchat migrate-from-chainlit sqlite+aiosqlite:///chainlit.db sqlite:///.nbchat/nbchat.db
    nbchat migrate-from-chainlit postgresql+asyncpg://u@h/chainlit postgresql://u@h/nbchat

or `await migrate_from_chainlit(src_url, dst_url, app_dir)`. The source (any engine
SQLAlchemyDataLayer reads) is only read. Users, threads (name, owner, tags, metadata),
steps, feedback and elements are written through the destination layer's own API, so
everything is validated as any write is, and ids are kept (users get the destination's
ids; threads are re-pointed to them). Elements keep their `url`/`objectKey`: the bytes stay
where Chainlit's storage provider put them. A thread already in the destination is
skipped, so an interrupted run can be started again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from nbchat.types import ElementDict, FeedbackDict, StepDict, User


@dataclass
class MigrationReport:
    users: int = 0
    threads: int = 0
    steps: int = 0
    elements: int = 0
    feedback: int = 0
    skipped_threads: int = 0

    def __str__(self) -> str:
        return (f"{self.users} users, {self.threads} threads, {self.steps} steps, "
                f"{self.elements} elements, {self.feedback} feedback"
                + (f" ({self.skipped_threads} threads already there)"
                   if self.skipped_threads else ""))


async def migrate_from_chainlit(src_url: str, dst_url: str,
                                app_dir: Path | str = ".") -> MigrationReport:
    """Copy everything from the Chainlit-schema database at `src_url` (a SQLAlchemy URL)
    to nbchat's layer for `dst_url` (a `data.url`: SQLite path/URL or postgresql://)."""
    from sqlalchemy import select

    from nbchat.data import make_data_layer
    from nbchat.data.sql_alchemy import SQLAlchemyDataLayer

    src = SQLAlchemyDataLayer(src_url)
    dst = make_data_layer(dst_url, Path(app_dir))
    report = MigrationReport()
    try:
        md = await src._tables()
        users, threads = md.tables["users"], md.tables["threads"]
        async with src._reader.connect() as conn:
            user_rows = (await conn.execute(select(users))).all()
            thread_ids = (await conn.execute(
                select(threads.c.id).order_by(threads.c.createdAt))).scalars().all()
        user_ids: dict[str, str] = {}
        for row in user_rows:
            old = src._user(row._mapping)
            new = await dst.create_user(User(old.identifier, old.display_name, old.metadata))
            user_ids[old.id] = new.id
            report.users += 1
        for tid in map(str, thread_ids):
            if await dst.get_thread(tid) is not None:
                report.skipped_threads += 1
                continue
            thread = await src.get_thread(tid)
            if thread is None:  # deleted meanwhile
                continue
            await dst.update_thread(tid, name=thread["name"],
                                    user_id=user_ids.get(thread["userId"] or ""),
                                    metadata=thread["metadata"] or {}, tags=thread["tags"])
            for step in thread["steps"]:
                feedback = step.get("feedback")
                await dst.create_step(_step(step))
                report.steps += 1
                if feedback:
                    await dst.upsert_feedback(cast(FeedbackDict, {
                        "forId": step["id"], "threadId": tid, "value": feedback["value"],
                        "comment": feedback.get("comment")}))
                    report.feedback += 1
            for element in thread["elements"] or []:
                await dst.create_element(_element(element, tid))
                report.elements += 1
            await dst.flush()  # per thread: a failure stops the run with what is written
            report.threads += 1
    finally:
        await src.close()
        await dst.close()
    return report


def _step(step: StepDict) -> StepDict:
    """The step as nbchat's layer takes it (Chainlit's extra columns dropped)."""
    keep = ("id", "threadId", "parentId", "name", "type", "input", "output", "isError",
            "createdAt", "start", "end", "metadata", "tags", "language", "generation",
            "showInput", "defaultOpen", "streaming", "waitForAnswer", "command")
    out: dict[str, Any] = {k: step.get(k) for k in keep if k in step}
    out["generation"] = out.get("generation") or None  # Chainlit stores {} for none
    out["showInput"] = out.get("showInput") if out.get("showInput") is not None else False
    return cast(StepDict, out)


def _element(element: ElementDict, thread_id: str) -> ElementDict:
    out: dict[str, Any] = {k: v for k, v in element.items() if v is not None}
    out["threadId"] = thread_id
    return cast(ElementDict, out)
