"""MCP servers in a chat, against a real MCP server built with the SDK (mcp_server.py),
started by the tests over stdio (by the chat itself) and over streamable HTTP and SSE on a
loopback port. Nothing is mocked."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession
from mcp.client.stdio import DEFAULT_INHERITED_ENV_VARS

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.config import Config, DataConfig, McpConfig, McpServerConfig, McpTransport
from nbchat.integrations.mcp import HttpMcpConnection, SseMcpConnection, StdioMcpConnection
from nbchat.testing import ChatTestClient

SERVER = str(Path(__file__).with_name("mcp_server.py"))
PYTHON = sys.executable


@dataclass
class Seen:
    connects: list[tuple[Any, Any]] = field(default_factory=list)
    disconnects: list[tuple[str, Any]] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)


def mcp_app(seen: Seen, on_message: Callable[[cl.Message], Any] | None = None) -> App:
    app = App("mcp")
    with registering_on(app):

        @cl.on_mcp_connect
        async def connected(connection: Any, session: ClientSession) -> None:
            seen.connects.append((connection, session))

        @cl.on_mcp_disconnect
        async def disconnected(name: str, session: ClientSession) -> None:
            seen.disconnects.append((name, session))

        @cl.on_message
        async def message(msg: cl.Message) -> None:
            server, tool, *args = msg.content.split()
            session, _ = cl.context.session.mcp_sessions[server]
            arguments = dict(zip(("a", "b"), map(int, args), strict=False)) if tool == "add" \
                else ({"text": " ".join(args)} if tool == "shout" else
                      {"reason": " ".join(args)} if tool == "fail" else {})
            result = await session.call_tool(tool, arguments)
            text = result.content[0].text if result.content else ""
            seen.replies.append(text)
            await cl.Message(content=text).send()

    return app


def config(**mcp: Any) -> Config:
    return Config(data=DataConfig(enabled=False), mcp=McpConfig(**mcp))


def stdio_server(*extra: str) -> McpServerConfig:
    return McpServerConfig(type="stdio", command=PYTHON, args=(SERVER, "stdio", *extra))


def statuses(client: ChatTestClient) -> list[dict[str, Any]]:
    return [e for e in client.events if e["type"] == "mcp_status"]


class HttpServers:
    """mcp_server.py over HTTP (streamable, or SSE) on free loopback ports."""

    def __init__(self) -> None:
        self.procs: list[asyncio.subprocess.Process] = []

    async def start(self, kind: str) -> str:
        """Start one; its base URL once it listens (it prints `PORT <n>` then)."""
        proc = await asyncio.create_subprocess_exec(
            PYTHON, SERVER, kind, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        self.procs.append(proc)
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if not line.startswith(b"PORT "):
            err = await proc.stderr.read() if proc.stderr else b""
            raise AssertionError(f"mcp_server.py {kind} did not start: {line!r} {err!r}")
        return f"http://127.0.0.1:{int(line.split()[1])}"


@pytest.fixture
async def http_server() -> AsyncIterator[HttpServers]:
    servers = HttpServers()
    yield servers
    for proc in servers.procs:
        proc.terminate()
        await proc.wait()


# ------------------------------------------------------------------ declared servers


async def test_a_declared_stdio_server_connects_its_tools_are_steps_and_it_closes() -> None:
    seen = Seen()
    async with ChatTestClient(mcp_app(seen), timeout=60, config=config(
            servers={"calc": stdio_server()})) as client:
        (connection, session), = seen.connects
        assert isinstance(connection, StdioMcpConnection)
        assert (connection.name, connection.clientType, connection.command) == (
            "calc", "stdio", PYTHON)
        assert isinstance(session, ClientSession)
        assert client.session.mcp_sessions["calc"][0] is session
        (status,) = statuses(client)
        assert status["status"] == "connected"
        assert status["tools"] == ["add", "shout", "env", "fail"]

        await client.send("calc add 2 3")
        tool = next(s for s in client.steps if s["type"] == "tool")
        assert (tool["name"], tool["output"], tool["isError"]) == ("add", "5", False)
        assert '"a": 2' in tool["input"]
        assert client.messages[-1]["output"] == "5"

        await client.send("calc fail broken on purpose")
        failed = [s for s in client.steps if s["type"] == "tool"][-1]
        assert failed["isError"]
        assert "Error executing tool fail" in failed["output"]
        link = client.session.mcp_sessions["calc"][1]
    assert [name for name, _ in seen.disconnects] == ["calc"]
    assert link.task.done()
    assert statuses(client)[-1]["status"] == "disconnected"


async def test_a_stdio_server_gets_no_environment_of_ours(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("R17_SECRET_TOKEN", "do-not-leak")
    seen = Seen()
    async with ChatTestClient(mcp_app(seen), timeout=60, config=config(
            servers={"calc": stdio_server()})) as client:
        await client.send("calc env")
    names = set(seen.replies[0].split(","))
    assert "R17_SECRET_TOKEN" not in names
    # What the SDK passes on, and what Python itself sets in a child (LC_CTYPE coercion).
    assert names <= {*DEFAULT_INHERITED_ENV_VARS, "LC_CTYPE"}, names


async def test_a_declared_server_that_fails_to_start_says_why() -> None:
    seen = Seen()
    crash = McpServerConfig(type="stdio", command=PYTHON,
                            args=("-c", "import sys; sys.stderr.write('no config here'); "
                                  "sys.exit(3)"))
    async with ChatTestClient(mcp_app(seen), timeout=60, config=config(servers={"bad": crash},
                                                           connect_timeout=20)) as client:
        (status,) = statuses(client)
        assert status["status"] == "failed"
        assert "no config here" in status["error"]
        assert client.session.mcp_sessions == {}
    assert seen.connects == []


async def test_a_declared_command_must_be_a_full_path() -> None:
    seen = Seen()
    bare = McpServerConfig(type="stdio", command="python3", args=(SERVER, "stdio"))
    async with ChatTestClient(mcp_app(seen), timeout=60,
                              config=config(servers={"bare": bare})) as client:
        (status,) = statuses(client)
        assert status["status"] == "failed"
        assert "full path" in status["error"]


@pytest.mark.parametrize("kind", ["http", "sse"])
async def test_a_declared_http_server_connects(http_server: HttpServers, kind: str) -> None:
    base = await http_server.start(kind)
    server = (McpServerConfig(type="streamable-http", url=f"{base}/mcp",
                              headers={"Authorization": "Bearer t"}) if kind == "http"
              else McpServerConfig(type="sse", url=f"{base}/sse"))
    seen = Seen()
    async with ChatTestClient(mcp_app(seen), timeout=60,
                              config=config(servers={"web": server})) as client:
        (connection, _), = seen.connects
        assert isinstance(connection, HttpMcpConnection if kind == "http" else SseMcpConnection)
        await client.send("web shout hello there")
        assert client.messages[-1]["output"] == "HELLO THERE"
    assert [name for name, _ in seen.disconnects] == ["web"]


# ------------------------------------------------------------------ user-added servers


async def test_a_user_adds_and_removes_an_allowed_stdio_server() -> None:
    seen = Seen()
    async with ChatTestClient(mcp_app(seen), timeout=60, config=config(
            user_servers=("stdio",), allowed_executables=(PYTHON,))) as client:
        assert client.events[0]["config"]["mcp"] == {"user_servers": ["stdio"]}
        await client.send_event({"type": "mcp_connect", "name": "mine", "clientType": "stdio",
                                 "command": PYTHON, "args": [SERVER, "stdio"]})
        assert statuses(client)[-1]["status"] == "connected"
        await client.send("mine add 40 2")
        assert seen.replies == ["42"]
        await client.send_event({"type": "mcp_disconnect", "name": "mine"})
        assert statuses(client)[-1]["status"] == "disconnected"
        assert client.session.mcp_sessions == {}
        assert [name for name, _ in seen.disconnects] == ["mine"]
        await client.send_event({"type": "mcp_disconnect", "name": "mine"})
        assert client.errors[-1]["code"] == "unknown_mcp"


async def test_a_user_adds_an_allowed_streamable_http_server(
        http_server: HttpServers) -> None:
    base = await http_server.start("http")
    seen = Seen()
    async with ChatTestClient(mcp_app(seen), timeout=60, config=config(
            user_servers=("streamable-http",), allowed_urls=(f"{base}/mcp",))) as client:
        await client.send_event({"type": "mcp_connect", "name": "web",
                                 "clientType": "streamable-http", "url": f"{base}/mcp",
                                 "headers": {"Authorization": "Bearer mine"}})
        assert statuses(client)[-1]["status"] == "connected", client.events[-3:]
        await client.send("web add 1 1")
        assert seen.replies == ["2"]


def _sh_variants() -> list[str]:
    folder, name = os.path.split(PYTHON)
    parent, last = os.path.split(folder)
    return [
        name,                                   # the basename alone: no PATH lookup
        f"{folder}/../{last}/{name}",           # a detour through ..
        f"{folder}/./{name}",
        f"/{PYTHON}",                            # '//' prefix
        f"{PYTHON}; id",                        # shell metacharacters
        f"{PYTHON} -c 'print(1)'",
        f"$({PYTHON})",
        f"{PYTHON}\n",
        f"{PYTHON}|cat",
        f"`{PYTHON}`",
        f"{PYTHON}&",
        f"{PYTHON}x",                            # a name that only starts like one
        parent,
    ]


@pytest.mark.parametrize("command", _sh_variants())
async def test_a_stdio_command_outside_the_allowlist_is_refused(command: str) -> None:
    seen = Seen()
    async with ChatTestClient(mcp_app(seen), timeout=60, config=config(
            user_servers=("stdio",), allowed_executables=(PYTHON,))) as client:
        await client.send_event({"type": "mcp_connect", "name": "evil", "clientType": "stdio",
                                 "command": command, "args": [SERVER, "stdio"]})
        assert client.errors[-1]["code"] == "mcp_refused"
        assert "not an allowed MCP server executable" in client.errors[-1]["message"]
        assert statuses(client) == []
        assert client.session.mcp_sessions == {}
    assert seen.connects == []


@pytest.fixture
def bystander() -> Iterator[socket.socket]:
    """A loopback port with a listener the config does not list: it must see no
    connection at all."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


