"""A small MCP server built with the SDK, run by the MCP tests as a child process.

    python mcp_server.py stdio          # MCP on stdin/stdout
    python mcp_server.py http [PATH]    # streamable HTTP on 127.0.0.1, a free port
    python mcp_server.py sse            # HTTP + SSE on 127.0.0.1, a free port

Over HTTP it binds the socket itself and prints `PORT <n>` on stdout once it listens, so
the test waits on that line instead of polling. `env` reports what environment variables
it got (the tests check that nothing was injected).
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys

import uvicorn
from mcp.server.mcpserver import MCPServer

server = MCPServer("nbchat-test")


@server.tool()
def add(a: int, b: int) -> str:
    """Add two integers."""
    return str(a + b)


@server.tool()
def shout(text: str) -> str:
    """The text in capitals."""
    return text.upper()


@server.tool()
def env() -> str:
    """The names of the environment variables this process got, sorted."""
    return ",".join(sorted(os.environ))


@server.tool()
def fail(reason: str) -> str:
    """Always raises."""
    raise RuntimeError(reason)


async def serve_http(kind: str, path: str) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    app = (server.streamable_http_app(streamable_http_path=path) if kind == "http"
           else server.sse_app())
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    # Listening before uvicorn runs: a client that connects at once waits in the backlog.
    sock.listen(128)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    await uvicorn.Server(config).serve(sockets=[sock])


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "stdio"
    if kind == "stdio":
        server.run("stdio")
    else:
        asyncio.run(serve_http(kind, sys.argv[2] if len(sys.argv) > 2 else "/mcp"))


if __name__ == "__main__":
    main()
