"""`nbchat serve --workers N`: messages per second and time to first token, 1 vs 2 workers.

    .venv/bin/python benchmarks/workers.py                         # 200 clients, 2 rounds
    .venv/bin/python benchmarks/workers.py --clients 400 --rounds 3 --workers 1 2

Issue 15 §3. Each round starts the real `nbchat serve app.py --workers N --headless` (Redis
at NBCHAT_REDIS_URL, default redis://127.0.0.1:6379/0, under a fresh key prefix;
persistence off, so the database is not what is measured), for N alternating 1, 2, 1, 2…
(ratios are read within one run). The app is serve_load's: on every message it streams
`--tokens` tokens `--interval` s apart, then sends the message. C clients (serve_load's
Client, on this process's event loop) connect, say hello, then all at once send
`--messages` messages one after another; per message TTFT (send → first event of the
reply) and completion are timed. Printed per round: messages/s over the load phase,
TTFT p50/p99, the workers' CPU per message (utime+stime from /proc of every worker), the
client process's CPU, errors, and `os.getloadavg()` before and after.

The machine these numbers come from has 2 cores shared with other sessions (the load
average says how busy they were), and the clients run on the same cores, so 2 workers can
at best approach 2× one worker's rate when the server, not the clients or the neighbours,
is what saturates.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve_load import APP_SOURCE, Client, cpu_seconds, pct, raise_nofile

ROOT = Path(__file__).resolve().parent.parent


def children(pid: int) -> list[int]:
    """The worker processes of a supervisor (its children, from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launch(workers: int, port: int, workdir: Path, redis: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBCHAT_")}
    env.update(PYTHONPATH=str(ROOT / "src"), NBCHAT_REDIS_URL=redis,
               NBCHAT_SERVER_REDIS_PREFIX=f"nbchat-bench-{secrets.token_hex(4)}")
    return subprocess.Popen(
        [sys.executable, "-m", "nbchat.cli", "serve", "app.py", "--headless", "--port",
         str(port), "--workers", str(workers)],
        cwd=workdir, env=env, stdout=(workdir / "server.log").open("wb"),
        stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)


async def serve(workers: int, workdir: Path, args: argparse.Namespace
                ) -> tuple[subprocess.Popen[bytes], int, list[int]]:
    port = free_port()
    proc = launch(workers, port, workdir, args.redis)
    log = workdir / "server.log"
    deadline = time.monotonic() + 60
    while len(re.findall(r"nbchat: serving app\.py", log.read_text())) < workers:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"nbchat serve did not start:\n{log.read_text()}")
        await asyncio.sleep(0.05)  # polls the server's log while it starts
    pids = children(proc.pid) if workers > 1 else [proc.pid]
    return proc, port, pids


async def one_round(workers: int, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench_workers_") as tmp:
        workdir = Path(tmp)
        (workdir / "app.py").write_text(APP_SOURCE.format(tokens=args.tokens,
                                                          interval=args.interval))
        (workdir / "nbchat.yaml").write_text(
            "data:\n  enabled: false\nserver:\n  max_sessions_per_user: 0\n")
        proc, port, pids = await serve(workers, workdir, args)
        try:
            url = f"ws://127.0.0.1:{port}/ws"
            clients = [Client(i, args) for i in range(args.clients)]
            await asyncio.gather(*(c.connect(url) for c in clients))
            load_before = os.getloadavg()[0]
            cpu_before = sum(cpu_seconds(p) for p in pids)
            me_before = time.process_time()
            start = time.perf_counter()
            await asyncio.gather(*(c.converse() for c in clients), return_exceptions=True)
            elapsed = time.perf_counter() - start
            cpu = sum(cpu_seconds(p) for p in pids) - cpu_before
            mine = time.process_time() - me_before
            for c in clients:
                if c.conn is not None:
                    await c.conn.close()
        finally:
            await asyncio.to_thread(stop, proc)
            errors = [line for line in (workdir / "server.log").read_text().splitlines()
                      if "Error" in line or "WARNING" in line]
            if errors:
                print("server log:", *errors[:10], sep="\n  ")
    ttft = [t for c in clients for t in c.ttft]
    messages = len(ttft)
    return {"workers": workers, "messages": messages, "rate": messages / elapsed,
            "p50": pct(ttft, 50), "p99": pct(ttft, 99),
            "cpu_us": cpu / max(messages, 1) * 1e6, "client_cpu": mine,
            "errors": sum(len(c.errors) for c in clients)
            + args.clients * args.messages - messages,
            "load": (load_before, os.getloadavg()[0])}


def show(run: dict[str, Any]) -> str:
    return (f"workers={run['workers']}  {run['messages']} msgs  {run['rate']:7.1f} msg/s  "
            f"TTFT p50 {run['p50'] * 1000:6.1f} ms  p99 {run['p99'] * 1000:6.1f} ms  "
            f"server CPU {run['cpu_us']:6.0f} µs/msg  client CPU {run['client_cpu']:5.1f} s  "
            f"errors {run['errors']}  load {run['load'][0]:.2f}→{run['load'][1]:.2f}")


async def main_async(args: argparse.Namespace) -> int:
    raise_nofile(args.clients * 2 + 256)
    print(f"nbchat --workers benchmark: {args.clients} clients × {args.messages} messages, "
          f"{args.tokens} tokens {args.interval} s apart; {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    runs: list[dict[str, Any]] = []
    for _ in range(args.rounds):
        for workers in args.workers:
            run = await one_round(workers, args)
            runs.append(run)
            print(show(run), flush=True)
    by = {w: [r for r in runs if r["workers"] == w] for w in args.workers}
    if len(args.workers) == 2:
        one, two = (by[w] for w in args.workers)
        rate = sum(r["rate"] for r in two) / sum(r["rate"] for r in one)
        p99 = sum(r["p99"] for r in two) / sum(r["p99"] for r in one)
        print(f"ratio {args.workers[1]}/{args.workers[0]} workers: rate ×{rate:.2f}, "
              f"p99 TTFT ×{p99:.2f}")
    return 1 if any(r["errors"] for r in runs) else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--messages", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=50)
    parser.add_argument("--interval", type=float, default=0.01)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--redis", default=os.environ.get("NBCHAT_REDIS_URL",
                                                          "redis://127.0.0.1:6379/0"))
    parser.add_argument("--message-timeout", type=float, default=60)
    parser.add_argument("--connect-timeout", type=float, default=60)
    args = parser.parse_args()
    args.ramp = 0
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
