"""Served-mode load: N concurrent WebSocket clients against one nbchat server process.

    .venv/bin/python benchmarks/serve_load.py                       # N = 100, 300, 1000; 2 rounds
    .venv/bin/python benchmarks/serve_load.py --clients 1000 --rounds 3
    .venv/bin/python benchmarks/serve_load.py --persist             # SQLite persistence on
    .venv/bin/python benchmarks/serve_load.py --serve               # the real `nbchat serve`
    .venv/bin/python benchmarks/serve_load.py --profile /tmp/prof   # cProfile the server
    .venv/bin/python benchmarks/serve_load.py --loop asyncio        # without uvloop

Issue 5 §6. The server runs in its own process: by default a tornado Application with
ChatSocketHandler + ChatHost (persistence off unless --persist), with --serve the real
`nbchat serve --headless` on a generated app file. Both run on the event loop `nbchat serve`
picks (`--loop`, default auto: uvloop when installed); the loop that ran is printed. The
app, on every message, streams 50 tokens with `await asyncio.sleep(0.01)` between
`stream_token` calls, then sends the message.

The clients run in separate client processes (--client-procs, default 2), each driving its
share of the N connections on one asyncio loop with the `websockets` library (tornado's client
if that is not installed). Every client connects, sends hello, waits for welcome; when all are
connected the server's RSS is read (VmRSS from /proc); then all clients at once send 3
messages, one after another (the next once the reply is complete), and time, per message:

- TTFT: send → the first event of the reply (its streaming `step` or a `token`);
- completion: send → the final, non-streaming assistant_message `step` (its output checked);
- errors: `error` events, disconnects, timeouts, wrong output.

RSS per idle session = (RSS with N connected idle sessions − RSS after a one-client warm-up)
/ N, and again after the load (each session then holds 3 exchanges). Each client process
reports its CPU use and its event-loop lag, so a client-side bottleneck shows up as such
rather than as server latency. Every wait has a deadline; the benchmark stops by itself.

Budget (issue 5 §6, BRIEF §5): at 1,000 clients p99 TTFT under 100 ms and no errors, on one
server process; memory per idle session in kilobytes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HELLO = json.dumps({"type": "hello", "protocolVersion": 1})

APP_SOURCE = '''\
"""serve_load benchmark app: stream {tokens} tokens, {interval} s apart, then send."""
import asyncio

import nbchat as cl


@cl.on_message
async def reply(message: cl.Message) -> None:
    msg = cl.Message(content="")
    for i in range({tokens}):
        if i:
            await asyncio.sleep({interval})
        await msg.stream_token(f"tok{{i}} ")
    await msg.send()
'''


def raise_nofile(wanted: int) -> int:
    """Raise the soft open-file limit towards `wanted` (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        soft = new
    return soft


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * p // 100)))
    return ordered[int(rank) - 1]


async def stdin_lines() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


# ============================================================================ server process


async def server_main(args: argparse.Namespace) -> None:
    raise_nofile(args.nofile)
    import tornado.httpserver
    import tornado.netutil
    import tornado.web

    import nbchat as cl
    from nbchat.app import App, registering_on
    from nbchat.config import Config, DataConfig, ProjectConfig, ServerConfig
    from nbchat.runtime.hosting import ChatHost
    from nbchat.server.serve import loop_name
    from nbchat.transports.websocket import ChatSocketHandler

    tokens, interval = args.tokens, args.interval
    app = App("serve_load")
    with registering_on(app):

        @cl.on_message
        async def reply(message: cl.Message) -> None:
            msg = cl.Message(content="")
            for i in range(tokens):
                if i:
                    await asyncio.sleep(interval)
                await msg.stream_token(f"tok{i} ")
            await msg.send()

    tmp = Path(args.workdir)
    # Every client is the one user "bench": no per-user session cap.
    config = Config(project=ProjectConfig(session_timeout=3600),
                    data=DataConfig(enabled=args.persist),
                    server=ServerConfig(max_sessions_per_user=0), app_dir=tmp)
    layer = None
    if args.persist:
        from nbchat.data import make_data_layer

        layer = make_data_layer(None, tmp)
    host = ChatHost(app, config, layer)
    user = cl.User(identifier="bench")
    application = tornado.web.Application(
        [(r"/ws", ChatSocketHandler, {"host": host, "identify": lambda _handler: user})],
        websocket_max_message_size=config.runtime.max_event_bytes)
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1", backlog=4096)
    http = tornado.httpserver.HTTPServer(application)
    http.add_sockets(sockets)
    print(f"LOOP {loop_name()}", flush=True)
    print(f"PORT {sockets[0].getsockname()[1]}", flush=True)
    reader = await stdin_lines()
    with contextlib.suppress(TimeoutError):  # EOF on stdin: the parent is done
        await asyncio.wait_for(reader.read(), args.deadline)
    http.stop()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(host.close(), 30)


def run_server(args: argparse.Namespace) -> None:
    from nbchat.server.serve import run  # the loop `nbchat serve` would use

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.profile:
        import cProfile

        # CPU time, not wall time: on a shared machine a loopback send() that wakes a client
        # process often loses the CPU, and wall time would charge that wait to send().
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        try:
            run(lambda: server_main(args), args.loop)
        finally:
            profiler.disable()
            profiler.dump_stats(args.profile)
    else:
        run(lambda: server_main(args), args.loop)


# ============================================================================ client process


class Conn:
    """One WebSocket client connection: websockets if installed, else tornado's client."""

    def __init__(self, impl: Any, kind: str) -> None:
        self.impl = impl
        self.kind = kind

    @classmethod
    async def open(cls, url: str) -> Conn:
        try:
            from websockets.asyncio.client import connect
        except ImportError:
            import tornado.websocket

            conn = await tornado.websocket.websocket_connect(url, max_message_size=1 << 30)
            return cls(conn, "tornado")
        ws = await connect(url, compression=None, max_size=None, ping_interval=None,
                           open_timeout=None, close_timeout=2)
        return cls(ws, "websockets")

    async def send(self, text: str) -> None:
        if self.kind == "websockets":
            await self.impl.send(text)
        else:
            await self.impl.write_message(text)

    async def recv(self) -> str | None:
        """The next text frame; None once the connection is closed."""
        if self.kind == "websockets":
            from websockets.exceptions import ConnectionClosed

            try:
                frame: str | None = await self.impl.recv()
            except ConnectionClosed:
                return None
            return frame
        message: str | None = await self.impl.read_message()
        return message

    async def close(self) -> None:
        if self.kind == "websockets":
            await self.impl.close()
        else:
            self.impl.close()


class Failure(Exception):
    pass


class Client:
    def __init__(self, index: int, args: argparse.Namespace) -> None:
        self.index = index
        self.args = args
        self.conn: Conn | None = None
        self.ttft: list[float] = []
        self.done: list[float] = []
        self.errors: list[str] = []
        self.frames: list[int] = []

    async def read(self, deadline: float) -> list[dict[str, Any]]:
        assert self.conn is not None
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failure("timeout")
        try:
            frame = await asyncio.wait_for(self.conn.recv(), left)
        except TimeoutError:
            raise Failure("timeout") from None
        if frame is None:
            raise Failure("disconnect")
        batch: list[dict[str, Any]] = json.loads(frame)
        for event in batch:
            if event.get("type") == "error":
                self.errors.append(f"error event: {event.get('code')}")
        return batch

    async def connect(self, url: str) -> None:
        deadline = time.monotonic() + self.args.connect_timeout
        try:
            self.conn = await asyncio.wait_for(Conn.open(url), self.args.connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise Failure(f"connect: {type(exc).__name__}") from None
        except Exception as exc:  # the websockets handshake errors
            raise Failure(f"connect: {type(exc).__name__}: {exc}") from None
        await self.conn.send(HELLO)
        while not any(e.get("type") == "welcome" for e in await self.read(deadline)):
            pass

    async def converse(self) -> None:
        assert self.conn is not None
        want = self.args.tokens
        if self.args.ramp > 0:  # deterministic spread of the first messages over the ramp
            await asyncio.sleep(self.args.ramp * ((self.index * 0.6180339887) % 1.0))
        for m in range(self.args.messages):
            text = json.dumps({"type": "user_message", "content": f"client {self.index} #{m}"})
            start = time.perf_counter()
            deadline = time.monotonic() + self.args.message_timeout
            await self.conn.send(text)
            first: float | None = None
            frames = 0
            while True:
                batch = await self.read(deadline)
                frames += 1
                now = time.perf_counter()
                final = None
                for event in batch:
                    kind = event.get("type")
                    if kind == "token" or (kind == "step"
                                           and event["step"]["type"] == "assistant_message"):
                        if first is None:
                            first = now
                        if kind == "step" and not event["step"]["streaming"]:
                            final = event["step"]
                if final is not None:
                    break
            assert first is not None
            self.ttft.append(first - start)
            self.done.append(now - start)
            self.frames.append(frames)
            if len(final["output"].split()) != want:
                self.errors.append("wrong output")


async def loop_lag(samples: list[float], stop: asyncio.Event, period: float = 0.005) -> None:
    """How late a `period` sleep wakes up: this loop's own scheduling delay."""
    for _ in range(1_000_000):  # bounded; stopped long before
        if stop.is_set():
            return
        start = time.perf_counter()
        await asyncio.sleep(period)
        samples.append(time.perf_counter() - start - period)


async def clients_main(args: argparse.Namespace) -> None:
    raise_nofile(args.nofile)
    reader = await stdin_lines()
    clients = [Client(args.first + i, args) for i in range(args.count)]
    gate = asyncio.Semaphore(args.connect_concurrency)
    connect_errors: list[str] = []

    async def connect(client: Client) -> None:
        async with gate:
            try:
                await client.connect(args.url)
            except Failure as exc:
                connect_errors.append(str(exc))
                client.conn = None

    started = time.perf_counter()
    await asyncio.gather(*(connect(c) for c in clients))
    live = [c for c in clients if c.conn is not None]
    print(f"CONNECTED {len(live)} {time.perf_counter() - started:.3f}", flush=True)

    line = await asyncio.wait_for(reader.readline(), args.phase_timeout)
    if line.strip() != b"GO":
        return
    lag: list[float] = []
    stop = asyncio.Event()
    lagger = asyncio.create_task(loop_lag(lag, stop))
    cpu0, wall0 = time.process_time(), time.perf_counter()

    async def converse(client: Client) -> None:
        try:
            await client.converse()
        except Failure as exc:
            client.errors.append(str(exc))

    await asyncio.gather(*(converse(c) for c in live))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    stop.set()
    await lagger
    errors = connect_errors + [e for c in clients for e in c.errors]
    result = {
        "ttft": [t for c in live for t in c.ttft],
        "ttft_first": [c.ttft[0] for c in live if c.ttft],
        "ttft_rest": [t for c in live for t in c.ttft[1:]],
        "done": [t for c in live for t in c.done],
        "frames": [f for c in live for f in c.frames],
        "errors": errors,
        "cpu": cpu, "wall": wall,
        "lag_p99": pct(lag, 99), "lag_max": max(lag, default=float("nan")),
        "lib": live[0].conn.kind if live and live[0].conn else "?",
    }
    print("RESULT " + json.dumps(result), flush=True)

    line = await asyncio.wait_for(reader.readline(), args.phase_timeout)
    for client in live:
        assert client.conn is not None
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.conn.close(), 2)
    print("CLOSED", flush=True)


# ============================================================================ orchestration


class Proc:
    """A child process speaking the line protocol above over stdin/stdout."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.terminate = False

    @classmethod
    async def start(cls, *argv: str, cwd: Path | None = None,
                    env: dict[str, str] | None = None) -> Proc:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            cwd=cwd, env=env, limit=1 << 26)
        return cls(proc)

    async def expect(self, prefix: str, within: float) -> str:
        """The rest of the next stdout line that starts with `prefix`."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + within
        for _ in range(10_000):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            line = await asyncio.wait_for(self.proc.stdout.readline(), left)
            if not line:
                raise RuntimeError(f"child exited (rc={await self.proc.wait()}) "
                                   f"before printing {prefix!r}")
            text = line.decode().rstrip("\n")
            if text.startswith(prefix):
                return text[len(prefix):].strip()
        raise TimeoutError(f"no {prefix!r} line within {within} s")

    def tell(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")

    async def stop(self, within: float = 30) -> None:
        if self.proc.returncode is not None:
            return
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        if self.terminate:
            self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), within)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


