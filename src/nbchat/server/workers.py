"""`nbchat serve --workers N`: N processes serving one port, and what they need to share.

The parent process reserves the port (a socket bound with SO_REUSEPORT, never listening,
so the kernel routes no connection to it), then forks N workers. Each worker loads the
app, binds its own listening socket to that port with SO_REUSEPORT and serves; the kernel
spreads new connections over the workers' sockets. The parent only supervises: SIGINT or
SIGTERM goes on to every worker (each shuts down gracefully, as one process does), and a
worker that dies otherwise (a crash, kill -9) is started again.

More than one worker needs state they can all see (`check_workers`): Redis
(`server.redis_url`) for sign-outs, the limiter, OAuth states, the session directory and
the session bus, and a database every process can write (PostgreSQL, or persistence off),
not the default SQLite file. Linux only (SO_REUSEPORT balancing).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import TextIO

from nbchat.config import Config
from nbchat.errors import ConfigError

# Workers killed by a signal (a crash, kill -9, the OOM killer) are started again at most
# this many times in all; one that exits with a status (an app that fails to load) stops
# the others: starting it again would fail the same way.
MAX_RESTARTS = 20


def check_workers(config: Config, workers: int, *, watch: bool = False) -> None:
    """ConfigError saying what to set when `workers` processes cannot share this config."""
    if workers < 1:
        raise ConfigError(f"--workers {workers}: give 1 or more")
    if workers == 1:
        return
    if not hasattr(socket, "SO_REUSEPORT") or not sys.platform.startswith("linux"):
        raise ConfigError("--workers above 1 needs Linux (SO_REUSEPORT); elsewhere run one "
                          "process per port behind a load balancer (docs/deploying.md)")
    if watch:
        raise ConfigError("--watch reloads one process; use it with --workers 1")
    if not config.server.redis_url:
        raise ConfigError(
            f"--workers {workers} needs shared state: set server.redis_url (or "
            "NBCHAT_REDIS_URL, e.g. redis://127.0.0.1:6379/0). Without it each worker "
            "would keep its own sign-outs, sign-in limits and chat sessions "
            "(docs/deploying.md)")
    url = config.data.url or ""
    if config.data.enabled and (not url or url.startswith("sqlite")):
        raise ConfigError(
            f"--workers {workers} needs a database every worker can write: set data.url "
            "(or NBCHAT_DATABASE_URL) to postgresql://…, or turn persistence off "
            "(data.enabled: false); the default SQLite file belongs to one process")


def reserve_port(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) with SO_REUSEPORT that never listens: it holds the
    port (port 0: picks one) while workers come and go."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def supervise(workers: int, run_worker: Callable[[int], int], out: TextIO = sys.stdout) -> int:
    """Fork `workers` processes running `run_worker(index)` (its return value is the
    process's exit status) and keep them running until SIGINT or SIGTERM; returns 0 once
    every worker has stopped after a signal, else the failing worker's status."""
    children: dict[int, int] = {}  # pid → worker index
    stopping = False
    failures = 0
    result = 0

    def start(index: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            status = 1
            try:
                status = run_worker(index)
            finally:
                os._exit(status)
        children[pid] = index
        out.write(f"nbchat: worker {index} started (pid {pid})\n")
        out.flush()

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    for index in range(workers):
        start(index)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:  # a signal: its handler ran, wait again
            continue
        index = children.pop(pid)
        if stopping:
            continue
        if not os.WIFSIGNALED(status):
            result = os.WEXITSTATUS(status) or 1
            out.write(f"nbchat: worker {index} (pid {pid}) exited with status "
                      f"{os.WEXITSTATUS(status)}; stopping the others\n")
            stop(signal.SIGTERM, None)
            continue
        failures += 1
        if failures > MAX_RESTARTS:
            out.write(f"nbchat: workers were killed {failures} times; stopping\n")
            result = 1
            stop(signal.SIGTERM, None)
            continue
        out.write(f"nbchat: worker {index} (pid {pid}) was killed by signal "
                  f"{os.WTERMSIG(status)}; starting it again\n")
        out.flush()
        start(index)
    return result