def _url_variants(allowed: str, other_port: int) -> list[str]:
    host_port = allowed.split("/")[2]
    return [
        f"http://127.0.0.1:{other_port}/mcp",      # an unlisted loopback port
        f"http://127.0.0.1:{other_port}/",
        f"http://localhost:{other_port}/mcp",
        f"http://[::1]:{other_port}/mcp",
        f"https://{host_port}/mcp",                # another scheme
        f"{allowed}x",                             # a sibling path
        f"{allowed}/../admin",
        f"{allowed}/%2e%2e/admin",
        f"{allowed}%2fadmin",
        f"http://user:pw@{host_port}/mcp",
        f"http://{host_port}@127.0.0.1:{other_port}/mcp",
        f"http://127.0.0.1:{other_port}\\@{host_port}/mcp",
        "file:///etc/passwd",
    ]


async def test_a_url_outside_the_allowlist_is_refused(bystander: socket.socket) -> None:
    other = bystander.getsockname()[1]
    allowed = "http://127.0.0.1:9/mcp"
    for url in _url_variants(allowed, other):
        seen = Seen()
        async with ChatTestClient(mcp_app(seen), timeout=60, config=config(
                user_servers=("streamable-http", "sse"), allowed_urls=(allowed,))) as client:
            for kind in ("streamable-http", "sse"):
                await client.send_event({"type": "mcp_connect", "name": "x", "clientType": kind,
                                         "url": url})
                assert client.errors[-1]["code"] == "mcp_refused", url
            assert statuses(client) == []
            assert client.session.mcp_sessions == {}
        with pytest.raises(BlockingIOError):
            bystander.accept()  # nothing ever knocked on the unlisted port


