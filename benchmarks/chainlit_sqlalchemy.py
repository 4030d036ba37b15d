"""SQLAlchemyDataLayer against Chainlit's own SQLAlchemy layer, same workload, same run.

    python3 -m venv /tmp/clenv
    /tmp/clenv/bin/pip install chainlit aiosqlite "sqlalchemy[asyncio]"   # Chainlit's side
    .venv/bin/python benchmarks/chainlit_sqlalchemy.py [--chainlit-python /tmp/clenv/bin/python]
                                                       [--postgres]

Both layers get Chainlit's documented schema (src/nbchat/data/sql/chainlit_schema.sql)
in a fresh SQLite file. Chainlit's layer runs in a subprocess under the Chainlit venv (this
same file with `--worker`, which imports only Chainlit and the standard library).

1. Step writes: 200 threads × 50 steps = 10,000 steps, issued as the runtime issues them
   (Chainlit: one task per `create_step`, as `Step.send` does; nbchat: `create_step` on
   the AdaptedDataLayer its hosts use), then waited for; stored rows are counted.
2. A page of threads at 10,000 threads (one user, one step each, rows written directly):
   `list_threads(first=20)` and `first=200`, p50/p99 over repeated calls. nbchat's first
   open backfills its nbchat_activity index (timed once, reported apart).
Today's SQLiteDataLayer (nbchat's own schema) runs the step writes too, for comparison.
`--postgres` also runs nbchat's layer on a throwaway PostgreSQL database (127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "src" / "nbchat" / "data" / "sql" / "chainlit_schema.sql"
THREADS, PER_THREAD, SCALE = 200, 50, 10_000
USER = "11111111-1111-4111-8111-111111111111"


def make_steps(seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    words = ["".join(rng.choice("abcdefghij") for _ in range(6)) for _ in range(500)]
    out = []
    for t in range(THREADS):
        tid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        for i in range(PER_THREAD):
            at = f"2026-01-01T00:{t % 60:02d}:{i % 60:02d}.{i:03d}Z"
            out.append({
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "threadId": tid,
                "parentId": None, "name": "step", "type": "assistant_message",
                "input": " ".join(rng.choices(words, k=6)),
                "output": " ".join(rng.choices(words, k=12)), "isError": False,
                "createdAt": at, "start": at, "end": at, "metadata": {"i": i},
                "tags": None, "language": None, "generation": None, "showInput": False,
                "defaultOpen": False, "streaming": False, "waitForAnswer": False})
    return out


def new_db(folder: Path, name: str) -> Path:
    path = folder / name
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA.read_text().split("-- Not in Chainlit's")[0])
        conn.execute("INSERT INTO users VALUES (?, 'ann', '{}', '2026-01-01T00:00:00Z')",
                     (USER,))
    return path


def fill_threads(path: Path) -> None:
    """10,000 threads of user ann with one step each, written as Chainlit's rows."""
    rng = random.Random(11)
    threads, steps = [], []
    for n in range(SCALE):
        tid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        at = f"2026-02-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00.{n % 1000:03d}Z"
        threads.append((tid, at, f"thread {n}", USER, "ann", "{}"))
        steps.append((str(uuid.UUID(int=rng.getrandbits(128), version=4)), "step",
                      "user_message", tid, 0, f"hello {n}", at))
    with sqlite3.connect(path) as conn:
        conn.executemany('INSERT INTO threads ("id", "createdAt", "name", "userId", '
                         '"userIdentifier", "metadata") VALUES (?, ?, ?, ?, ?, ?)', threads)
        conn.executemany('INSERT INTO steps ("id", "name", "type", "threadId", "streaming", '
                         '"output", "createdAt") VALUES (?, ?, ?, ?, ?, ?, ?)', steps)


