"""Crash durability (SIGKILL after acknowledged durable writes) and two-process SQLite use."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from nbchat.data import QueuedDataLayer
from nbchat.ids import new_id
from nbchat.types import Pagination, ThreadFilter

WORKER = str(Path(__file__).with_name("worker.py"))


async def _spawn(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, WORKER, *args,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


async def test_acknowledged_messages_survive_sigkill(
    backend: str, tmp_path: Path, make_layer: Callable[..., QueuedDataLayer]
) -> None:
    n = 40
    thread_id = new_id()
    proc = await _spawn("ack", backend, thread_id, str(n))
    assert proc.stdout is not None
    assert proc.stderr is not None
    for i in range(n):  # wait on the child's own acknowledgements, never on a clock
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if not line:
            pytest.fail(f"worker died: {(await proc.stderr.read()).decode()}")
        assert line.decode().strip() == f"ack {i}"
    proc.send_signal(signal.SIGKILL)
    assert await proc.wait() == -signal.SIGKILL

    layer = make_layer(backend, tmp_path / "files")
    try:
        thread = await layer.get_thread(thread_id)
        assert thread is not None
        outputs = [s["output"] for s in thread["steps"]]
        durable = [o for o in outputs if o.startswith("message")]
        assert durable == [f"message {i}" for i in range(n)]
    finally:
        await layer.close()


async def test_two_processes_share_one_sqlite_file(
    tmp_path: Path, make_layer: Callable[..., QueuedDataLayer]
) -> None:
    # A fresh file: the two processes also race to create it and run the migrations.
    backend = f"sqlite:{tmp_path / 'shared' / 'nbchat.db'}"
    n = 150
    procs = [await _spawn("churn", backend, tag, str(n)) for tag in ("alpha", "beta")]
    results = [await asyncio.wait_for(p.communicate(), 120) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err.decode()
        assert b"database is locked" not in err
        assert out.startswith(b"done")
    layer = make_layer(backend, tmp_path / "files")
    try:
        page = await layer.list_threads(Pagination(10), ThreadFilter())
        assert sorted(t["name"] or "" for t in page.data) == ["churn alpha", "churn beta"]
        for t in page.data:
            full = await layer.get_thread(t["id"])
            assert full is not None
            assert len(full["steps"]) == 2 * n
    finally:
        await layer.close()