async def start_server(args: argparse.Namespace, workdir: Path, profile: str | None
                       ) -> tuple[Proc, str, str]:
    me = [sys.executable, str(Path(__file__).resolve())]
    if not args.serve:
        argv = [*me, "_server", "--workdir", str(workdir), "--tokens", str(args.tokens),
                "--interval", str(args.interval), "--nofile", str(args.nofile),
                "--deadline", str(args.deadline), "--loop", args.loop]
        if args.persist:
            argv.append("--persist")
        if profile:
            argv += ["--profile", profile]
        server = await Proc.start(*argv)
        loop = await server.expect("LOOP", 60)
        port = await server.expect("PORT", 60)
        return server, f"ws://127.0.0.1:{port}/ws", loop
    # The real `nbchat serve` on a generated app file (headless: API + WebSocket only).
    (workdir / "app.py").write_text(APP_SOURCE.format(tokens=args.tokens,
                                                      interval=args.interval))
    (workdir / "nbchat.yaml").write_text(
        f"data:\n  enabled: {'true' if args.persist else 'false'}\n"
        "project:\n  session_timeout: 3600\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBCHAT_")}
    # `nbchat serve`, with the open-file limit raised first.
    (workdir / "run_nbchat.py").write_text(
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_NOFILE, ({args.nofile}, "
        "resource.getrlimit(resource.RLIMIT_NOFILE)[1]))\n"
        "from nbchat.cli import main\nsys.exit(main())\n")
    profiling = ["-m", "cProfile", "-o", profile] if profile else []
    server = await Proc.start(sys.executable, *profiling, "run_nbchat.py", "serve", "app.py",
                              "--port", "0", "--headless", "--loop", args.loop,
                              cwd=workdir, env=env)
    server.terminate = True  # it stops on SIGTERM, not on the end of its stdin
    loop = await server.expect("nbchat: event loop", 60)
    url = await server.expect("nbchat: serving", 60)
    port = url.rsplit(":", 1)[1].strip("/")
    return server, f"ws://127.0.0.1:{port}/ws", loop


async def warm_up(url: str, args: argparse.Namespace) -> None:
    """One client, hello and one message, so lazy imports and first-call costs are paid."""
    client = Client(-1, argparse.Namespace(**{**vars(args), "messages": 1, "ramp": 0}))
    await client.connect(url)
    await client.converse()
    assert client.conn is not None
    await client.conn.close()
    if client.errors:
        raise RuntimeError(f"warm-up failed: {client.errors}")


async def one_run(args: argparse.Namespace, n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="serve_load_") as tmp:
        profile = f"{args.profile}.n{n}.{int(time.time())}.prof" if args.profile else None
        server, url, loop = await start_server(args, Path(tmp), profile)
        workers: list[Proc] = []
        try:
            pid = server.proc.pid
            await warm_up(url, args)
            await asyncio.sleep(0.5)
            baseline = rss_kb(pid)
            procs = max(1, min(args.client_procs, n))
            share = [n // procs + (i < n % procs) for i in range(procs)]
            first = 0
            for count in share:
                workers.append(await Proc.start(
                    sys.executable, str(Path(__file__).resolve()), "_clients", "--url", url,
                    "--count", str(count), "--first", str(first),
                    *_shared_argv(args)))
                first += count
            connected = [await w.expect("CONNECTED", args.phase_timeout) for w in workers]
            live = sum(int(c.split()[0]) for c in connected)
            connect_s = max(float(c.split()[1]) for c in connected)
            await asyncio.sleep(1.0)
            idle = rss_kb(pid)
            cpu0, wall0 = cpu_seconds(pid), time.perf_counter()
            for w in workers:
                w.tell("GO")
            results = [json.loads(await w.expect("RESULT", args.phase_timeout))
                       for w in workers]
            server_cpu_s = cpu_seconds(pid) - cpu0
            server_cpu = server_cpu_s / (time.perf_counter() - wall0)
            await asyncio.sleep(1.0)
            after = rss_kb(pid)
            for w in workers:
                w.tell("CLOSE")
            for w in workers:
                await w.expect("CLOSED", args.phase_timeout)
        finally:
            for w in workers:
                await w.stop(10)
            await server.stop(60)
    ttft = [t for r in results for t in r["ttft"]]
    done = [t for r in results for t in r["done"]]
    errors = [e for r in results for e in r["errors"]]
    frames = [f for r in results for f in r["frames"]]
    first = [t for r in results for t in r["ttft_first"]]
    rest = [t for r in results for t in r["ttft_rest"]]
    return {
        "first_p50": pct(first, 50), "first_p99": pct(first, 99),
        "rest_p50": pct(rest, 50), "rest_p99": pct(rest, 99),
        "frames_p50": pct(frames, 50), "frames_mean": statistics.fmean(frames or [0]),
        "cpu_ms_per_msg": server_cpu_s * 1000 / max(1, len(ttft)),
        "n": n, "live": live, "connect_s": connect_s, "messages": len(ttft),
        "ttft_p50": pct(ttft, 50), "ttft_p99": pct(ttft, 99), "ttft_max": max(ttft, default=0),
        "done_p50": pct(done, 50), "done_p99": pct(done, 99),
        "errors": errors, "server_cpu": server_cpu,
        "rss_base_mb": baseline / 1024,
        "kb_idle": (idle - baseline) / n, "kb_after": (after - baseline) / n,
        "client_cpu": max(r["cpu"] / r["wall"] for r in results),
        "client_lag_p99": max(r["lag_p99"] for r in results),
        "client_lag_max": max(r["lag_max"] for r in results),
        "lib": results[0]["lib"], "loop": loop,
    }


def _shared_argv(args: argparse.Namespace) -> list[str]:
    return ["--messages", str(args.messages), "--tokens", str(args.tokens),
            "--nofile", str(args.nofile), "--connect-timeout", str(args.connect_timeout),
            "--message-timeout", str(args.message_timeout),
            "--phase-timeout", str(args.phase_timeout),
            "--connect-concurrency", str(args.connect_concurrency),
            "--ramp", str(args.ramp)]


def show(run: dict[str, Any]) -> str:
    errors = len(run["errors"])
    kinds = ""
    if errors:
        counts: dict[str, int] = {}
        for e in run["errors"]:
            counts[e] = counts.get(e, 0) + 1
        kinds = " (" + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) + ")"
    ms = 1000
    return (f"  N={run['n']:>5}  TTFT p50 {run['ttft_p50'] * ms:7.1f} ms  "
            f"p99 {run['ttft_p99'] * ms:7.1f} ms  | completion p50 {run['done_p50'] * ms:7.1f}"
            f" ms  p99 {run['done_p99'] * ms:7.1f} ms  | errors {errors}{kinds}\n"
            f"           messages {run['messages']}/{run['n'] * 3}  RSS/session idle "
            f"{run['kb_idle']:.1f} KB, after 3 replies {run['kb_after']:.1f} KB "
            f"(baseline {run['rss_base_mb']:.0f} MB)  connect {run['connect_s']:.2f} s\n"
            f"           TTFT of 1st messages p50 {run['first_p50'] * ms:.1f}"
            f" ms p99 {run['first_p99'] * ms:.1f} ms; of 2nd/3rd messages p50 "
            f"{run['rest_p50'] * ms:.1f} ms p99 {run['rest_p99'] * ms:.1f} ms\n"
            f"           frames per reply p50 {run['frames_p50']} (mean "
            f"{run['frames_mean']:.1f})  server CPU {run['server_cpu'] * 100:.0f}% of a core,"
            f" {run['cpu_ms_per_msg']:.2f} ms CPU per message\n"
            f"           server loop {run['loop']}; clients "
            f"({run['lib']}): busiest process CPU {run['client_cpu'] * 100:.0f}%, "
            f"loop lag p99 {run['client_lag_p99'] * ms:.1f} ms, "
            f"max {run['client_lag_max'] * ms:.1f} ms")


async def main_async(args: argparse.Namespace) -> int:
    raise_nofile(args.nofile)
    mode = "nbchat serve" if args.serve else "ChatSocketHandler + ChatHost"
    print(f"serve_load: {mode}, persistence {'on (SQLite)' if args.persist else 'off'}; "
          f"{args.messages} messages per client, {args.tokens} tokens {args.interval * 1000:g}"
          f" ms apart; {args.client_procs} client processes; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    runs: dict[int, list[dict[str, Any]]] = {}
    for r in range(args.rounds):
        for n in args.clients:
            print(f"round {r + 1}/{args.rounds}, N={n} …", flush=True)
            run = await asyncio.wait_for(one_run(args, n), args.deadline)
            runs.setdefault(n, []).append(run)
            print(show(run), flush=True)
    print("\nsummary (best / worst of rounds):")
    ok = True
    for n, rs in runs.items():
        p99 = [r["ttft_p99"] * 1000 for r in rs]
        errs = [len(r["errors"]) for r in rs]
        kb = [r["kb_idle"] for r in rs]
        print(f"  N={n:>5}  TTFT p50 {min(r['ttft_p50'] for r in rs) * 1000:.1f} / "
              f"{max(r['ttft_p50'] for r in rs) * 1000:.1f} ms  p99 {min(p99):.1f} / "
              f"{max(p99):.1f} ms  completion p99 "
              f"{min(r['done_p99'] for r in rs) * 1000:.0f} / "
              f"{max(r['done_p99'] for r in rs) * 1000:.0f} ms  errors {min(errs)} / "
              f"{max(errs)}  KB/idle session {min(kb):.1f} / {max(kb):.1f}")
        if n >= 1000:
            ok = ok and min(p99) < 100 and max(errs) == 0
    if any(n >= 1000 for n in runs):
        print(f"budget (N=1000: p99 TTFT < 100 ms, no errors): "
              f"{'met' if ok else 'MISSED'} (best round)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] in ("_server", "_clients") else None
    parser.add_argument("--tokens", type=int, default=50)
    parser.add_argument("--interval", type=float, default=0.01, help="seconds between tokens")
    parser.add_argument("--messages", type=int, default=3)
    parser.add_argument("--nofile", type=int, default=8192, help="open-file limit to ask for")
    parser.add_argument("--connect-timeout", type=float, default=30)
    parser.add_argument("--message-timeout", type=float, default=60)
    parser.add_argument("--phase-timeout", type=float, default=300)
    parser.add_argument("--connect-concurrency", type=int, default=64,
                        help="connection attempts in flight per client process")
    parser.add_argument("--ramp", type=float, default=0.0,
                        help="spread the clients' first messages over this many seconds "
                             "(default 0: all N first messages are sent at once)")
    parser.add_argument("--deadline", type=float, default=900,
                        help="seconds after which a server (or one N) gives up")
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto",
                        help="the server's event loop, as `nbchat serve --loop` "
                             "(auto: uvloop when installed)")
    if sub == "_server":
        parser.add_argument("_mode")
        parser.add_argument("--workdir", required=True)
        parser.add_argument("--persist", action="store_true")
        parser.add_argument("--profile")
        args = parser.parse_args()
        run_server(args)
        return 0
    if sub == "_clients":
        parser.add_argument("_mode")
        parser.add_argument("--url", required=True)
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--first", type=int, default=0)
        args = parser.parse_args()
        asyncio.run(clients_main(args))
        return 0
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--persist", action="store_true", help="SQLite persistence on")
    parser.add_argument("--serve", action="store_true",
                        help="run the real `nbchat serve --headless` on a generated app")
    parser.add_argument("--profile", help="cProfile the server; stats to PROFILE.n<N>.*.prof")
    args = parser.parse_args()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
