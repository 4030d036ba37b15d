"""Chainlit's documented SQL schema as SQLAlchemy Core tables, per engine, and row ↔ dict.

The tables are Chainlit's (`users`, `threads`, `steps`, `elements`, `feedbacks`, camelCase
columns). Where an engine lacks a type of Chainlit's DDL the equivalent is used: on
PostgreSQL UUID, JSONB and TEXT[]; on SQLite and MySQL/MariaDB ids are text (CHAR(36)),
JSON and lists are JSON text. Only the columns a database really has are read or
written (`present`, from reflection): Chainlit's own layer writes keys its documented
schema lacks (`autoCollapse`) and reads a `props` column it never created. Step keys
without a column are kept in the step's metadata under `EXTRA_KEY`, so nothing given is
lost.

One table is nbchat's own: `nbchat_activity` (thread id → last write, indexed), created
next to Chainlit's and backfilled from `steps`, so a page of threads newest first is an
index range scan instead of Chainlit's MAX over every step of every thread.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

EXTRA_KEY = "nbchat:extra"  # step keys the table has no column for, inside metadata


class JSONText(TypeDecorator[Any]):
    """JSON kept as text (SQLite, MySQL/MariaDB): encoded and decoded here, so a value
    that was written as text by another client (Chainlit) reads back the same."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None or not isinstance(value, str | bytes):
            return value
        try:
            return json.loads(value)
        except ValueError:
            return value  # not JSON (a hand-written row): as stored


def _types(engine: str) -> tuple[TypeEngine[Any], TypeEngine[Any], TypeEngine[Any]]:
    """(id, json, list of text) column types for an engine name."""
    if engine == "postgresql":
        return postgresql.UUID(as_uuid=False), postgresql.JSONB(), postgresql.ARRAY(Text)
    if engine in ("mysql", "mariadb"):
        return String(36), JSONText(), JSONText()
    return Text(), JSONText(), JSONText()


def chainlit_tables(engine: str) -> MetaData:
    """Chainlit's five tables (every column any 2.x release has) and nbchat_activity."""
    uid, js, tags = _types(engine)
    key = String(255) if engine in ("mysql", "mariadb") else Text()  # MySQL: no TEXT keys
    md = MetaData()
    Table("users", md, Column("id", uid, primary_key=True),
          Column("identifier", key, nullable=False, unique=True),
          Column("metadata", js, nullable=False), Column("createdAt", Text))
    Table("threads", md, Column("id", uid, primary_key=True), Column("createdAt", Text),
          Column("name", Text), Column("userId", uid), Column("userIdentifier", Text),
          Column("tags", tags), Column("metadata", js))
    Table("steps", md, Column("id", uid, primary_key=True),
          Column("name", Text, nullable=False), Column("type", Text, nullable=False),
          Column("threadId", uid, nullable=False), Column("parentId", uid),
          Column("streaming", Boolean, nullable=False), Column("waitForAnswer", Boolean),
          Column("isError", Boolean), Column("metadata", js), Column("tags", tags),
          Column("input", Text), Column("output", Text), Column("createdAt", Text),
          Column("command", Text), Column("start", Text), Column("end", Text),
          Column("generation", js), Column("showInput", Text), Column("language", Text),
          Column("indent", Integer), Column("defaultOpen", Boolean), Column("modes", js),
          Column("autoCollapse", Boolean))
    Table("elements", md, Column("id", uid, primary_key=True), Column("threadId", uid),
          Column("type", Text), Column("url", Text), Column("chainlitKey", Text),
          Column("name", Text, nullable=False), Column("display", Text),
          Column("objectKey", Text), Column("size", Text), Column("page", Integer),
          Column("language", Text), Column("forId", uid), Column("mime", Text),
          Column("props", js), Column("autoPlay", Boolean), Column("playerConfig", js))
    Table("feedbacks", md, Column("id", uid, primary_key=True),
          Column("forId", uid, nullable=False), Column("threadId", uid, nullable=False),
          Column("value", Integer, nullable=False), Column("comment", Text))
    activity = Table("nbchat_activity", md, Column("threadId", uid, primary_key=True),
                     Column("activity", BigInteger, nullable=False))
    Index("nbchat_activity_order", activity.c.activity, activity.c.threadId)
    return md


def only_present(md: MetaData, present: Mapping[str, set[str]]) -> MetaData:
    """The tables restricted to the columns the database has (a missing table: none)."""
    out = MetaData()
    for table in md.tables.values():
        cols = present.get(table.name)
        if cols is None and table.name == "nbchat_activity":
            cols = {c.name for c in table.columns}
        Table(table.name, out, *[c._copy() for c in table.columns if c.name in (cols or ())])
    return out


# -- dict ↔ row ----------------------------------------------------------------------------

STEP_FIELDS = ("id", "name", "type", "threadId", "parentId", "streaming", "waitForAnswer",
               "isError", "metadata", "tags", "input", "output", "createdAt", "command",
               "start", "end", "generation", "showInput", "language", "defaultOpen")
ELEMENT_FIELDS = ("id", "threadId", "type", "url", "chainlitKey", "name", "display",
                  "objectKey", "size", "page", "language", "forId", "mime", "props",
                  "autoPlay", "playerConfig")


def step_row(step: Mapping[str, Any], columns: set[str]) -> dict[str, Any]:
    """The steps row of a StepDict; keys without a column go to metadata[EXTRA_KEY]."""
    row: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for k, v in step.items():
        if k == "feedback":
            continue
        if k in columns:
            row[k] = v
        else:
            extra[k] = v
    show = row.get("showInput")
    if isinstance(show, bool):  # Chainlit's encoding of the TEXT column
        row["showInput"] = "true" if show else "false"
    if extra:
        row["metadata"] = {**(step.get("metadata") or {}), EXTRA_KEY: extra}
    row.setdefault("streaming", False)
    return row


def step_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    """A StepDict from a steps row (written by nbchat or by Chainlit)."""
    out: dict[str, Any] = {k: row.get(k) for k in STEP_FIELDS}
    out.update({k: v for k, v in row.items() if k in ("indent", "modes", "autoCollapse")
                and v is not None})
    meta = dict(out["metadata"] or {}) if isinstance(out["metadata"], dict) else {}
    out.update(meta.pop(EXTRA_KEY, None) or {})
    out["metadata"] = meta
    show = out.get("showInput")
    out["showInput"] = {"true": True, "false": False, None: False}.get(show, show)
    for key in ("isError", "streaming", "waitForAnswer", "defaultOpen"):
        out[key] = bool(out.get(key))
    out["input"] = out.get("input") or ""
    out["output"] = out.get("output") or ""
    return out


def element_row(element: Mapping[str, Any], columns: set[str]) -> dict[str, Any]:
    return {k: v for k, v in element.items() if k in columns and v is not None}


def element_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: row[k] for k in ELEMENT_FIELDS if k in row}
    for k in ("props", "page", "autoPlay", "playerConfig", "chainlitKey"):
        if out.get(k) is None:
            out.pop(k, None)
    out.setdefault("display", "inline")
    return out


def tags_of(value: Any) -> list[str] | None:
    """Thread/step tags as a list (an array, JSON text, or Chainlit's text on SQLite)."""
    if value is None or isinstance(value, list):
        return value
    return [str(value)]


__all__ = ["EXTRA_KEY", "chainlit_tables", "element_dict", "element_row",
           "only_present", "step_dict", "step_row", "tags_of"]
