"""A real `nbchat serve --workers N` for the tests: a process tree on a loopback port, with
Redis (a fresh key prefix) and PostgreSQL (the run's database) shared by its workers.

`Cluster.http(worker)` is an HTTP/1.1 keep-alive connection to one chosen worker (new
connections are opened until the kernel's SO_REUSEPORT spreading lands one there; /health
says whose it is), with the cookies of one browser. `Cluster.socket(worker)` does the same
for a chat WebSocket (its upgrade answers X-Nbchat-Worker).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import queue
import re
import signal
import subprocess
import sys
import textwrap
import threading
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import tornado.httpclient
import tornado.websocket

from wsclient import WsClient

from .redis_fixtures import REDIS_URL

SRC = Path(__file__).resolve().parents[2] / "src"
SECRET = "w" * 48
START_DEADLINE = 60.0
TRIES = 200  # new connections opened at most to reach one chosen worker
# The test app: password "pw-<name>" signs <name> in; a reply streams `tokens` paced
# tokens, so a test can cut the connection in the middle of one.
APP = textwrap.dedent('''
    import asyncio
    import nbchat as cl

    @cl.password_auth_callback
    def check(username, password):
        return cl.User(identifier=username) if password == "pw-" + username else None

    @cl.on_message
    async def reply(message: cl.Message):
        if message.content == "picture":  # an element whose bytes live in this process
            image = cl.Image(name="dot.png", content=b"\\x89PNG-bytes", display="inline")
            await cl.Message(content="here", elements=[image]).send()
            return
        count, _, pace = message.content.partition("x")
        out = cl.Message(content="")
        for i in range(int(count)):
            await out.stream_token(f"t{i} ")
            await asyncio.sleep(float(pace or 0))  # the pace of an LLM's tokens
        await out.send()
''')


async def hang_up(client: WsClient | tornado.websocket.WebSocketClientConnection) -> None:
    """Close a chat socket and wait until it is closed (the server's close frame, or EOF),
    so no half-closed socket is left for the garbage collector to warn about."""
    conn = client.conn if isinstance(client, WsClient) else client
    conn.close()
    for _ in range(100_000):  # bounded: read what was in flight, until the close
        if await asyncio.wait_for(conn.read_message(), 10) is None:
            return


def expected_reply(count: int) -> str:
    return "".join(f"t{i} " for i in range(count))


@dataclass
class Browser:
    """Cookies of one browser, kept across connections to any worker."""

    cookies: dict[str, str] = field(default_factory=dict)

    def header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def keep(self, response: http.client.HTTPResponse) -> None:
        for value in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                if morsel["max-age"] == "0" or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value


class WorkerHttp:
    def __init__(self, conn: http.client.HTTPConnection, worker: str, browser: Browser) -> None:
        self.conn = conn
        self.worker = worker
        self.browser = browser

    def request(self, method: str, path: str, body: dict[str, str] | None = None
                ) -> tuple[int, bytes]:
        headers = {"Cookie": self.browser.header()}
        data = None
        if body is not None:
            xsrf = self.browser.cookies.get("_xsrf", "")
            data = urlencode({**body, "_xsrf": xsrf})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        self.browser.keep(response)
        assert response.getheader("Connection", "").lower() != "close", "not kept alive"
        return response.status, payload

    def health(self) -> dict[str, Any]:
        status, body = self.request("GET", "/health")
        assert status == 200
        result: dict[str, Any] = json.loads(body)
        return result

    def login(self, name: str) -> None:
        status, _ = self.request("GET", "/login")  # the _xsrf cookie
        assert status == 200
        status, _ = self.request("POST", "/login", {"username": name, "password": f"pw-{name}"})
        assert status == 303, "the login failed"

    def close(self) -> None:
        self.conn.close()


class Endpoint:
    """An address serving the app: one `nbchat serve`, or a load balancer in front."""

    def __init__(self, address: str, port: int) -> None:
        self.address = address
        self.port = port
        self.opened: list[WorkerHttp] = []  # closed by close_connections

    def http(self, worker: str | None = None, browser: Browser | None = None,
             avoid: str | None = None) -> WorkerHttp:
        """A keep-alive connection to `worker` (or any worker but `avoid`, or any)."""
        browser = browser or Browser()
        for _ in range(TRIES):
            conn = http.client.HTTPConnection(self.address, self.port, timeout=10)
            probe = WorkerHttp(conn, "", browser)
            got = str(probe.health()["worker"])
            if (worker is None or got == worker) and got != avoid:
                probe.worker = got
                self.opened.append(probe)
                return probe
            conn.close()
        raise AssertionError(f"{TRIES} connections never reached worker {worker or 'other'}")

    async def socket(self, browser: Browser, worker: str | None = None,
                     avoid: str | None = None) -> tuple[WsClient, str]:
        """A chat WebSocket (not yet said hello) to `worker`, or any worker but `avoid`."""
        for _ in range(TRIES):
            request = tornado.httpclient.HTTPRequest(
                f"ws://{self.address}:{self.port}/ws",
                headers={"Cookie": browser.header(),
                         "Origin": f"http://{self.address}:{self.port}"})
            conn = await tornado.websocket.websocket_connect(request)
            assert conn.headers is not None
            got = conn.headers.get("X-Nbchat-Worker", "")
            if (worker is None or got == worker) and got != avoid:
                return WsClient(conn), got
            await hang_up(conn)
        raise AssertionError(f"{TRIES} sockets never reached worker {worker or 'other'}")

    def close_connections(self) -> None:
        for conn in self.opened:
            conn.close()


class Cluster(Endpoint):
    """`nbchat serve --workers N` (one host's processes) on `address`:`port`."""

    def __init__(self, app_dir: Path, port: int, database_url: str, prefix: str,
                 workers: int = 2, extra_env: dict[str, str] | None = None,
                 address: str = "127.0.0.1") -> None:
        super().__init__(address, port)
        app_dir.mkdir(parents=True, exist_ok=True)
        self.app_dir = app_dir
        self.workers = workers
        self.prefix = prefix
        (app_dir / "app.py").write_text(APP)
        env = {k: v for k, v in os.environ.items() if not k.startswith("NBCHAT_")}
        env.update({"PYTHONPATH": str(SRC), "NBCHAT_AUTH_SECRET": SECRET,
                    "NBCHAT_REDIS_URL": REDIS_URL, "NBCHAT_SERVER_REDIS_PREFIX": prefix,
                    "NBCHAT_DATABASE_URL": database_url, **(extra_env or {})})
        self.env = env
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.proc: subprocess.Popen[str] | None = None
        self.reader: threading.Thread | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nbchat.cli", "serve", "app.py", "--port", str(self.port),
             "--host", self.address, "--workers", str(self.workers), "--headless"],
            cwd=self.app_dir, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1, start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.wait_serving(self.workers)

    def _read(self) -> None:
        assert self.proc is not None
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for(self, pattern: str) -> re.Match[str]:
        """The next output line matching `pattern` (the server's log, read as it comes)."""
        while True:
            try:
                line = self.lines.get(timeout=START_DEADLINE)
            except queue.Empty:
                raise AssertionError(f"no {pattern!r} in:\n{''.join(self.output)}") from None
            match = re.search(pattern, line)
            if match:
                return match

    def wait_serving(self, count: int) -> None:
        for _ in range(count):
            self.wait_for(r"nbchat: serving app\.py")

    def worker_pids(self) -> dict[str, int]:
        """Worker ids (host-pid) → pid, from /health of each."""
        found: dict[str, int] = {}
        for _ in range(TRIES):
            conn = self.http()
            found[conn.worker] = int(conn.worker.rsplit("-", 1)[1])
            conn.close()
            if len(found) == self.workers:
                return found
        raise AssertionError(f"found only workers {sorted(found)}")

    def stop(self) -> int:
        self.close_connections()
        assert self.proc is not None
        try:
            return self._stop(self.proc)
        finally:
            if self.reader is not None:
                self.reader.join(10)
            if self.proc.stdout is not None:
                self.proc.stdout.close()

    def _stop(self, proc: subprocess.Popen[str]) -> int:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)  # the supervisor passes it on
        try:
            return proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise AssertionError("the workers did not stop within 30 s of SIGTERM") from None
