"""The MCP servers of one chat: the declared ones connected when it starts, the ones the
user adds let through `mcp_guard`, each announced with `mcp_status` and handed to
`@cl.on_mcp_connect`, all closed (after `@cl.on_mcp_disconnect`) when the chat ends."""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import TYPE_CHECKING, Any

from nbchat.config import McpServerConfig
from nbchat.errors import ProtocolError
from nbchat.integrations.mcp import (
    HttpMcpConnection,
    McpConnection,
    McpLink,
    SseMcpConnection,
    StdioMcpConnection,
    describe_error,
)
from nbchat.integrations.mcp_guard import (
    McpRefused,
    check_executable,
    check_headers,
    check_name,
    check_url,
    is_clean_path,
)
from nbchat.protocol import outbound
from nbchat.runtime.callbacks import run_callback

if TYPE_CHECKING:
    from nbchat.runtime.session import ChatSession

log = logging.getLogger("nbchat")
# Names of the user-added servers each chat is connecting to right now.
_connecting: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def declared(name: str, server: McpServerConfig) -> McpConnection:
    """The connection an `mcp.servers` entry describes."""
    if server.type == "stdio":
        if not is_clean_path(server.command):
            raise McpRefused(f"mcp.servers.{name}.command must be the full path of an "
                             f"executable (no shell, no PATH lookup), got {server.command!r}")
        return StdioMcpConnection(name=name, command=server.command, args=list(server.args))
    if not server.url:
        raise McpRefused(f"mcp.servers.{name}.url is missing")
    if server.type == "sse":
        return SseMcpConnection(name=name, url=server.url, headers=dict(server.headers))
    return HttpMcpConnection(name=name, url=server.url, headers=dict(server.headers))


def requested(session: ChatSession, event: Any) -> McpConnection:
    """The connection a user's `mcp_connect` asks for, if the config allows it."""
    config = session.config.mcp
    kind = event["clientType"]
    if not config.enabled:
        raise McpRefused("MCP servers are turned off here (mcp.enabled)")
    if kind not in config.user_servers:
        allowed = ", ".join(config.user_servers) or "none"
        raise McpRefused(f"users may not add {kind} MCP servers here (mcp.user_servers "
                         f"allows: {allowed})")
    name = check_name(event["name"])
    if name in config.servers:
        raise McpRefused(f"{name!r} is a server the app declares; pick another name")
    added = {n for n in session.mcp_sessions if n not in config.servers}
    added |= _connecting.get(session, set())
    if name not in added and len(added) >= config.max_user_servers:
        raise McpRefused(f"this chat has {len(added)} servers of yours already "
                         f"(mcp.max_user_servers); remove one first")
    if kind == "stdio":
        command = check_executable(event.get("command", ""), config.allowed_executables)
        return StdioMcpConnection(name=name, command=command, args=list(event.get("args", [])))
    url = check_url(event.get("url", ""), config.allowed_urls)
    headers = check_headers(event.get("headers", {}))
    if kind == "sse":
        return SseMcpConnection(name=name, url=url, headers=headers)
    return HttpMcpConnection(name=name, url=url, headers=headers)


def user_connect(session: ChatSession, event: Any) -> None:
    """Handle `mcp_connect`: refused at once (an `mcp_refused` error), or connected in a
    task of the chat (its `mcp_status` says how it went)."""
    try:
        connection = requested(session, event)
    except McpRefused as exc:
        raise ProtocolError(str(exc), code="mcp_refused") from None
    connecting = _connecting.setdefault(session, set())
    connecting.add(connection.name)

    async def run() -> None:
        try:
            await connect(session, connection)
        finally:
            connecting.discard(connection.name)

    session.spawn(run())


def _failed(session: ChatSession, connection: McpConnection, why: str) -> None:
    log.warning("nbchat: MCP server %r did not connect: %s", connection.name, why)
    session.emit(outbound.mcp_status(connection.name, connection.clientType, "failed", [],
                                     why))


async def _tool_names(client: Any) -> list[str]:
    try:
        return [tool.name for tool in (await client.list_tools()).tools]
    except Exception as exc:  # a server without tools answers tools/list with an error
        log.info("nbchat: MCP tools/list failed: %s", exc)
        return []


async def connect(session: ChatSession, connection: McpConnection) -> bool:
    """Open `connection` for this chat, put it in `mcp_sessions` and run on_mcp_connect.
    A server that fails (or takes over `mcp.connect_timeout`) gets a `failed` status."""
    name = connection.name
    if name in session.mcp_sessions:
        await disconnect(session, name)
    link = McpLink(connection, tool_steps=session.config.mcp.tool_steps)
    timeout = session.config.mcp.connect_timeout
    try:
        client = await asyncio.wait_for(asyncio.shield(link.ready), timeout)
    except TimeoutError:
        await link.aclose()
        _failed(session, connection, f"no answer within {timeout} s (mcp.connect_timeout)")
        return False
    except asyncio.CancelledError:
        await link.aclose()
        raise
    except Exception as exc:
        await link.aclose()
        detail = f" (its stderr: {link.stderr})" if link.stderr else ""
        _failed(session, connection, describe_error(exc) + detail)
        return False
    if session.closed:
        await link.aclose()
        return False
    session.mcp_sessions[name] = (client, link)
    link.on_lost = lambda exc: _lost(session, link, exc)
    session.emit(outbound.mcp_status(name, connection.clientType, "connected",
                                     await _tool_names(client)))
    await run_callback(session, "on_mcp_connect", connection, client)
    return True


def _lost(session: ChatSession, link: McpLink, exc: BaseException) -> None:
    """The server went away by itself (its process exited, the HTTP server stopped)."""
    name = link.connection.name
    entry = session.mcp_sessions.get(name)
    if entry is None or entry[1] is not link or session.closed:
        return
    del session.mcp_sessions[name]
    _failed(session, link.connection, f"the server went away ({describe_error(exc)})")
    session.spawn(run_callback(session, "on_mcp_disconnect", name, entry[0]))


async def disconnect(session: ChatSession, name: str) -> None:
    """Close one server of this chat: on_mcp_disconnect(name, session), then the link."""
    entry = session.mcp_sessions.pop(name, None)
    if entry is None:
        raise ProtocolError(f"this chat has no MCP server named {name!r}", code="unknown_mcp")
    client, link = entry
    try:
        await run_callback(session, "on_mcp_disconnect", name, client)
    finally:
        await link.aclose()
        if not session.closed:
            session.emit(outbound.mcp_status(name, link.connection.clientType,
                                             "disconnected", []))


async def connect_declared(session: ChatSession) -> None:
    """Connect the servers of `mcp.servers` (together), before the chat's first message
    is handled."""
    config = session.config.mcp
    connections: list[McpConnection] = []
    for name, server in config.servers.items():
        try:
            connections.append(declared(name, server))
        except McpRefused as exc:
            session.emit(outbound.mcp_status(name, server.type, "failed", [], str(exc)))
    async with session.message_lock:
        await asyncio.gather(*(connect(session, c) for c in connections))


async def close_all(session: ChatSession) -> None:
    """The chat ends: close every server it holds."""
    for name in list(session.mcp_sessions):
        try:
            await disconnect(session, name)
        except Exception:
            log.exception("nbchat: closing the MCP server %r failed", name)
