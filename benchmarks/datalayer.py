"""Data layer benchmark (issue 4 §8), for SQLite and PostgreSQL.

    .venv/bin/python benchmarks/datalayer.py                 # both backends, the workload
    .venv/bin/python benchmarks/datalayer.py --backend sqlite
    .venv/bin/python benchmarks/datalayer.py --scale         # + list/search at 100k threads
    .venv/bin/python benchmarks/datalayer.py --backend sqlite --scale-only --scale-db /tmp/s.db
                                          # only the scale part; load the file once, reuse it
    .venv/bin/python benchmarks/datalayer.py --backend postgres --scale-only --pg-scale-db s
                                          # the same with a kept PostgreSQL database "s"

Workload: 1 user; 200 threads of 50 steps (10,000 steps) created as the runtime creates
them; 2,000 update_step; 1,000 feedback upserts; list_threads (first=20) paging, 100
times; search, 100 times; get_thread for 200 threads; delete_thread for 50. Steps are
persisted twice: "runtime" (each of the 5 user messages per thread durable before the
rest, as before on_message) and "bulk" (all queued, one flush). The raw baseline writes the
same 10,000 rows into the same schema (indexes and full-text triggers included) with
sqlite3 executemany in one transaction, or asyncpg copy. PostgreSQL: a throwaway
database on 127.0.0.1:5432 (user postgres), dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from nbchat.data import PostgresDataLayer, QueuedDataLayer, SQLiteDataLayer
from nbchat.data.rows import STEP_COLUMNS, step_params
from nbchat.data.validation import Limits, normalize_step
from nbchat.ids import new_id, utc_now
from nbchat.types import Pagination, StepDict, ThreadFilter, User

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
rng = random.Random(4)
WORDS = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 9)))
         for _ in range(5000)]
TYPES = ["user_message", "run", "tool", "llm", "assistant_message"]


def text(n: int = 12) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def make_step(thread_id: str, i: int) -> StepDict:
    return {
        "id": new_id(), "threadId": thread_id, "parentId": None, "name": TYPES[i % 5],
        "type": TYPES[i % 5], "input": text(6), "output": text(), "isError": False,
        "createdAt": utc_now(), "start": utc_now(), "end": utc_now(),
        "metadata": {"i": i}, "tags": None, "language": None, "generation": None,
        "showInput": False, "defaultOpen": False, "streaming": False, "waitForAnswer": False,
    }


class Timer:
    def __init__(self) -> None:
        self.rows: list[tuple[str, int, float, float, float]] = []

    async def each(self, name: str, fn: Callable[[Any], Awaitable[Any]], items: list[Any]) -> None:
        lat, cpu = [], []
        start = time.perf_counter()
        for item in items:
            t, c = time.perf_counter(), time.process_time()
            await fn(item)
            lat.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        self.add(name, len(items), time.perf_counter() - start, lat, cpu)

    def add(self, name: str, n: int, total: float, lat: list[float] | None = None,
            cpu: list[float] | None = None) -> None:
        """Wall-clock p50/p99, and with `cpu` the same for CPU time: the process's CPU time
        over all its threads (aiosqlite's included), which load from other programs on a
        shared machine does not inflate (it still pays for cache misses and I/O waits are
        left out)."""
        lat = sorted(lat or [total / n])
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        self.rows.append((name, n, n / total, statistics.median(lat) * 1e3, p99 * 1e3))
        line = (f"  {name:<34} {n:>7} ops {n / total:>11,.0f} ops/s   p50 "
                f"{statistics.median(lat) * 1e3:8.3f} ms   p99 {p99 * 1e3:8.3f} ms")
        if cpu:
            cpu = sorted(cpu)
            line += (f"   cpu p50 {statistics.median(cpu) * 1e3:7.3f} ms"
                     f"  p99 {cpu[min(len(cpu) - 1, int(len(cpu) * 0.99))] * 1e3:7.3f} ms")
        print(line, flush=True)


async def workload(layer: QueuedDataLayer, label: str) -> float:
    """Run the §8 workload; return the 'bulk' 10,000-step time for the ratio."""
    print(f"\n== {label}")
    t = Timer()
    user = await layer.create_user(User("bench"))
    threads = [new_id() for _ in range(200)]
    steps: list[StepDict] = []
    start = time.perf_counter()
    for tid in threads:  # runtime-shaped: name the thread, user message durable, then steps
        await layer.update_thread(tid, name=text(4), user_id=user.id)
        for i in range(50):
            s = make_step(tid, i)
            steps.append(s)
            await layer.create_step(s, durable=s["type"] == "user_message")
    await layer.flush()
    runtime_s = time.perf_counter() - start
    t.add("create_step (runtime: 1,000 durable)", 10_000, runtime_s)

    bulk_s, queued_s = await bulk_steps(layer)
    t.add("create_step (bulk, queued + flush)", 10_000, bulk_s)
    print(f"    of which validating + queueing {queued_s:.3f} s, "
          f"the flush (one transaction) {bulk_s - queued_s:.3f} s")

    # Streaming-style updates: the runtime sends the whole step dict each time.
    updates = [{**s, "output": text()} for s in rng.sample(steps, 2000)]
    await t.each("update_step", layer.update_step, updates)
    await layer.flush()
    rated = [{"forId": s["id"], "value": rng.randint(0, 1)} for s in rng.sample(steps, 1000)]
    await t.each("upsert_feedback", layer.upsert_feedback, rated)

    async def listing(cursor: str | None) -> Any:
        return await layer.list_threads(Pagination(20, cursor), ThreadFilter(userId=user.id))

    async def search(words: str) -> Any:
        return await layer.list_threads(Pagination(20), ThreadFilter(search=words))

    await t.each("list_threads first=20 (paging)", listing, await _cursors(layer, user.id))
    await t.each("search (one word)", search, [rng.choice(WORDS) for _ in range(100)])
    await t.each("get_thread (50 steps)", layer.get_thread, threads)
    await t.each("delete_thread", layer.delete_thread, threads[:50])
    return bulk_s


async def bulk_steps(layer: QueuedDataLayer) -> tuple[float, float]:
    """10,000 steps in 200 new threads, all queued, then one flush: (total s, queueing s)."""
    bulk = [make_step(tid, i) for tid in [new_id() for _ in range(200)] for i in range(50)]
    start = time.perf_counter()
    for s in bulk:
        await layer.create_step(s)
    queued = time.perf_counter()
    await layer.flush()
    return time.perf_counter() - start, queued - start


async def ratio_rounds(layer: QueuedDataLayer, raw: Callable[[], Awaitable[float]],
                       rounds: int) -> None:
    """--rounds: bulk and raw baseline again, alternating, into the same database; one
    ratio is at the mercy of a busy core or a GIN pending-list merge, the median less so."""
    if rounds < 1:
        return
    ratios = []
    for r in range(rounds):
        bulk_s, queued_s = await bulk_steps(layer)
        raw_s = await raw()
        ratios.append(bulk_s / raw_s)
        print(f"  round {r + 1}: bulk {bulk_s:.3f} s (validating + queueing {queued_s:.3f} s),"
              f" raw {raw_s:.3f} s, ratio {ratios[-1]:.2f}x", flush=True)
    print(f"  ratio over {rounds} rounds: best {min(ratios):.2f}x, median "
          f"{statistics.median(ratios):.2f}x, worst {max(ratios):.2f}x (budget 2x; load "
          f"average {' '.join(Path('/proc/loadavg').read_text().split()[:3])})")


async def _cursors(layer: QueuedDataLayer, user_id: str) -> list[str | None]:
    """100 cursors: every page of the user's 400 threads, round-robin."""
    cursors: list[str | None] = [None]
    while True:
        page = await layer.list_threads(Pagination(20, cursors[-1]), ThreadFilter(userId=user_id))
        if not page.pageInfo.hasNextPage:
            break
        cursors.append(page.pageInfo.endCursor)
    return [cursors[i % len(cursors)] for i in range(100)]


def sqlite_raw(path: Path, rows: list[tuple[Any, ...]], threads: list[str]) -> float:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    now = utc_now()
    db.executemany("INSERT INTO threads (id, created_at, updated_at) VALUES (?, ?, ?)",
                   [(t, now, now) for t in threads])
    cols = ", ".join(STEP_COLUMNS)
    sql = f"INSERT INTO steps ({cols}) VALUES ({', '.join('?' * len(STEP_COLUMNS))})"
    start = time.perf_counter()
    db.execute("BEGIN")
    db.executemany(sql, rows)
    db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


async def run_sqlite(scale: bool, workload_too: bool = True,
                     scale_db: Path | None = None, rounds: int = 0) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if scale:
            await scale_sqlite(scale_db or Path(tmp) / "scale.db")
        if not workload_too:
            return
        layer = SQLiteDataLayer(Path(tmp) / "bench.db", Path(tmp) / "files")
        bulk_s = await workload(layer, "SQLite (aiosqlite, WAL)")
        raw_path = Path(tmp) / "raw.db"
        init = SQLiteDataLayer(raw_path)
        await init.get_thread("x")  # create the same schema
        await init.close()
        rows, threads = _raw_rows()
        raw_s = sqlite_raw(raw_path, rows, threads)
        print(f"  raw sqlite3 executemany, same schema   10000 rows {10_000 / raw_s:>11,.0f} "
              f"rows/s\n  ratio bulk layer / raw: {bulk_s / raw_s:.2f}x (budget 2x)")

        async def raw() -> float:
            return sqlite_raw(raw_path, *_raw_rows())

        await ratio_rounds(layer, raw, rounds)
        await layer.close()


def _raw_rows() -> tuple[list[tuple[Any, ...]], list[str]]:
    threads = [new_id() for _ in range(200)]
    lim = Limits()
    rows = [step_params(normalize_step(make_step(t, i), lim)) for t in threads for i in range(50)]
    return rows, threads


async def run_postgres(scale: bool, workload_too: bool = True,
                       scale_db: str | None = None, rounds: int = 0) -> None:
    import asyncpg

    if scale and scale_db is not None:
        await _kept_postgres_scale(scale_db)
        if not workload_too:
            return
        scale = False
    name = f"nbchat_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        layer = PostgresDataLayer(url)
        if not workload_too:
            await layer.get_thread("x")  # creates the schema
            await scale_postgres(layer, url)
            await layer.close()
            return
        bulk_s = await workload(layer, "PostgreSQL (asyncpg pool)")
        conn = await asyncpg.connect(url)

        async def raw() -> float:
            rows, threads = _raw_rows()
            now = utc_now()
            await conn.executemany("INSERT INTO threads (id, created_at, updated_at) VALUES "
                                   "($1, $2, $2)", [(t, now) for t in threads])
            start = time.perf_counter()
            await conn.copy_records_to_table("steps", records=rows, columns=list(STEP_COLUMNS))
            return time.perf_counter() - start

        raw_s = await raw()
        print(f"  raw asyncpg copy, same schema          10000 rows {10_000 / raw_s:>11,.0f} "
              f"rows/s\n  ratio bulk layer / raw: {bulk_s / raw_s:.2f}x (budget 2x)")
        await ratio_rounds(layer, raw, rounds)
        await conn.close()
        if scale:
            await scale_postgres(layer, url)
        await layer.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


N_THREADS, STEPS_PER_THREAD = 100_000, 10


def _scale_rows(chunk: int) -> list[tuple[list[str], list[tuple[Any, ...]]]]:
    out = []
    for start in range(0, N_THREADS, chunk):
        threads = [new_id() for _ in range(min(chunk, N_THREADS - start))]
        lim = Limits()
        rows = [step_params(normalize_step(make_step(t, i), lim))
                for t in threads for i in range(STEPS_PER_THREAD)]
        out.append((threads, rows))
    return out


async def measure_scale(layer: QueuedDataLayer, label: str) -> None:
    print(f"\n== {label}: {N_THREADS:,} threads, {N_THREADS * STEPS_PER_THREAD:,} steps")
    t = Timer()

    async def listing(cursor: str | None) -> Any:
        return await layer.list_threads(Pagination(20, cursor), ThreadFilter())

    async def search(words: str) -> Any:
        return await layer.list_threads(Pagination(20), ThreadFilter(search=words))

    await t.each("list_threads first=20 (page 1)", listing, [None] * 200)
    cursors: list[str | None] = [None]
    for _ in range(99):
        page = await layer.list_threads(Pagination(20, cursors[-1]), ThreadFilter())
        cursors.append(page.pageInfo.endCursor)
    await t.each("list_threads first=20 (pages 1-100)", listing, cursors)
    await t.each("search one word", search, [rng.choice(WORDS) for _ in range(200)])
    await t.each("search two words", search,
                 [f"{rng.choice(WORDS)} {rng.choice(WORDS)}" for _ in range(100)])


async def scale_sqlite(path: Path) -> None:
    if path.exists():  # loaded by an earlier run: reuse (and upgrade, when older)
        with sqlite3.connect(path) as db:
            (version,) = db.execute("SELECT max(version) FROM schema_version").fetchone()
        start = time.perf_counter()
        layer = SQLiteDataLayer(path)
        await layer.get_thread("x")  # opens it, running any pending migrations
        print(f"\n  (reused {path}, schema version {version}; opened in "
              f"{time.perf_counter() - start:.1f} s)")
        await measure_scale(layer, "SQLite scale")
        await layer.close()
        return
    init = SQLiteDataLayer(path)
    await init.get_thread("x")
    await init.close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=NORMAL")
    sql = (f"INSERT INTO steps ({', '.join(STEP_COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(STEP_COLUMNS))})")
    start = time.perf_counter()
    for threads, rows in _scale_rows(10_000):
        now = utc_now()
        db.execute("BEGIN")
        db.executemany("INSERT INTO threads (id, created_at, updated_at, name) VALUES "
                       "(?, ?, ?, ?)", [(t, now, now, text(4)) for t in threads])
        db.executemany(sql, rows)
        db.execute("COMMIT")
    db.execute("ANALYZE")
    db.close()
    print(f"\n  (loaded in {time.perf_counter() - start:.0f} s)")
    layer = SQLiteDataLayer(path)
    await measure_scale(layer, "SQLite scale")
    await layer.close()


async def _kept_postgres_scale(name: str) -> None:
    """--pg-scale-db: load the scale data into database `name` once and keep it; a later
    run reuses it (and the layer upgrades an older schema on open, timed)."""
    import asyncpg

    admin = await asyncpg.connect(PG_ADMIN)
    exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
    if not exists:
        await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    if exists:
        conn = await asyncpg.connect(url)
        version = await conn.fetchval("SELECT max(version) FROM schema_version")
        await conn.close()
        start = time.perf_counter()
        layer = PostgresDataLayer(url)
        await layer.get_thread("x")  # opens it, running any pending migrations
        print(f"\n  (reused database {name}, schema version {version}; opened in "
              f"{time.perf_counter() - start:.1f} s)")
        await measure_scale(layer, "PostgreSQL scale")
    else:
        layer = PostgresDataLayer(url)
        await layer.get_thread("x")  # creates the schema
        await scale_postgres(layer, url)
    await layer.close()


async def scale_postgres(layer: PostgresDataLayer, url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    start = time.perf_counter()
    for threads, rows in _scale_rows(10_000):
        now = utc_now()
        await conn.copy_records_to_table("threads", records=[
            (t, now, now, text(4)) for t in threads],
            columns=["id", "created_at", "updated_at", "name"])
        await conn.copy_records_to_table("steps", records=rows, columns=list(STEP_COLUMNS))
    await conn.execute("VACUUM ANALYZE")
    await conn.close()
    print(f"\n  (loaded in {time.perf_counter() - start:.0f} s)")
    await measure_scale(layer, "PostgreSQL scale")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--scale", action="store_true",
                        help="also measure list/search at 100,000 threads and 1,000,000 steps")
    parser.add_argument("--scale-only", action="store_true",
                        help="only the scale measurement (implies --scale)")
    parser.add_argument("--scale-db", type=Path, default=None,
                        help="SQLite: keep the scale database in this file; when it exists, "
                             "reuse it (an older schema is upgraded on open, timed)")
    parser.add_argument("--pg-scale-db", default=None, metavar="NAME",
                        help="PostgreSQL: keep the scale data in database NAME (created on "
                             "127.0.0.1:5432 when missing, never dropped); reuse it later")
    parser.add_argument("--rounds", type=int, default=0, metavar="N",
                        help="after the workload, N more rounds of bulk steps and the raw "
                             "baseline, alternating; prints best/median/worst ratio")
    args = parser.parse_args()
    scale = (args.scale or args.scale_only or args.scale_db is not None
             or args.pg_scale_db is not None)
    print(f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}")
    if args.backend in ("sqlite", "both"):
        asyncio.run(run_sqlite(scale, not args.scale_only, args.scale_db, args.rounds))
    if args.backend in ("postgres", "both"):
        asyncio.run(run_postgres(scale, not args.scale_only, args.pg_scale_db, args.rounds))


if __name__ == "__main__":
    main()