@pytest.mark.parametrize("header", ["Cookie", "Host", "X-Forwarded-For", "Proxy-Authorization",
                                    "Bad Header"])
async def test_routing_and_session_headers_are_refused(header: str) -> None:
    seen = Seen()
    async with ChatTestClient(mcp_app(seen), timeout=60, config=config(
            user_servers=("streamable-http",),
            allowed_urls=("http://127.0.0.1:9/mcp",))) as client:
        await client.send_event({"type": "mcp_connect", "name": "x",
                                 "clientType": "streamable-http",
                                 "url": "http://127.0.0.1:9/mcp", "headers": {header: "v"}})
        assert client.errors[-1]["code"] == "mcp_refused"


@pytest.mark.parametrize(("allowed", "kind"), [((), "stdio"), (("sse",), "stdio"),
                                               (("stdio",), "streamable-http")])
async def test_a_user_may_add_only_the_transports_the_config_names(
        allowed: tuple[McpTransport, ...], kind: str) -> None:
    seen = Seen()
    async with ChatTestClient(mcp_app(seen), timeout=60, config=config(
            user_servers=allowed, allowed_executables=(PYTHON,),
            allowed_urls=("http://127.0.0.1:9/mcp",))) as client:
        await client.send_event({"type": "mcp_connect", "name": "x", "clientType": kind,
                                 "command": PYTHON, "args": [SERVER, "stdio"],
                                 "url": "http://127.0.0.1:9/mcp"})
        assert client.errors[-1]["code"] == "mcp_refused"
        assert "mcp.user_servers" in client.errors[-1]["message"]


