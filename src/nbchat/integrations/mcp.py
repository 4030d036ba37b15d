"""MCP servers in a chat, with Chainlit's names: `@cl.on_mcp_connect(connection, session)`,
`@cl.on_mcp_disconnect(name, session)`, `cl.context.session.mcp_sessions`.

    @cl.on_mcp_connect
    async def on_mcp_connect(connection, session: ClientSession):
        tools = (await session.list_tools()).tools
        cl.user_session.set("tools", {t.name: connection.name for t in tools})

    @cl.on_message
    async def on_message(msg: cl.Message):
        session, _ = cl.context.session.mcp_sessions["files"]
        result = await session.call_tool("read", {"path": "notes.md"})   # a tool step

Servers come from nbchat.yaml (`mcp.servers`, connected in every chat after on_chat_start
or on_chat_resume) or from the user (`mcp_connect`, when `mcp.user_servers` allows it and
`mcp_guard` lets the command or URL through). Each connection is owned by one task of its
own: the SDK's transports are anyio task groups, which must be entered and left by the
same task, and a Stop (which cancels the chat's callbacks) must not close them. The chat's
end closes them all. The sessions are real `mcp.ClientSession`s; `call_tool` through one
also shows the call as a `tool` step (`mcp.tool_steps`).

Docs: docs/integrations/mcp.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import tempfile
from dataclasses import dataclass, field
from typing import Any, Literal

from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.types import Implementation

from nbchat.runtime.context import current_session
from nbchat.step import Step

__all__ = ["HttpMcpConnection", "McpConnection", "McpLink", "SseMcpConnection",
           "StdioMcpConnection", "StepClientSession"]

log = logging.getLogger("nbchat")
CLIENT_INFO = Implementation(name="nbchat", version="0.1.0")


@dataclass
class StdioMcpConnection:
    """A server run as a child process, speaking MCP on its stdin and stdout."""

    name: str
    command: str
    args: list[str] = field(default_factory=list)
    clientType: Literal["stdio"] = "stdio"


@dataclass
class SseMcpConnection:
    """A server reached over HTTP with server-sent events (MCP's older HTTP transport)."""

    name: str
    url: str
    headers: dict[str, str] | None = None
    clientType: Literal["sse"] = "sse"


@dataclass
class HttpMcpConnection:
    """A server reached over MCP's streamable HTTP transport."""

    name: str
    url: str
    headers: dict[str, str] | None = None
    clientType: Literal["streamable-http"] = "streamable-http"


McpConnection = StdioMcpConnection | SseMcpConnection | HttpMcpConnection


def _result_text(result: Any) -> str:
    """A tool result as a step shows it: its text blocks, else its structured content."""
    texts = [block.text for block in getattr(result, "content", None) or []
             if getattr(block, "type", None) == "text"]
    if texts:
        return "\n".join(texts)
    structured = getattr(result, "structured_content", None)
    if structured is not None:
        return json.dumps(structured, indent=2, ensure_ascii=False, default=str)
    blocks = [b.model_dump(mode="json", exclude_none=True) for b in result.content]
    return json.dumps(blocks, indent=2, ensure_ascii=False) if blocks else ""


class StepClientSession(ClientSession):
    """An `mcp.ClientSession` whose `call_tool`, called inside a chat, shows the call as a
    `tool` step named after the tool: the arguments as input, the result as output, an
    `is_error` result or an exception as a failed step."""

    tool_steps = True

    async def call_tool(self, name: str, arguments: dict[str, Any] | None = None,
                        *args: Any, **kwargs: Any) -> Any:
        if not self.tool_steps or current_session.get() is None:
            return await super().call_tool(name, arguments, *args, **kwargs)
        async with Step(name=name, type="tool", language="json") as step:
            step.input = arguments or {}
            result = await super().call_tool(name, arguments, *args, **kwargs)
            step.output = _result_text(result)
            if getattr(result, "is_error", False):
                step.is_error = True
        return result


class McpLink:
    """One connection's owner task: it opens the transport and the ClientSession, then
    holds them until `aclose()` (or until the server goes away: `on_lost` is called).
    In `mcp_sessions` it stands where Chainlit keeps an AsyncExitStack: `aclose()` closes."""

    def __init__(self, connection: McpConnection, *, tool_steps: bool = True) -> None:
        self.connection = connection
        self.tool_steps = tool_steps
        self.ready: asyncio.Future[StepClientSession] = (
            asyncio.get_running_loop().create_future())
        # A failure nobody waits for any more (the connect was stopped) is not logged.
        self.ready.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._closing = asyncio.Event()
        self._errlog: Any = None
        self.stderr = ""  # a stdio server's last words, once it has exited
        self.on_lost: Any = None  # called with the exception when the server goes away
        self.task: asyncio.Task[None] = asyncio.get_running_loop().create_task(
            self._run(), name=f"nbchat mcp {connection.name}")

    async def _transport(self, stack: contextlib.AsyncExitStack) -> tuple[Any, Any]:
        conn = self.connection
        if isinstance(conn, StdioMcpConnection):
            # Its stderr goes to a file, read back if it fails to start: a notebook's
            # sys.stderr has no file descriptor for a child process to write to.
            errlog = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
            self._errlog = stack.enter_context(errlog)
            stack.callback(self._keep_stderr)
            params = StdioServerParameters(command=conn.command, args=list(conn.args))
            return await stack.enter_async_context(stdio_client(params, errlog=self._errlog))
        if isinstance(conn, SseMcpConnection):
            return await stack.enter_async_context(sse_client(conn.url,
                                                              headers=conn.headers or None))
        client = await stack.enter_async_context(
            create_mcp_http_client(headers=conn.headers or None))
        return await stack.enter_async_context(
            streamable_http_client(conn.url, http_client=client))

    async def _run(self) -> None:
        try:
            # The SDK imports jsonschema on the first call_tool of a tool with an output
            # schema: seconds (its URI grammars are compiled at import) that would block
            # the chat's event loop. Imported here in a thread instead, once per process.
            await asyncio.to_thread(importlib.import_module, "jsonschema.validators")
            async with contextlib.AsyncExitStack() as stack:
                read, write = await self._transport(stack)
                session = await stack.enter_async_context(
                    StepClientSession(read, write, client_info=CLIENT_INFO))
                session.tool_steps = self.tool_steps
                await session.initialize()
                self.ready.set_result(session)
                await self._closing.wait()
        except BaseException as exc:
            if not self.ready.done():
                if not isinstance(exc, Exception):
                    self.ready.cancel()
                    raise
                self.ready.set_exception(exc)
                return
            if self._closing.is_set():
                if isinstance(exc, Exception):
                    log.debug("nbchat: closing MCP server %r: %s", self.connection.name, exc)
                    return
                raise
            log.warning("nbchat: the MCP server %r went away: %s", self.connection.name, exc)
            if self.on_lost is not None:
                self.on_lost(exc)
            if not isinstance(exc, Exception):
                raise

    def _keep_stderr(self, limit: int = 1500) -> None:
        """Keep the last of what a stdio server wrote to stderr (why it did not start)."""
        try:
            self._errlog.seek(0)
            self.stderr = str(self._errlog.read())[-limit:].strip()
        except (OSError, ValueError):
            self.stderr = ""

    async def aclose(self) -> None:
        """Close the session and the transport (a stdio server's process ends)."""
        self._closing.set()
        if not self.ready.done():
            self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def describe_error(exc: BaseException) -> str:
    """A connect failure as one line for the user (anyio wraps them in groups)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
