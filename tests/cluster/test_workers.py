"""`nbchat serve --workers 2` for real: two processes on one port, sharing Redis and
PostgreSQL; a cookie made on one worker works on the other, and a logout on either ends
it on both."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nbchat.config import Config, DataConfig, ServerConfig
from nbchat.errors import ConfigError
from nbchat.server.workers import check_workers

from .cluster import APP, SRC, Browser, Cluster

THREADS = "/nbchat/api/threads"


def test_a_cookie_from_one_worker_works_on_the_other_until_logout(cluster: Cluster) -> None:
    first = cluster.http()
    second = cluster.http(browser=first.browser, avoid=first.worker)
    assert first.worker != second.worker
    assert second.request("GET", THREADS)[0] == 401
    first.login("ada")
    status, body = second.request("GET", THREADS)
    assert status == 200, body
    status, _ = first.request("POST", "/logout", {})
    assert status == 303
    assert first.browser.cookies.get("nbchat_session") is None
    # A copy of the signed-out cookie (another tab, a thief) is refused on the other worker.
    stolen = cluster.http(second.worker)
    stolen.browser.cookies.update(_signed_in_copy(cluster, "bob"))
    assert stolen.request("GET", THREADS)[0] == 200
    logout = cluster.http(avoid=second.worker, browser=Browser(dict(stolen.browser.cookies)))
    assert logout.request("POST", "/logout", {})[0] == 303
    assert stolen.request("GET", THREADS)[0] == 401


def _signed_in_copy(cluster: Cluster, name: str) -> dict[str, str]:
    """The cookies of a fresh browser signed in as `name` on any worker."""
    conn = cluster.http()
    conn.login(name)
    conn.close()
    return dict(conn.browser.cookies)


def test_the_supervisor_starts_a_killed_worker_again(cluster: Cluster) -> None:
    import os
    import signal

    pids = cluster.worker_pids()
    victim = next(iter(pids.values()))
    os.kill(victim, signal.SIGKILL)
    cluster.wait_for(rf"worker \d \(pid {victim}\) was killed by signal 9; starting it again")
    cluster.wait_serving(1)
    now = cluster.worker_pids()
    assert victim not in now.values()
    assert len(now) == 2


def _config(tmp_path: Path, **server: str) -> Config:
    return Config(server=ServerConfig(**server), app_dir=tmp_path)  # type: ignore[arg-type]


def test_more_workers_need_redis_and_a_shared_database(tmp_path: Path) -> None:
    check_workers(_config(tmp_path), 1)  # one process: as ever
    with pytest.raises(ConfigError, match=r"needs shared state: set server\.redis_url"):
        check_workers(_config(tmp_path), 2)
    with pytest.raises(ConfigError, match=r"the default SQLite file belongs to one process"):
        check_workers(_config(tmp_path, redis_url="redis://r"), 2)
    shared_db = Config(server=ServerConfig(redis_url="redis://r"),
                       data=DataConfig(url="postgresql://db/x"), app_dir=tmp_path)
    check_workers(shared_db, 3)
    check_workers(Config(server=ServerConfig(redis_url="redis://r"),
                         data=DataConfig(enabled=False), app_dir=tmp_path), 2)
    with pytest.raises(ConfigError, match=r"--watch reloads one process"):
        check_workers(shared_db, 2, watch=True)
    with pytest.raises(ConfigError, match=r"give 1 or more"):
        check_workers(shared_db, 0)


def test_the_command_says_what_to_set(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    done = subprocess.run(
        [sys.executable, "-m", "nbchat.cli", "serve", "app.py", "--workers", "2"],
        cwd=tmp_path, env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "--workers 2 needs shared state: set server.redis_url (or NBCHAT_REDIS_URL" in (
        done.stderr)