async def test_a_user_cannot_replace_a_declared_server() -> None:
    seen = Seen()
    async with ChatTestClient(mcp_app(seen), timeout=60, config=config(
            servers={"calc": stdio_server()}, user_servers=("stdio",),
            allowed_executables=(PYTHON,))) as client:
        await client.send_event({"type": "mcp_connect", "name": "calc", "clientType": "stdio",
                                 "command": PYTHON, "args": [SERVER, "stdio"]})
        assert client.errors[-1]["code"] == "mcp_refused"
        assert len(seen.connects) == 1


async def test_the_example_notebook_calls_its_server_tools_as_steps(
        monkeypatch: pytest.MonkeyPatch) -> None:
    folder = Path(__file__).parents[2] / "notebooks" / "mcp"
    monkeypatch.chdir(folder)  # where Jupyter runs it: its server script sits beside it
    client = ChatTestClient(folder / "mcp.ipynb", timeout=60)
    try:
        async with client:
            assert statuses(client)[-1]["status"] == "connected", statuses(client)
            assert "km_to_miles" in client.messages[-1]["output"]
            await client.send("km_to_miles 42")
            tool = [s for s in client.steps if s["type"] == "tool"][-1]
            assert tool["name"] == "km_to_miles"
            assert client.messages[-1]["output"] == "26.10 miles"
    finally:
        server = client.namespace.get("server")
        if server is not None:
            server.terminate()
            server.wait()
            server.stdout.close()
            server.stderr.close()


async def test_a_user_may_add_only_so_many_servers() -> None:
    seen = Seen()
    async with ChatTestClient(mcp_app(seen), timeout=60, config=config(
            user_servers=("stdio",), allowed_executables=(PYTHON,),
            max_user_servers=1)) as client:
        for name in ("one", "two"):
            await client.send_event({"type": "mcp_connect", "name": name,
                                     "clientType": "stdio", "command": PYTHON,
                                     "args": [SERVER, "stdio"]})
        assert [s["name"] for s in statuses(client)] == ["one"]
        assert client.errors[-1]["code"] == "mcp_refused"
        assert "mcp.max_user_servers" in client.errors[-1]["message"]