def count_steps(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM steps").fetchone()[0])


def percentiles(lat: list[float]) -> dict[str, float]:
    lat = sorted(lat)
    return {"p50_ms": statistics.median(lat) * 1000,
            "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000}


async def time_pages(layer: Any, pagination: Any, thread_filter: Any,
                     pages: int) -> dict[str, Any]:
    """p50/p99 of list_threads(first=20 and 200) for user ann (either side's types)."""
    out = {}
    for first in (20, 200):
        lat = []
        for _ in range(pages):
            t = time.perf_counter()
            page = await layer.list_threads(pagination(first=first),
                                            thread_filter(userId=USER))
            lat.append(time.perf_counter() - t)
        assert len(page.data) == first
        out[f"page{first}"] = percentiles(lat)
    return out


# -- Chainlit's side (run under the Chainlit venv) --------------------------------------------

async def chainlit_worker(folder: Path, pages: int) -> dict[str, Any]:
    from chainlit.context import init_http_context
    from chainlit.data.sql_alchemy import SQLAlchemyDataLayer
    from chainlit.types import Pagination, ThreadFilter

    init_http_context()
    db = new_db(folder, "chainlit_steps.db")
    layer = SQLAlchemyDataLayer(f"sqlite+aiosqlite:///{db}")
    steps = make_steps()
    start = time.perf_counter()
    await asyncio.gather(*[asyncio.create_task(layer.create_step(dict(s))) for s in steps])
    writes = time.perf_counter() - start
    await layer.close()
    stored = count_steps(db)
    db = new_db(folder, "chainlit_pages.db")
    fill_threads(db)
    layer = SQLAlchemyDataLayer(f"sqlite+aiosqlite:///{db}", user_thread_limit=SCALE)
    out: dict[str, Any] = {"steps_s": writes, "stored": stored}
    out.update(await time_pages(layer, Pagination, ThreadFilter, pages))
    await layer.close()
    return out


# -- nbchat's side -----------------------------------------------------------------------

async def nbchat_run(url: str, pages: int, fill: Path | None, label: str) -> dict[str, Any]:
    """SQLAlchemyDataLayer at `url` behind AdaptedDataLayer (as hosts use it); a plain
    path: today's SQLiteDataLayer (nbchat's own schema), for comparison."""
    from nbchat.data import AdaptedDataLayer, LocalStorage, QueuedDataLayer, SQLiteDataLayer
    from nbchat.data.sql_alchemy import SQLAlchemyDataLayer
    from nbchat.types import Pagination, StepDict, ThreadFilter

    folder = Path(tempfile.mkdtemp())
    layer: QueuedDataLayer
    if "://" in url:
        layer = AdaptedDataLayer(SQLAlchemyDataLayer(url), LocalStorage(folder / "files"))
    else:
        layer = SQLiteDataLayer(url, LocalStorage(folder / "files"))
    steps = make_steps()
    start = time.perf_counter()
    for s in steps:
        await layer.create_step(StepDict(**s))  # type: ignore[typeddict-item]
    await layer.flush()
    writes = time.perf_counter() - start
    total = 0
    for tid in {s["threadId"] for s in steps}:
        thread = await layer.get_thread(tid)
        total += len(thread["steps"] or []) if thread else 0
    await layer.close()
    out: dict[str, Any] = {"label": label, "steps_s": writes, "stored": total}
    if fill is None:
        return out
    fill_threads(fill)
    layer = AdaptedDataLayer(SQLAlchemyDataLayer(f"sqlite+aiosqlite:///{fill}"),
                             LocalStorage(folder / "files"))
    t = time.perf_counter()
    await layer.list_threads(Pagination(first=1), ThreadFilter(userId=USER))
    out["backfill_s"] = time.perf_counter() - t
    out.update(await time_pages(layer, Pagination, ThreadFilter, pages))
    await layer.close()
    return out


async def postgres_url() -> tuple[str, str]:
    import asyncpg

    name = f"nbchat_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}")
    sql = (ROOT / "src/nbchat/data/sql/chainlit_schema.sql").read_text()
    await conn.execute(sql.split("-- Not in Chainlit's")[0])
    await conn.close()
    return name, f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def drop_postgres(name: str) -> None:
    import asyncpg

    admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chainlit-python", default="/tmp/clenv/bin/python")
    parser.add_argument("--pages", type=int, default=50, help="list_threads calls per size")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--worker", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:  # Chainlit's side, in its own venv
        print(json.dumps(asyncio.run(chainlit_worker(args.worker, args.pages))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        proc = subprocess.run([args.chainlit_python, __file__, "--worker", str(folder),
                               "--pages", str(max(5, args.pages // 5))],
                              capture_output=True, text=True, check=False,
                              cwd=folder)  # (Chainlit writes .chainlit/ there)
        if proc.returncode != 0:
            sys.exit(f"Chainlit's side failed (is {args.chainlit_python} a venv with "
                     f"chainlit?):\n{proc.stderr[-2000:]}")
        chainlit = json.loads(proc.stdout.strip().splitlines()[-1])
        runs = [asyncio.run(nbchat_run(f"sqlite+aiosqlite:///{new_db(folder, 'n.db')}",
                                       args.pages, new_db(folder, "np.db"),
                                       "nbchat SQLAlchemy sqlite")),
                asyncio.run(nbchat_run(str(folder / "native.db"), args.pages, None,
                                       "nbchat SQLiteDataLayer"))]
        if args.postgres:
            name, url = asyncio.run(postgres_url())
            try:
                runs.append(asyncio.run(nbchat_run(url, args.pages, None, "nbchat postgres")))
            finally:
                asyncio.run(drop_postgres(name))
    n = THREADS * PER_THREAD
    print(f"{'layer':<28}{'10k step writes':>16}{'stored':>9}{'x Chainlit':>12}"
          f"{'page20 p50/p99 ms':>20}{'page200 p50/p99 ms':>21}")

    def page(r: dict[str, Any], k: str) -> str:
        return f"{r[k]['p50_ms']:.2f}/{r[k]['p99_ms']:.2f}" if k in r else "-"

    print(f"{'chainlit sqlite':<28}{chainlit['steps_s']:>15.2f}s{chainlit['stored']:>9}"
          f"{1:>12.1f}{page(chainlit, 'page20'):>20}{page(chainlit, 'page200'):>21}")
    for r in runs:
        print(f"{r['label']:<28}{r['steps_s']:>15.2f}s{r['stored']:>9}"
              f"{chainlit['steps_s'] / r['steps_s']:>12.1f}{page(r, 'page20'):>20}"
              f"{page(r, 'page200'):>21}")
        if "backfill_s" in r:
            print(f"  (first open at 10k threads: nbchat_activity backfill {r['backfill_s']:.2f}s)")
        assert r["stored"] == n, f"{r['label']} stored {r['stored']} of {n} steps"


if __name__ == "__main__":
    main()
